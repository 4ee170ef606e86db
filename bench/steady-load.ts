import { Agent, request } from 'node:http';

export interface LoadResult {
  readonly sent: number;
  /** Requests answered 2xx. */
  readonly ok: number;
  /** Requests answered otherwise, or not at all. */
  readonly failed: number;
  /** What the failed ones got: `HTTP <status>` or the socket error's code, with counts. */
  readonly failures: ReadonlyMap<string, number>;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  /** The body of the i-th request. */
  readonly body?: (i: number) => Buffer;
}

/**
 * A steady open-model load: request i is sent at start + i / rate, whether or not earlier ones have
 * been answered, over keep-alive connections; latency is measured from the moment the request was
 * due, so a stalled server cannot hide its stall by slowing the sender (no coordinated omission).
 * Hand-written because autocannon's rate limit works in one-second windows: each connection sends its
 * share of a second back to back at the start of the second, which measures bursts, not a steady rate.
 */
export async function steadyLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const failures = new Map<string, number>();
  const fail = (why: string) => {
    failed += 1;
    failures.set(why, (failures.get(why) ?? 0) + 1);
  };
  const answered: Array<Promise<void>> = [];
  const perSecond: number[][] = [];
  const fire = (i: number, dueAt: number) =>
    new Promise<void>((resolve) => {
      const body = options.body?.(i);
      const req = request(url, { method: options.method ?? 'GET', agent, headers: { ...options.headers, ...(body === undefined ? {} : { 'content-length': body.length }) } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - dueAt);
          (perSecond[Math.floor((dueAt - start) / 1000)] ??= []).push(performance.now() - dueAt);
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) ok += 1;
          else fail(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        fail(error.code ?? error.message);
        resolve();
      });
      req.end(body);
    });
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let i = 0;
    const tick = () => {
      const now = performance.now();
      for (; i < total && start + i * intervalMs <= now; i++) answered.push(fire(i, start + i * intervalMs));
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(answered);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  if (process.env['BENCH_TRACE'] !== undefined) console.log(perSecond.map((l) => Math.round(l.sort((a, b) => a - b)[Math.floor(l.length * 0.99)]!)).join(' '));
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { sent: total, ok, failed, failures, seconds, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? Number.NaN };
}
