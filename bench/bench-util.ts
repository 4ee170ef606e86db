import { readFileSync } from 'node:fs';
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

/** Resident set size of a process now, from /proc (Linux), in bytes; 0 once it has gone. */
export function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Samples the resident memory of named processes every 100 ms and keeps each one's peak. */
export class RssPeaks {
  readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => ReadonlyMap<string, number>) {
    this.timer = setInterval(() => this.sample(), 100);
  }

  sample(): void {
    for (const [name, pid] of this.pids()) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rssOf(pid)));
  }

  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}
