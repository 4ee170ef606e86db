import type { Channel, ConfirmChannel } from 'amqplib';

/** Names of the gateway's exchanges and queues, under one prefix. */
export function topologyNames(prefix: string) {
  return {
    ingressExchange: `${prefix}.ingress`,
    ingressQueue: (dialect: string) => `${prefix}.ingress.${dialect}`,
    workExchange: `${prefix}.work`,
    routeQueue: `${prefix}.route`,
    deliverQueue: `${prefix}.deliver`,
    retryExchange: `${prefix}.retry`,
    retryQueue: (level: number) => `${prefix}.retry.${level}`,
    egressExchange: `${prefix}.egress`,
    egressQueue: (routingKey: string) => `${prefix}.egress.${routingKey}`,
    poisonExchange: `${prefix}.poison`,
    poisonQueue: `${prefix}.poison`,
  };
}
export type TopologyNames = ReturnType<typeof topologyNames>;

export const INGRESS_DIALECTS = ['lifecare', 'webcare', 'samsa', 'canonical'] as const;
export type IngressDialect = (typeof INGRESS_DIALECTS)[number];

/**
 * The queues the gateway consumes, by the pattern their handlers subscribe to with `@EventPattern`
 * (the queue's name without the prefix). The transport consumes the queue of every pattern that has
 * a handler in this process, and only those.
 */
export const QUEUE_PATTERNS = {
  route: 'route',
  deliver: 'deliver',
  poison: 'poison',
  ingress: INGRESS_DIALECTS.map((dialect) => `ingress.${dialect}` as const),
} as const;

/** The queue a pattern names, or undefined when the gateway consumes no such queue. */
export function queueOfPattern(names: TopologyNames, pattern: string): string | undefined {
  if (pattern === QUEUE_PATTERNS.route) return names.routeQueue;
  if (pattern === QUEUE_PATTERNS.deliver) return names.deliverQueue;
  if (pattern === QUEUE_PATTERNS.poison) return names.poisonQueue;
  const dialect = INGRESS_DIALECTS.find((d) => pattern === `ingress.${d}`);
  return dialect === undefined ? undefined : names.ingressQueue(dialect);
}

/**
 * A message that makes a handler fail this many times goes to the poison queue instead of looping.
 * With the consumer's growing wait after a failure (up to 30 s) this rides out several minutes of an
 * unreachable store; the sweeper resends any job that is lost to the poison queue anyway.
 */
export const DELIVERY_LIMIT = 20;

/** Retry delays are held in queues of doubling length: level n holds delays up to 100 ms × 2^n. */
export const RETRY_LEVELS = 18;
export function retryLevel(delayMs: number): number {
  return Math.min(RETRY_LEVELS - 1, Math.max(0, Math.ceil(Math.log2(Math.max(1, delayMs / 100)))));
}

const quorum = (extra: Record<string, unknown> = {}) => ({
  durable: true,
  arguments: { 'x-queue-type': 'quorum', ...extra },
});

/** Declares every exchange, queue and binding the gateway uses (idempotent; run on every connect). */
export async function declareTopology(channel: ConfirmChannel, names: TopologyNames): Promise<void> {
  const withPoison = { 'x-delivery-limit': DELIVERY_LIMIT, 'x-dead-letter-exchange': names.poisonExchange };
  await channel.assertExchange(names.poisonExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.poisonQueue, quorum());
  await channel.bindQueue(names.poisonQueue, names.poisonExchange, '');

  await channel.assertExchange(names.ingressExchange, 'direct', { durable: true });
  for (const dialect of INGRESS_DIALECTS) {
    await channel.assertQueue(names.ingressQueue(dialect), quorum(withPoison));
    await channel.bindQueue(names.ingressQueue(dialect), names.ingressExchange, dialect);
  }

  await channel.assertExchange(names.workExchange, 'direct', { durable: true });
  await channel.assertQueue(names.routeQueue, quorum(withPoison));
  await channel.bindQueue(names.routeQueue, names.workExchange, 'route');
  await channel.assertQueue(names.deliverQueue, quorum(withPoison));
  await channel.bindQueue(names.deliverQueue, names.workExchange, 'deliver');

  // Delayed retries: a message waits out its expiration in a retry queue, then is dead-lettered
  // back to the work exchange. At-least-once dead-lettering so that a broker failure loses none.
  await channel.assertExchange(names.retryExchange, 'direct', { durable: true });
  for (let level = 0; level < RETRY_LEVELS; level++) {
    const queue = names.retryQueue(level);
    await channel.assertQueue(
      queue,
      quorum({
        'x-dead-letter-exchange': names.workExchange,
        'x-dead-letter-routing-key': 'deliver',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }),
    );
    await channel.bindQueue(queue, names.retryExchange, String(level));
  }

  await channel.assertExchange(names.egressExchange, 'direct', { durable: true });
}

/** The queue that holds what the gateway delivers to an AMQP recipient until it is consumed. */
export async function declareEgressQueue(names: TopologyNames, routingKey: string, channel: Channel): Promise<void> {
  await channel.assertQueue(names.egressQueue(routingKey), quorum());
  await channel.bindQueue(names.egressQueue(routingKey), names.egressExchange, routingKey);
}
