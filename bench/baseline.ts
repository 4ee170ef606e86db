import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Side-by-side runs of a benchmark against an earlier version of the gateway (BENCH_BASELINE=<git ref>,
 * e.g. `baseline-v1`): that version's sources are exported from git (`git archive`, so that the
 * repository gets no extra worktree or branch) into $TMPDIR/svu-bench-baseline/<commit>, with this
 * checkout's node_modules linked in, and built there once; later runs reuse the build. The benchmark
 * then alternates rounds of the two versions on the same broker and database server, so that a
 * machine's changing load falls on both, and prints each round, the medians and their ratio.
 */

/** A version of the gateway a benchmark runs: this checkout, or an earlier one built beside it. */
export interface Version {
  readonly name: string;
  /** The directory whose dist/ holds the built gateway. */
  readonly root: string;
}

/** This checkout (the benchmark runs from its dist/bench). */
export const CURRENT: Version = { name: 'current', root: join(__dirname, '../..') };

/** The gateway's entry point (main.js) of a version. */
export function mainOf(version: Version): string {
  return join(version.root, 'dist/apps/gateway/src/main.js');
}

/** The version named by BENCH_BASELINE, built if need be; undefined when the variable is not set. */
export function baselineFromEnv(): Version | undefined {
  const ref = process.env['BENCH_BASELINE'];
  if (ref === undefined || ref === '') return undefined;
  return buildVersion(ref);
}

function buildVersion(ref: string): Version {
  const git = (...args: string[]) => execFileSync('git', ['-C', CURRENT.root, ...args], { encoding: 'utf8' }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  } catch {
    throw new Error(`BENCH_BASELINE: ${ref} names no commit of this repository`);
  }
  const root = join(tmpdir(), 'svu-bench-baseline', commit);
  const built = join(root, 'dist', '.built');
  if (!existsSync(built)) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    process.stderr.write(`building ${ref} (${commit.slice(0, 7)}) in ${root} …\n`);
    execFileSync('sh', ['-c', `git -C "${CURRENT.root}" archive ${commit} | tar -x -C "${root}"`], { stdio: 'inherit' });
    symlinkSync(join(CURRENT.root, 'node_modules'), join(root, 'node_modules'), 'dir');
    const bin = (name: string) => join(CURRENT.root, 'node_modules', '.bin', name);
    execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    writeFileSync(built, `${ref}\n`);
  }
  return { name: `${ref} (${commit.slice(0, 7)})`, root };
}

/**
 * Runs `round` for each version, `rounds` times, alternating which goes first (A B, B A, A B, …) so
 * that neither always runs on a warmer or quieter machine. Returns each version's results in order.
 */
export async function alternate<T>(versions: readonly Version[], rounds: number, round: (version: Version, index: number) => Promise<T>): Promise<Map<Version, T[]>> {
  const results = new Map<Version, T[]>(versions.map((v) => [v, []]));
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? versions : [...versions].reverse();
    for (const version of order) results.get(version)!.push(await round(version, i));
  }
  return results;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * How a figure's rounds of this version (`current`) lie beside the baseline's, beyond the ratio of
 * their medians: the lowest and highest ratio of two rounds that ran next to each other (round i of
 * each; `alternate` runs them back to back), and whether the two sets of rounds overlap at all. A round
 * varies by 10-20 % on a small machine, so a ratio of medians a few per cent from 1 is read with the
 * spread beside it; rounds that do not overlap are a difference no single slow round explains.
 */
export function spreadOf(
  baseline: readonly number[],
  current: readonly number[],
): { low: number; high: number; apart: keyof typeof APART_READS } {
  if (baseline.length === 0 || baseline.length !== current.length) throw new Error('spreadOf needs as many rounds of each version, at least one');
  const ratios = current.map((c, i) => c / baseline[i]!);
  // One round of each always lies apart; that says nothing.
  const apart =
    baseline.length === 1
      ? 'one round each'
      : Math.min(...current) > Math.max(...baseline)
        ? 'current higher'
        : Math.max(...current) < Math.min(...baseline)
          ? 'current lower'
          : 'overlapping';
  return { low: Math.min(...ratios), high: Math.max(...ratios), apart };
}

/** How each answer of spreadOf's `apart` reads in the printed line. */
const APART_READS = {
  'one round each': 'one round each',
  overlapping: 'the rounds overlap',
  'current higher': 'every round of this version above every round of the baseline',
  'current lower': 'every round of this version below every round of the baseline',
} as const;

/** spreadOf as a line's clause: "ratios of rounds next to each other 0.780-1.133, the rounds overlap". */
export function describeSpread(baseline: readonly number[], current: readonly number[]): string {
  const { low, high, apart } = spreadOf(baseline, current);
  return `ratios of rounds next to each other ${low.toFixed(3)}-${high.toFixed(3)}, ${APART_READS[apart]}`;
}

/** Rounds per version in a side-by-side run (BENCH_ROUNDS). */
export function roundsFromEnv(fallback: number): number {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? fallback);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a whole number of at least 1, got ${process.env['BENCH_ROUNDS']}`);
  return rounds;
}
