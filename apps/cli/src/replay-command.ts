import { writeFileSync } from 'node:fs';
import { junitXml } from './replay/junit';
import { replay, type ReplayOptions } from './replay/replay';

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
