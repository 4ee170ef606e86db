import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { declareEgressQueue, declareTopology, topologyNames, type TopologyNames } from './topology';

/**
 * What becomes of each message of a batch, in the same order: acknowledged (its work is committed),
 * handed back to the queue (it comes again; the queue's delivery limit sends one that keeps coming
 * back to the poison queue), or dead-lettered at once (rejected: the queue's dead-letter exchange
 * takes it to the poison queue, where it is kept as a dead letter).
 */
export type Disposition = 'ack' | 'requeue' | 'dead-letter';

export interface ConsumeOptions {
  readonly prefetch: number;
  /** Largest batch handed to the handler at once. */
  readonly batchSize: number;
  /** How long a partial batch waits for more messages. */
  readonly batchWaitMs: number;
  /** Batches handled at the same time (handlers must be safe for that). */
  readonly concurrency: number;
}

/**
 * The gateway's RabbitMQ link, a thin layer over amqplib (through amqp-connection-manager, which
 * reconnects and re-declares after a broker restart). Publishing waits for the publisher confirm;
 * consumers acknowledge by hand, after their work is committed, and take messages in batches so
 * that one database transaction serves many messages.
 */
@Injectable()
export class Broker implements OnModuleDestroy {
  private readonly logger = new Logger(Broker.name);
  readonly names: TopologyNames;
  private connection: AmqpConnectionManager | undefined;
  private publisher: ChannelWrapper | undefined;
  private readonly consumers: ChannelWrapper[] = [];
  private readonly egressKeys = new Set<string>();
  private stopping = false;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.names = topologyNames(config.topologyPrefix);
  }

  /** Connects, declares the topology and waits until the broker has confirmed it. */
  async start(): Promise<void> {
    this.connection = amqp.connect([...this.config.amqpUrls], { heartbeatIntervalInSeconds: 5, reconnectTimeInSeconds: 1 });
    this.connection.on('disconnect', ({ err }) => this.logger.warn({ err: err?.message }, 'broker connection lost'));
    this.connection.on('connect', () => this.logger.log('broker connected'));
    this.publisher = this.connection.createChannel({
      confirm: true,
      publishTimeout: this.config.deliveryTimeoutMs,
      setup: async (channel: ConfirmChannel) => {
        await declareTopology(channel, this.names);
        for (const key of this.egressKeys) await declareEgressQueue(this.names, key, channel);
      },
    });
    await this.publisher.waitForConnect();
  }

  isConnected(): boolean {
    return this.connection?.isConnected() ?? false;
  }

  /** Publishes persistently and resolves once the broker has confirmed the message. */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}): Promise<void> {
    if (this.publisher === undefined) throw new Error('broker not started');
    await this.publisher.publish(exchange, routingKey, content, { persistent: true, ...options });
  }

  /** Makes sure the queue for an AMQP recipient's routing key exists and stays declared after reconnects. */
  async ensureEgressQueue(routingKey: string): Promise<void> {
    if (this.egressKeys.has(routingKey) || this.publisher === undefined) return;
    this.egressKeys.add(routingKey);
    await this.publisher.addSetup((channel: ConfirmChannel) => declareEgressQueue(this.names, routingKey, channel));
  }

  /**
   * Consumes a queue in batches; each message is acknowledged, requeued or dead-lettered as the
   * handler says. A handler that throws has its whole batch requeued after a pause that grows with
   * each failure in a row, so that an unreachable store neither spins nor uses up the delivery limit.
   */
  async consume(
    queue: string,
    options: ConsumeOptions,
    handle: (messages: readonly ConsumeMessage[]) => Promise<readonly Disposition[]>,
  ): Promise<void> {
    if (this.connection === undefined) throw new Error('broker not started');
    // Each message is acknowledged on the channel it came on. After a reconnect the wrapper has a new
    // channel on which the old delivery tags mean nothing: acknowledging one there makes the broker
    // close the channel (406 unknown delivery tag), which hands back everything in flight again.
    // The broker has already requeued what was unacknowledged on the old channel, so such acks are
    // left out.
    const received = new WeakMap<ConsumeMessage, Channel>();
    let current: Channel | undefined;
    let pending: ConsumeMessage[] = [];
    let timer: NodeJS.Timeout | undefined;
    const ready: ConsumeMessage[][] = [];
    let inFlight = 0;

    let failuresInARow = 0;
    const run = async (batch: ConsumeMessage[]) => {
      let dispositions: readonly Disposition[];
      try {
        dispositions = await handle(batch);
        failuresInARow = 0;
      } catch (error) {
        // Usually the store is unreachable: wait before handing the batch back, longer each time, so
        // that an outage neither spins nor uses up the delivery limit within seconds.
        failuresInARow += 1;
        const waitMs = Math.min(30_000, 500 * 2 ** Math.min(failuresInARow - 1, 6));
        this.logger.error({ queue, err: (error as Error).message, count: batch.length, retryInMs: waitMs }, 'batch failed; requeued');
        if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, waitMs));
        dispositions = batch.map(() => 'requeue');
      }
      batch.forEach((message, i) => {
        const channel = received.get(message);
        if (channel === undefined || channel !== current) return;
        try {
          const disposition = dispositions[i];
          if (disposition === 'ack') channel.ack(message);
          else channel.nack(message, false, disposition !== 'dead-letter');
        } catch {
          // The channel closed under us: the broker redelivers, and handlers are idempotent.
        }
      });
    };
    const pump = () => {
      while (inFlight < options.concurrency && ready.length > 0) {
        const batch = ready.shift()!;
        inFlight += 1;
        void run(batch).finally(() => {
          inFlight -= 1;
          pump();
        });
      }
    };
    const flush = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (pending.length === 0) return;
      ready.push(pending);
      pending = [];
      pump();
    };

    const wrapper = this.connection.createChannel({
      confirm: false,
      setup: async (channel: Channel) => {
        current = channel;
        channel.once('close', () => {
          if (current === channel) current = undefined;
        });
        await channel.prefetch(options.prefetch);
        await channel.consume(
          queue,
          (message) => {
            if (message === null) return;
            received.set(message, channel);
            pending.push(message);
            if (pending.length >= options.batchSize) flush();
            else timer ??= setTimeout(flush, options.batchWaitMs);
          },
          { noAck: false },
        );
      },
    });
    this.consumers.push(wrapper);
    await wrapper.waitForConnect();
  }

  /** Stops every consumer (what they hold unacknowledged goes back to its queue); idempotent. */
  async stopConsuming(): Promise<void> {
    this.stopping = true;
    const consumers = this.consumers.splice(0);
    for (const consumer of consumers) await consumer.close().catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.stopConsuming();
    await this.publisher?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}
