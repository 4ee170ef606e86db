/**
 * npm run bench:pipeline — messages end to end through the gateway (AMQP ingress → store → routing and
 * translation → AMQP egress), beside the raw amqplib two-hop round trip (quorum queues, publisher
 * confirms) measured in the same run on the same broker.
 */
import { connect, type Channel, type ConfirmChannel } from 'amqplib';
import type { DirectoryUnit } from '@svu/directory';
import { writeMessage } from '@svu/dialects';
import { gatewayEnv, query, startInProcess, writeDirectory } from '../test/support/gateway-harness';
import { onTimeAdmission } from '../test/support/messages';
import { createTestServices } from '../test/support/services';
import { fmt, machine, mib } from './bench-util';

const COUNT = Number(process.env['BENCH_COUNT'] ?? 20_000);
const WINDOW = 500;
const TARGET_RATIO = 0.5;

/** Publishes with confirms, at most WINDOW unconfirmed at a time. */
async function publishAll(channel: ConfirmChannel, exchange: string, key: string, bodies: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += WINDOW) {
    for (const body of bodies.slice(i, i + WINDOW)) channel.publish(exchange, key, body, { persistent: true });
    await channel.waitForConfirms();
  }
}

function countUntil(channel: Channel, queue: string, total: number): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    void channel.consume(queue, (message) => {
      if (message === null) return;
      channel.ack(message);
      seen += 1;
      if (seen === total) resolve(Date.now());
    });
  });
}

async function rawTwoHop(amqpUrl: string, bodies: readonly Buffer[]): Promise<number> {
  const connection = await connect(amqpUrl);
  const producer = await connection.createConfirmChannel();
  const forwardIn = await connection.createChannel();
  const forwardOut = await connection.createConfirmChannel();
  const sink = await connection.createChannel();
  const args = { durable: true, arguments: { 'x-queue-type': 'quorum' } };
  await producer.assertQueue('bench.hop1', args);
  await producer.assertQueue('bench.hop2', args);
  await forwardIn.prefetch(WINDOW);
  await sink.prefetch(WINDOW);
  // The forwarder acknowledges hop 1 only after hop 2 has confirmed, as the gateway does.
  await forwardIn.consume('bench.hop1', (message) => {
    if (message === null) return;
    forwardOut.sendToQueue('bench.hop2', message.content, { persistent: true }, (error) => {
      if (error === null || error === undefined) forwardIn.ack(message);
    });
  });
  const done = countUntil(sink, 'bench.hop2', bodies.length);
  const start = Date.now();
  await publishAll(producer, '', 'bench.hop1', bodies);
  const end = await done;
  await connection.close();
  return bodies.length / ((end - start) / 1000);
}

async function gatewayRun(amqpUrl: string, databaseUrl: string, messages: readonly Buffer[], unit: DirectoryUnit, directoryPath: string) {
  const gateway = await startInProcess(gatewayEnv({ amqpUrl, databaseUrl, name: 'bench', cleanup: () => Promise.resolve() }, directoryPath, { LOG_LEVEL: 'error', SVU_STALE_AFTER: 'PT60S' }));
  const connection = await connect(amqpUrl);
  const producer = await connection.createConfirmChannel();
  const sink = await connection.createChannel();
  await sink.prefetch(WINDOW);
  const queue = `svu.egress.${(unit.transport as { routingKey: string }).routingKey}`;
  await sink.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await sink.bindQueue(queue, 'svu.egress', (unit.transport as { routingKey: string }).routingKey);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const done = countUntil(sink, queue, messages.length);
  const start = Date.now();
  await publishAll(producer, 'svu.ingress', 'lifecare', messages);
  const end = await done;
  clearInterval(sampler);
  await connection.close();
  await gateway.app.close();
  return { rate: messages.length / ((end - start) / 1000), seconds: (end - start) / 1000, peakRss };
}

async function main(): Promise<void> {
  const services = await createTestServices('bench_pipeline');
  try {
    const unit: DirectoryUnit = { hsaId: 'SE2120000009-BENCH', name: 'Bänkmottagare', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'amqp', routingKey: 'bench-sink' } };
    const directoryPath = writeDirectory([unit]);
    const messages = Array.from({ length: COUNT }, (_, i) => writeMessage('lifecare', onTimeAdmission([unit], { episodeId: `BENCH-${i % 2_000}` })));
    console.log(`# bench:pipeline — ${machine()}`);
    console.log(`${fmt(COUNT)} admissions, lifecare in over AMQP, samsa out over AMQP; one recipient each\n`);
    const raw = await rawTwoHop(services.amqpUrl, messages);
    const ours = await gatewayRun(services.amqpUrl, services.databaseUrl, messages, unit, directoryPath);
    const ratio = ours.rate / raw;
    console.log(`raw amqplib two-hop (quorum, confirms): ${fmt(raw)} msg/s`);
    console.log(`gateway end to end:                     ${fmt(ours.rate)} msg/s (${fmt(ours.seconds, 1)} s)`);
    console.log(`ratio ${fmt(ratio, 2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'ok' : 'MISSED'}); peak RSS of the process ${mib(ours.peakRss)}`);
    const stages = await query<{ stage: string; seconds: number }>(
      services.databaseUrl,
      `SELECT 'stored' AS stage, extract(epoch FROM max(received_at) - min(received_at))::float AS seconds FROM messages
       UNION ALL SELECT state, extract(epoch FROM max(at) - (SELECT min(received_at) FROM messages))::float FROM copy_events WHERE state IN ('routed', 'delivered') GROUP BY state`,
    );
    console.log(`stages, seconds after the first message was stored: ${stages.map((s) => `${s.stage} ${fmt(s.seconds, 2)}`).join(', ')}`);
    if (ratio < TARGET_RATIO) process.exitCode = 1;
  } finally {
    await services.cleanup();
  }
}

void main();
