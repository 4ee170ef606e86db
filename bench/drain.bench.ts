/**
 * npm run bench:drain — backlog drain: 50,000 admissions are taken in and routed while egress is
 * down (their deliver jobs wait in the broker), then the egress process starts: the time from its
 * being ready until the recipient has all 50,000, beside the raw amqplib two-hop round trip of 50,000 messages measured in
 * the same run, and the peak resident memory of every service process throughout.
 */
import { connect } from 'amqplib';
import type { DirectoryUnit } from '@svu/directory';
import { writeMessage } from '@svu/dialects';
import { query, writeDirectory } from '../test/support/gateway-harness';
import { onTimeAdmission } from '../test/support/messages';
import { createTestServices, eventually } from '../test/support/services';
import { countUntil, publishAll, rawTwoHop, sinkQueue } from './amqp-util';
import { fmt, machine, mib, RSS_TARGET, RssPeaks } from './bench-util';
import { ServiceProcesses } from './service-processes';

const COUNT = Number(process.env['BENCH_DRAIN_COUNT'] ?? 50_000);
const TARGET_RATIO = 0.5;

async function main(): Promise<void> {
  const services = await createTestServices('bench_drain');
  const unit: DirectoryUnit = { hsaId: 'SE2120000009-DRAIN', name: 'Kömottagare', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'amqp', routingKey: 'drain-sink' } };
  const processes = new ServiceProcesses(services, writeDirectory([unit]));
  try {
    const messages = Array.from({ length: COUNT }, (_, i) => writeMessage('lifecare', onTimeAdmission([unit], { episodeId: `DRAIN-${i % 10_000}` })));
    console.log(`# bench:drain — ${machine()}`);
    console.log(`${fmt(COUNT)} admissions (lifecare in over AMQP, samsa out over AMQP) queued while egress is down, then egress started\n`);
    const { rate: raw } = await rawTwoHop(services.amqpUrl, messages);

    for (const service of ['ingress', 'router', 'deadlines', 'console'] as const) await processes.start(service);
    const memory = new RssPeaks(() => processes.pids());
    const connection = await connect(services.amqpUrl);
    const producer = await connection.createConfirmChannel();
    const sink = await connection.createChannel();
    await sink.prefetch(500);
    const queue = await sinkQueue(sink, unit);
    const filling = Date.now();
    await publishAll(producer, 'svu.ingress', 'lifecare', messages);
    await eventually(async () => {
      const rows = await query<{ n: string }>(services.databaseUrl, `SELECT count(*) AS n FROM copies WHERE state = 'routed'`);
      return Number(rows[0]!.n) === COUNT ? true : undefined;
    }, 900_000, 'the backlog stored and routed');
    const filled = (Date.now() - filling) / 1000;

    const done = countUntil(sink, queue, COUNT);
    const release = Date.now();
    await processes.start('egress');
    const ready = Date.now();
    const end = await done;
    const peaks = memory.stop();
    await connection.close();

    // The drain is timed from when the egress process is ready; starting it is shown beside.
    const seconds = (end - ready) / 1000;
    const rate = COUNT / seconds;
    const ratio = rate / raw;
    console.log(`backlog taken in and routed with egress down: ${fmt(filled, 1)} s`);
    console.log(`raw amqplib two-hop (quorum, confirms): ${fmt(raw)} msg/s`);
    console.log(`drain once egress is up:                ${fmt(rate)} msg/s (${fmt(seconds, 1)} s; starting the process took ${fmt((ready - release) / 1000, 1)} s more)`);
    console.log(`ratio ${fmt(ratio, 2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'ok' : 'MISSED'})`);
    const worst = Math.max(...peaks.values());
    console.log(`peak RSS per process: ${[...peaks].map(([name, rss]) => `${name} ${mib(rss)}`).join(', ')} (target < 300 MiB: ${worst < RSS_TARGET ? 'ok' : 'MISSED'})`);
    if (ratio < TARGET_RATIO || worst >= RSS_TARGET) process.exitCode = 1;
  } finally {
    processes.stopAll();
    await services.cleanup();
  }
}

void main();
