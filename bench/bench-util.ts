import { cpus, totalmem } from 'node:os';

/** Messages per second of `work` over `count` calls, after a warm-up. */
export function rate(count: number, work: (i: number) => void): number {
  for (let i = 0; i < Math.min(2_000, count); i++) work(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) work(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return count / seconds;
}

/** Best of several runs, so that a passing hiccup on a shared machine does not decide the figure. */
export function bestRate(runs: number, count: number, work: (i: number) => void): number {
  let best = 0;
  for (let r = 0; r < runs; r++) best = Math.max(best, rate(count, work));
  return best;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20, 1)} MiB`;
}
