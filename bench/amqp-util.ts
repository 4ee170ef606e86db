import { connect, type Channel, type ConfirmChannel } from 'amqplib';
import type { DirectoryUnit } from '@svu/directory';
import { CpuAccount } from './bench-util';
import { declareEgressQueue, topologyNames } from '../apps/gateway/src/broker/topology';

/** Unconfirmed messages a benchmark publisher (and the baseline's consumers) may have at once. */
export const WINDOW = 500;

/** Publishes with confirms, at most WINDOW unconfirmed at a time. */
export async function publishAll(channel: ConfirmChannel, exchange: string, key: string, bodies: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += WINDOW) {
    // user_id guest: the benchmarks' connections are guest's, the test sender system's RabbitMQ user.
    for (const body of bodies.slice(i, i + WINDOW)) channel.publish(exchange, key, body, { persistent: true, userId: 'guest' });
    await channel.waitForConfirms();
  }
}

/** Acknowledges everything arriving on `queue`; resolves with the time the `total`-th message came. */
export function countUntil(channel: Channel, queue: string, total: number): Promise<number> {
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

/**
 * The baseline of the broker-bound benchmarks: a raw amqplib two-hop round trip over quorum queues
 * with publisher confirms, the forwarder acknowledging hop 1 only after hop 2 has confirmed (as the
 * gateway does). Returns messages per second, and the CPU seconds spent (this process, RabbitMQ).
 */
export async function rawTwoHop(amqpUrl: string, bodies: readonly Buffer[]): Promise<{ rate: number; cpuSeconds: Map<string, number> }> {
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
  await forwardIn.consume('bench.hop1', (message) => {
    if (message === null) return;
    forwardOut.sendToQueue('bench.hop2', message.content, { persistent: true }, (error) => {
      if (error === null || error === undefined) forwardIn.ack(message);
    });
  });
  const done = countUntil(sink, 'bench.hop2', bodies.length);
  const cpu = new CpuAccount(() => new Map([['publisher, forwarder and consumer', process.pid]]));
  const start = Date.now();
  await publishAll(producer, '', 'bench.hop1', bodies);
  const end = await done;
  const cpuSeconds = cpu.stop();
  await producer.deleteQueue('bench.hop1');
  await producer.deleteQueue('bench.hop2');
  await connection.close();
  return { rate: bodies.length / ((end - start) / 1000), cpuSeconds };
}

/** Declares and binds the queue an AMQP recipient of the gateway reads, as the gateway names it. */
export async function sinkQueue(channel: Channel, unit: DirectoryUnit): Promise<string> {
  const key = (unit.transport as { routingKey: string }).routingKey;
  const names = topologyNames('svu');
  await channel.assertExchange(names.egressExchange, 'direct', { durable: true });
  await declareEgressQueue(names, key, channel);
  return names.egressQueue(key);
}
