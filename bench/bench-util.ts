import { readdirSync, readFileSync } from 'node:fs';
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

/** The memory target of every service process (issue 8): resident set under 300 MiB. */
export const RSS_TARGET = 300 * 2 ** 20;

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

/** CPU time (user + system, of the process and its reaped children) in seconds, from /proc (Linux). */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 of proc(5) (utime, stime, cutime, cstime), counted from `state` as field 3.
    return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
  } catch {
    return 0;
  }
}

/** The pids of every process whose command name (/proc/<pid>/comm) is `name`. */
function pidsNamed(name: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/**
 * CPU seconds spent between construction and `stop()` by the named gateway processes and by the
 * machine's PostgreSQL (all `postgres` processes) and RabbitMQ (`beam.smp`), to show where a
 * benchmark's time goes.
 */
export class CpuAccount {
  private readonly start: Map<string, number>;

  constructor(private readonly pids: () => ReadonlyMap<string, number>) {
    this.start = this.read();
  }

  private read(): Map<string, number> {
    const sum = (pids: readonly number[]) => pids.reduce((total, pid) => total + cpuOf(pid), 0);
    return new Map([...[...this.pids()].map(([name, pid]) => [name, cpuOf(pid)] as const), ['PostgreSQL', sum(pidsNamed('postgres'))], ['RabbitMQ', sum(pidsNamed('beam.smp'))]]);
  }

  /** CPU seconds per process name over the span. */
  stop(): Map<string, number> {
    return new Map([...this.read()].map(([name, seconds]) => [name, seconds - (this.start.get(name) ?? 0)]));
  }
}
