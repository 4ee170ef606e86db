/**
 * npm run bench:pipeline — messages end to end through the gateway (AMQP ingress → store → routing and
 * translation → AMQP egress), beside the raw amqplib two-hop round trip (quorum queues, publisher
 * confirms) measured in the same run on the same broker.
 *
 * With BENCH_BASELINE=<git ref> (e.g. `baseline-v1`) it runs that version of the gateway and this one
 * side by side instead, BENCH_ROUNDS rounds each (default 5: a round of the same version varies by
 * 10-20 % on a 2-core machine, more than the 5 % to be judged), alternating which goes first, and
 * prints every round, the medians and their ratio (target: this version within 5 % of the baseline).
 */
import { connect } from 'amqplib';
import type { DirectoryUnit } from '@svu/directory';
import { writeMessage } from '@svu/dialects';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeDirectory } from '../test/support/gateway-harness';
import { onTimeAdmission } from '../test/support/messages';
import { createTestServices, type TestServices } from '../test/support/services';
import { countUntil, publishAll, rawTwoHop, sinkQueue, WINDOW } from './amqp-util';
import { CpuAccount, fmt, machine, mib, RssPeaks } from './bench-util';
import { ServiceProcesses } from './service-processes';
import { writeTestSenders } from '../test/support/senders';
import { alternate, baselineFromEnv, CURRENT, describeSpread, mainOf, median, roundsFromEnv, type Version } from './baseline';

const COUNT = Number(process.env['BENCH_COUNT'] ?? 20_000);
const TARGET_RATIO = 0.5;
const LAYOUTS = (process.env['BENCH_LAYOUT'] === 'one' ? ['one process'] : process.env['BENCH_LAYOUT'] === 'separate' ? ['separate processes'] : ['one process', 'separate processes']) as Layout[];

type Layout = 'one process' | 'separate processes';

/** Publishes `messages` into AMQP ingress and times until the recipient's queue has them all. */
async function endToEnd(services: TestServices, unit: DirectoryUnit, messages: readonly Buffer[], pids: () => ReadonlyMap<string, number>) {
  const connection = await connect(services.amqpUrl);
  const producer = await connection.createConfirmChannel();
  const sink = await connection.createChannel();
  await sink.prefetch(WINDOW);
  const queue = await sinkQueue(sink, unit);
  const memory = new RssPeaks(pids);
  const done = countUntil(sink, queue, messages.length);
  // The benchmark's own publisher and recipient count too, as they do in the baseline.
  const cpu = new CpuAccount(() => (new Set(pids().values()).has(process.pid) ? pids() : new Map([...pids(), ['publisher and recipient', process.pid]])));
  const start = Date.now();
  await publishAll(producer, 'svu.ingress', 'lifecare', messages);
  const end = await done;
  const cpuSeconds = cpu.stop();
  const peaks = memory.stop();
  await connection.close();
  return { rate: messages.length / ((end - start) / 1000), seconds: (end - start) / 1000, peaks, cpuSeconds };
}

/** A version's own startGateway and loadConfig (its build, loaded into this process). */
function entryPoints(version: Version) {
  const load = createRequire(__filename);
  const main = load(mainOf(version)) as typeof import('../apps/gateway/src/main');
  const config = load(join(version.root, 'dist/apps/gateway/src/config/gateway-config.js')) as typeof import('../apps/gateway/src/config/gateway-config');
  return { startGateway: main.startGateway, loadConfig: config.loadConfig };
}

/**
 * One run on its own vhost and database, with the gateway's default settings (log level error), and
 * (unless `raw` is false) the raw two-hop baseline right after it.
 */
/** Settings passed through to this version of the gateway (SVU_AMQP_IN_FLIGHT, SVU_RECIPIENT_IN_FLIGHT), to compare tunings. */
const tuning = (version: Version): Record<string, string> =>
  version.name !== CURRENT.name ? {} : Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^SVU_(AMQP|RECIPIENT)_IN_FLIGHT$/.test(e[0]) && e[1] !== undefined));

async function run(layout: Layout, unit: DirectoryUnit, version: Version = CURRENT, raw = true) {
  const services = await createTestServices('bench_pipeline');
  const directoryPath = writeDirectory([unit]);
  const messages = Array.from({ length: COUNT }, (_, i) => writeMessage('lifecare', onTimeAdmission([unit], { episodeId: `BENCH-${i % 2_000}` })));
  try {
    const rawTwoHopOf = async () => (raw ? await rawTwoHop(services.amqpUrl, messages) : undefined);
    if (layout === 'one process') {
      const { startGateway, loadConfig } = entryPoints(version);
      const config = loadConfig({ AMQP_URL: services.amqpUrl, DATABASE_URL: services.databaseUrl, SVU_DIRECTORY: directoryPath, SVU_SENDERS: writeTestSenders(directoryPath), PORT: '0', LOG_LEVEL: 'error', ...tuning(version) });
      const app = await startGateway(config);
      try {
        // The publisher and the recipient's consumer run in this process too.
        return { ...(await endToEnd(services, unit, messages, () => new Map([['gateway and benchmark', process.pid]]))), raw: await rawTwoHopOf() };
      } finally {
        await app.close();
      }
    }
    const processes = new ServiceProcesses(services, directoryPath, { LOG_LEVEL: 'error', ...tuning(version) }, mainOf(version));
    try {
      for (const service of ['ingress', 'router', 'egress'] as const) await processes.start(service);
      return { ...(await endToEnd(services, unit, messages, () => processes.pids())), raw: await rawTwoHopOf() };
    } finally {
      processes.stopAll();
    }
  } finally {
    await services.cleanup();
  }
}

const UNIT: DirectoryUnit = { hsaId: 'SE2120000009-BENCH', name: 'Bänkmottagare', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'amqp', routingKey: 'bench-sink' } };

/** The processes' CPU per message (the gateway's own processes, without the benchmark's publisher, PostgreSQL and RabbitMQ), in µs. */
function gatewayCpuPerMessage(cpu: ReadonlyMap<string, number>): number {
  const ours = [...cpu].filter(([name]) => name !== 'PostgreSQL' && name !== 'RabbitMQ' && name !== 'publisher and recipient');
  return (ours.reduce((total, [, seconds]) => total + seconds, 0) / COUNT) * 1e6;
}

type RunResult = Awaited<ReturnType<typeof endToEnd>>;

/**
 * One run in a benchmark process of its own (this file, with BENCH_ONE_RUN), so that two versions
 * never share a process: in the one-process layout the gateway runs inside the benchmark's process,
 * where the version that ran before would leave its code and heap behind.
 */
function runIsolated(layout: Layout, version: Version): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', __filename], {
      env: { ...process.env, BENCH_BASELINE: '', BENCH_ONE_RUN: JSON.stringify({ layout, version }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`the ${version.name} run ended with ${code}: ${out}`));
      const r = JSON.parse(line) as { rate: number; seconds: number; peaks: Array<[string, number]>; cpuSeconds: Array<[string, number]> };
      resolve({ rate: r.rate, seconds: r.seconds, peaks: new Map(r.peaks), cpuSeconds: new Map(r.cpuSeconds) });
    });
  });
}

/** This version beside `baseline`, round after round. */
async function sideBySide(baseline: Version): Promise<void> {
  const rounds = roundsFromEnv(5);
  console.log(`# bench:pipeline, ${baseline.name} beside this version — ${machine()}`);
  console.log(`${fmt(COUNT)} admissions per round, lifecare in over AMQP, samsa out over AMQP; ${rounds} rounds each, alternating which version goes first\n`);
  let worst = Number.POSITIVE_INFINITY;
  for (const layout of LAYOUTS) {
    console.log(`${layout}:`);
    const results = await alternate([baseline, CURRENT], rounds, async (version, i) => {
      const result = await runIsolated(layout, version);
      console.log(`  round ${i + 1}, ${version.name}: ${fmt(result.rate)} msg/s (${fmt(result.seconds, 1)} s), gateway CPU ${fmt(gatewayCpuPerMessage(result.cpuSeconds))} µs per message`);
      return result;
    });
    const rate = (version: Version) => median(results.get(version)!.map((r) => r.rate));
    const cpu = (version: Version) => median(results.get(version)!.map((r) => gatewayCpuPerMessage(r.cpuSeconds)));
    const ratio = rate(CURRENT) / rate(baseline);
    worst = Math.min(worst, ratio);
    console.log(`  median: ${baseline.name} ${fmt(rate(baseline))} msg/s, this version ${fmt(rate(CURRENT))} msg/s, ratio ${fmt(ratio, 3)}; gateway CPU per message ${fmt(cpu(baseline))} → ${fmt(cpu(CURRENT))} µs (ratio ${fmt(cpu(CURRENT) / cpu(baseline), 3)})`);
    console.log(`  msg/s: ${describeSpread(results.get(baseline)!.map((r) => r.rate), results.get(CURRENT)!.map((r) => r.rate))}`);
  }
  console.log(`worst ratio of medians ${fmt(worst, 3)} (target ≥ 0.95: ${worst >= 0.95 ? 'ok' : 'MISSED'})`);
  if (worst < 0.95) process.exitCode = 1;
}

async function main(): Promise<void> {
  const oneRun = process.env['BENCH_ONE_RUN'];
  if (oneRun !== undefined && oneRun !== '') {
    const { layout, version } = JSON.parse(oneRun) as { layout: Layout; version: Version };
    const r = await run(layout, UNIT, version, false);
    console.log(JSON.stringify({ rate: r.rate, seconds: r.seconds, peaks: [...r.peaks], cpuSeconds: [...r.cpuSeconds] }));
    return;
  }
  const baseline = baselineFromEnv();
  if (baseline !== undefined) return sideBySide(baseline);
  const unit = UNIT;
  console.log(`# bench:pipeline — ${machine()}`);
  console.log(`${fmt(COUNT)} admissions, lifecare in over AMQP, samsa out over AMQP; one recipient each; the baseline right after each run, on the same broker\n`);
  let best = 0;
  for (const layout of LAYOUTS) {
    const result = await run(layout, unit);
    if (result.raw === undefined) throw new Error('no raw two-hop run');
    const ratio = result.rate / result.raw.rate;
    best = Math.max(best, ratio);
    console.log(`${layout}: gateway ${fmt(result.rate)} msg/s (${fmt(result.seconds, 1)} s), raw amqplib two-hop ${fmt(result.raw.rate)} msg/s, ratio ${fmt(ratio, 2)}`);
    console.log(`  peak RSS: ${[...result.peaks].map(([name, rss]) => `${name} ${mib(rss)}`).join(', ')}`);
    const perMessage = (cpu: ReadonlyMap<string, number>) => {
      const total = [...cpu.values()].reduce((a, b) => a + b, 0);
      return `${[...cpu].map(([name, seconds]) => `${name} ${fmt((seconds / COUNT) * 1e6)}`).join(', ')}; in all ${fmt((total / COUNT) * 1e6)} µs`;
    };
    console.log(`  CPU per message, gateway: ${perMessage(result.cpuSeconds)}`);
    console.log(`  CPU per message, raw two-hop: ${perMessage(result.raw.cpuSeconds)}`);
  }
  console.log(`best ratio ${fmt(best, 2)} (target ≥ ${TARGET_RATIO}: ${best >= TARGET_RATIO ? 'ok' : 'MISSED'})`);
  if (best < TARGET_RATIO) process.exitCode = 1;
}

void main();
