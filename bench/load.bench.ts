/**
 * npm run bench:load — HTTP ingress under a steady 500 requests per second for 60 s (an open-model
 * load against localhost, see steady-load.ts): latency p50/p99 of `POST /ingress/lifecare` beside the same load on the same
 * process's `GET /health/live` in the same run, and the peak resident memory of every service
 * process (each service runs as its own process, with the default settings). BENCH_LOAD_RATE and
 * BENCH_LOAD_SECONDS change the load; BENCH_TRACE=1 prints the p99 of every second.
 *
 * With BENCH_BASELINE=<git ref> (e.g. `baseline-v1`) it runs that version of the gateway and this one
 * side by side instead (without the /health/live runs), BENCH_ROUNDS rounds each (default 5),
 * alternating which goes first, each round on its own vhost and database, and prints every round, the
 * medians and their ratios (target: this version's p50 and p99 within 5 % of the baseline's).
 */
import type { DirectoryUnit } from '@svu/directory';
import { writeMessage } from '@svu/dialects';
import { SERVICE_NAMES } from '../apps/gateway/src/config/gateway-config';
import { query, writeDirectory } from '../test/support/gateway-harness';
import { onTimeAdmission } from '../test/support/messages';
import { createTestServices, eventually } from '../test/support/services';
import { connect } from 'amqplib';
import { countUntil, sinkQueue } from './amqp-util';
import { alternate, baselineFromEnv, CURRENT, describeSpread, mainOf, median, roundsFromEnv, type Version } from './baseline';
import { CpuAccount, fmt, machine, mib, RSS_TARGET, RssPeaks } from './bench-util';
import { ServiceProcesses } from './service-processes';
import { steadyLoad, type LoadResult } from './steady-load';
import { TEST_SENDER_KEY } from '../test/support/senders';

const RATE = Number(process.env['BENCH_LOAD_RATE'] ?? 500);
const SECONDS = Number(process.env['BENCH_LOAD_SECONDS'] ?? 60);
/** Seconds of the same load before measuring, so that start-up (JIT, connection pools) is not measured. */
const WARM_UP_SECONDS = 5;
const P99_TARGET_MS = 50;
/**
 * Each service in its own process (the default here: on a small machine one Node process running every
 * service is the bottleneck), or `npm start`'s layout with BENCH_LOAD_LAYOUT=one.
 */
const LAYOUT = process.env['BENCH_LOAD_LAYOUT'] === 'one' ? 'one process' : 'separate processes';
const UNIT: DirectoryUnit = { hsaId: 'SE2120000009-LOAD', name: 'Lastmottagare', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'amqp', routingKey: 'load-sink' } };

interface Measured {
  readonly health: LoadResult | undefined;
  readonly ingress: LoadResult;
  readonly cpuSeconds: Map<string, number>;
  readonly peaks: Map<string, number>;
  readonly accepted: number;
}

/** One run of a version on its own vhost and database: the load, then until everything accepted is delivered. */
async function measure(version: Version, withHealth: boolean): Promise<Measured> {
  const services = await createTestServices('bench_load');
  const processes = new ServiceProcesses(services, writeDirectory([UNIT]), {}, mainOf(version));
  try {
    const all = 'ingress,router,egress,deadlines,console';
    if (LAYOUT === 'one process') await processes.start(all);
    else for (const service of SERVICE_NAMES) await processes.start(service);
    const port = processes.ports.get(LAYOUT === 'one process' ? all : 'ingress')!;

    const total = RATE * (SECONDS + WARM_UP_SECONDS);
    const bodies = Array.from({ length: total }, (_, i) => writeMessage('lifecare', onTimeAdmission([UNIT], { episodeId: `LOAD-${i % 5_000}` })));
    const connection = await connect(services.amqpUrl);
    const sink = await connection.createChannel();
    await sink.prefetch(500);
    void countUntil(sink, await sinkQueue(sink, UNIT), Number.MAX_SAFE_INTEGER);

    const memory = new RssPeaks(() => processes.pids());
    const post = (seconds: number, first: number) =>
      steadyLoad(`http://127.0.0.1:${port}/ingress/lifecare`, {
        rate: RATE,
        seconds,
        method: 'POST',
        headers: { 'content-type': 'application/xml', authorization: `Bearer ${TEST_SENDER_KEY}` },
        body: (i) => bodies[first + i]!,
      });
    // Every round starts its load right after a checkpoint, so that no timed checkpoint (its flush,
    // and the full-page writes after it) falls into one version's round and not the other's.
    await query(services.databaseUrl, 'CHECKPOINT');
    let health: LoadResult | undefined;
    if (withHealth) {
      await steadyLoad(`http://127.0.0.1:${port}/health/live`, { rate: RATE, seconds: WARM_UP_SECONDS });
      health = await steadyLoad(`http://127.0.0.1:${port}/health/live`, { rate: RATE, seconds: SECONDS });
    }
    const warmUp = await post(WARM_UP_SECONDS, 0);
    const cpu = new CpuAccount(() => new Map([...processes.pids(), ['load generator and recipient', process.pid]]));
    const ingress = await post(SECONDS, warmUp.sent);
    const cpuSeconds = cpu.stop();
    // Everything accepted is delivered too, before memory sampling ends.
    const accepted = warmUp.ok + ingress.ok;
    await eventually(async () => {
      const rows = await query<{ n: string }>(services.databaseUrl, `SELECT count(*) AS n FROM copies WHERE state = 'delivered'`);
      return Number(rows[0]!.n) >= accepted ? true : undefined;
    }, 300_000, 'every accepted message delivered');
    const peaks = memory.stop();
    await connection.close();
    return { health, ingress, cpuSeconds, peaks, accepted };
  } finally {
    processes.stopAll();
    await services.cleanup();
  }
}

/** CPU of the gateway's processes during the measured load, % of one core. */
function gatewayCpuPercent(m: Measured): number {
  const ours = [...m.cpuSeconds].filter(([name]) => name !== 'PostgreSQL' && name !== 'RabbitMQ' && name !== 'load generator and recipient');
  return (ours.reduce((total, [, seconds]) => total + seconds, 0) / m.ingress.seconds) * 100;
}

/** Each process's CPU during the measured load, % of one core. */
function cpuBreakdown(m: Pick<Measured, 'cpuSeconds' | 'ingress'>): string {
  return [...m.cpuSeconds].map(([name, seconds]) => `${name} ${fmt((seconds / m.ingress.seconds) * 100)}`).join(', ');
}

async function sideBySide(baseline: Version): Promise<void> {
  const rounds = roundsFromEnv(5);
  console.log(`# bench:load, ${baseline.name} beside this version — ${machine()}`);
  console.log(`${fmt(RATE)} requests/s, evenly spaced, for ${SECONDS} s after ${WARM_UP_SECONDS} s of warm-up; ${LAYOUT}; ${rounds} rounds each, alternating which version goes first\n`);
  const results = await alternate([baseline, CURRENT], rounds, async (version, i) => {
    const m = await measure(version, false);
    const r = m.ingress;
    console.log(`round ${i + 1}, ${version.name}: ${fmt(r.sent / r.seconds)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, max ${fmt(r.max, 1)} ms, not 2xx ${fmt(r.failed)}; gateway CPU ${fmt(gatewayCpuPercent(m))} % of a core; peak RSS ${mib(Math.max(...m.peaks.values()))}`);
    console.log(`  CPU, % of a core: ${cpuBreakdown(m)}`);
    return m;
  });
  const med = (version: Version, pick: (m: Measured) => number) => median(results.get(version)!.map(pick));
  const row = (what: string, pick: (m: Measured) => number, digits: number) =>
    `| ${what} | ${fmt(med(baseline, pick), digits)} | ${fmt(med(CURRENT, pick), digits)} | ${fmt(med(CURRENT, pick) / med(baseline, pick), 3)} |`;
  console.log(`\n| median of ${rounds} | ${baseline.name} | this version | ratio |`);
  console.log('|---|---:|---:|---:|');
  console.log(row('req/s', (m) => m.ingress.sent / m.ingress.seconds, 0));
  console.log(row('p50 ms', (m) => m.ingress.p50, 1));
  console.log(row('p99 ms', (m) => m.ingress.p99, 1));
  console.log(row('gateway CPU, % of a core', gatewayCpuPercent, 0));
  const p50 = med(CURRENT, (m) => m.ingress.p50) / med(baseline, (m) => m.ingress.p50);
  const p99 = med(CURRENT, (m) => m.ingress.p99) / med(baseline, (m) => m.ingress.p99);
  const failed = [...results.values()].flat().reduce((n, m) => n + m.ingress.failed, 0);
  const ok = p50 <= 1.05 && p99 <= 1.05 && failed === 0;
  const each = (version: Version, pick: (m: Measured) => number) => results.get(version)!.map(pick);
  console.log(`\np50: ${describeSpread(each(baseline, (m) => m.ingress.p50), each(CURRENT, (m) => m.ingress.p50))}`);
  console.log(`p99: ${describeSpread(each(baseline, (m) => m.ingress.p99), each(CURRENT, (m) => m.ingress.p99))}`);
  console.log(`\np50 ratio ${fmt(p50, 3)}, p99 ratio ${fmt(p99, 3)}, ${fmt(failed)} not 2xx (target: ratios ≤ 1.05, none refused: ${ok ? 'ok' : 'MISSED'})`);
  if (!ok) process.exitCode = 1;
}

async function main(): Promise<void> {
  const baseline = baselineFromEnv();
  if (baseline !== undefined) return sideBySide(baseline);
  console.log(`# bench:load — ${machine()}`);
  console.log(`${fmt(RATE)} requests/s, evenly spaced, for ${SECONDS} s after ${WARM_UP_SECONDS} s of warm-up; ${LAYOUT}: ${SERVICE_NAMES.join(', ')}\n`);
  const { health, ingress, cpuSeconds, peaks, accepted } = await measure(CURRENT, true);
  const row = (name: string, r: LoadResult) => `| ${name} | ${fmt(r.sent / r.seconds)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${fmt(r.failed)} |`;
  console.log('| | req/s | p50 ms | p99 ms | max ms | not 2xx |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(row('baseline: GET /health/live', health!));
  console.log(row('POST /ingress/lifecare (admission)', ingress));
  if (ingress.failed > 0) console.log(`\nnot 2xx: ${[...ingress.failures].map(([why, n]) => `${n} × ${why}`).join(', ')}`);
  console.log(`\nCPU during the measured load, % of one core: ${cpuBreakdown({ cpuSeconds, ingress })}`);
  console.log(`ingress p99 ${fmt(ingress.p99, 1)} ms (target < ${P99_TARGET_MS} ms: ${ingress.p99 < P99_TARGET_MS ? 'ok' : 'MISSED'}); ${fmt(accepted)} accepted and delivered`);
  const worst = Math.max(...peaks.values());
  console.log(`peak RSS per process: ${[...peaks].map(([name, rss]) => `${name} ${mib(rss)}`).join(', ')} (target < 300 MiB: ${worst < RSS_TARGET ? 'ok' : 'MISSED'})`);
  if (ingress.p99 >= P99_TARGET_MS || worst >= RSS_TARGET || ingress.failed > 0) process.exitCode = 1;
}

void main();
