import { writeFileSync } from 'node:fs';
import { parseDirectory } from '@svu/directory';
import { formatProblem } from '@svu/canonical';
import { checkFixtureSet } from './replay/check';
import { junitXml } from './replay/junit';
import { replay, type ReplayOptions } from './replay/replay';
import { readUnitDirectoryText } from './unit-directory';

export interface ReplayCommandOptions extends Omit<ReplayOptions, 'out'> {
  readonly junit?: string;
}

/** `svu replay`: runs the sets, prints failures with field diffs and a summary, writes JUnit XML; exit 1 on any failure. */
export async function runReplay(dirs: readonly string[], options: ReplayCommandOptions): Promise<number> {
  const results = await replay(dirs, { ...options, out: process.stdout });
  const failed = results.filter((r) => r.failure !== undefined);
  for (const f of failed) {
    process.stdout.write(`\nFAIL ${f.suite} › ${f.name}\n  ${f.failure!.message}\n${f.failure!.details.split('\n').map((l) => `    ${l}`).join('\n')}\n`);
  }
  process.stdout.write(`\n${results.length - failed.length} passed, ${failed.length} failed\n`);
  if (options.junit !== undefined) writeFileSync(options.junit, junitXml(results));
  return failed.length === 0 ? 0 : 1;
}

/** `svu replay --check DIR…`: one line per problem on standard error, then a summary; exit 0 when none. */
export function runReplayCheck(dirs: readonly string[], directoryPath: string): number {
  let text: string;
  try {
    text = readUnitDirectoryText(directoryPath);
  } catch (error) {
    process.stderr.write(`svu: ${(error as Error).message}\n`);
    return 1;
  }
  const parsed = parseDirectory(text);
  if (!parsed.ok) {
    for (const p of parsed.problems) process.stderr.write(`${directoryPath}: ${formatProblem(p)}\n`);
    return 1;
  }
  let count = 0;
  for (const dir of dirs) {
    const problems = checkFixtureSet(dir, parsed.value);
    for (const line of problems) process.stderr.write(`${line}\n`);
    process.stdout.write(`${dir}: ${problems.length === 0 ? 'ok' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`}\n`);
    count += problems.length;
  }
  process.stdout.write(`${dirs.length} fixture set${dirs.length === 1 ? '' : 's'} checked, ${count} problem${count === 1 ? '' : 's'}\n`);
  return count === 0 ? 0 : 1;
}
