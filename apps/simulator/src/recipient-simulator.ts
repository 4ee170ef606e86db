import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { connectBroker } from '@svu/connections';
import type { DirectoryUnit } from '@svu/directory';

/** How a simulated recipient answers. */
export type Behaviour =
  | { readonly mode: 'accept'; readonly delayMs?: number; readonly jitterMs?: number }
  | { readonly mode: 'fail'; readonly status: number }
  | { readonly mode: 'timeout' }
  | { readonly mode: 'down' };

/** One message as a simulated recipient received it. */
export interface Received {
  readonly hsaId: string;
  readonly via: 'http' | 'amqp';
  readonly bytes: Buffer;
  readonly messageId: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly at: Date;
  /**
   * AMQP: the broker hands this message out again (an earlier hand-out was not acknowledged, e.g. the
   * acknowledgement was lost in a broker restart). The same message, not a second delivery by the gateway.
   */
  readonly redelivered?: boolean;
}

export interface SimulatorOptions {
  readonly units: readonly DirectoryUnit[];
  /** Where AMQP recipients' queues are (the gateway's broker), and the gateway's topology prefix. */
  readonly amqpUrl?: string;
  /** Where `amqpUrl` came from (`--amqp-url / AMQP_URL`), named when RabbitMQ cannot be reached. */
  readonly amqpUrlSetting?: string;
  readonly topologyPrefix?: string;
}

/**
 * Simulated recipients for the units of a directory: an HTTP endpoint for each `http` unit (one
 * server per host:port, units told apart by path) and a consumer of each `amqp` unit's queue. Each
 * records what arrives and answers as told: accept, fail with a status, time out, or be down.
 */
export class RecipientSimulator {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly servers: Server[] = [];
  private connection: AmqpConnectionManager | undefined;
  private channel: ChannelWrapper | undefined;
  private readonly listeners: Array<(r: Received) => void> = [];

  constructor(private readonly options: SimulatorOptions) {}

  behave(hsaId: string, behaviour: Behaviour): void {
    this.behaviours.set(hsaId, behaviour);
  }

  behaviourOf(hsaId: string): Behaviour {
    return this.behaviours.get(hsaId) ?? { mode: 'accept' };
  }

  onReceive(listener: (r: Received) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Opens the HTTP endpoints and the AMQP consumers. Fails within seconds, naming the URL, when
   * RabbitMQ cannot be reached (nothing is left open then).
   */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async open(): Promise<void> {
    const byPort = new Map<string, Map<string, DirectoryUnit>>();
    for (const unit of this.options.units) {
      if (unit.transport.kind !== 'http') continue;
      const url = new URL(unit.transport.url);
      const key = `${url.hostname}:${url.port || '80'}`;
      if (!byPort.has(key)) byPort.set(key, new Map());
      byPort.get(key)!.set(url.pathname, unit);
    }
    for (const [hostPort, units] of byPort) {
      const [host, port] = hostPort.split(':');
      const server = createServer((req, res) => void this.answer(units, req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(port), host, () => resolve());
      });
      this.servers.push(server);
    }
    const amqpUnits = this.options.units.filter((u) => u.transport.kind === 'amqp');
    if (amqpUnits.length > 0 && this.options.amqpUrl !== undefined) {
      const prefix = this.options.topologyPrefix ?? 'svu';
      this.connection = await connectBroker(this.options.amqpUrl, this.options.amqpUrlSetting === undefined ? {} : { setting: this.options.amqpUrlSetting });
      this.channel = this.connection.createChannel({
        setup: async (channel: ConfirmChannel) => {
          await channel.assertExchange(`${prefix}.egress`, 'direct', { durable: true });
          for (const unit of amqpUnits) {
            const key = (unit.transport as { routingKey: string }).routingKey;
            const queue = `${prefix}.egress.${key}`;
            await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
            await channel.bindQueue(queue, `${prefix}.egress`, key);
            await channel.consume(queue, (message) => message !== null && this.takeAmqp(unit, message, channel));
          }
        },
      });
      await this.channel.waitForConnect();
    }
  }

  private takeAmqp(unit: DirectoryUnit, message: ConsumeMessage, channel: ConfirmChannel): void {
    if (this.behaviourOf(unit.hsaId).mode === 'down') {
      // A recipient that is down does not consume: the message waits in its queue.
      setTimeout(() => channel.nack(message, false, true), 200);
      return;
    }
    const headers = message.properties.headers ?? {};
    this.record({
      hsaId: unit.hsaId,
      via: 'amqp',
      bytes: message.content,
      messageId: message.properties.messageId as string | undefined,
      idempotencyKey: headers['idempotency-key'] as string | undefined,
      at: new Date(),
      redelivered: message.fields.redelivered,
    });
    channel.ack(message);
  }

  private async answer(units: Map<string, DirectoryUnit>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const unit = units.get((req.url ?? '/').split('?')[0]!);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (unit === undefined) {
      res.writeHead(404).end();
      return;
    }
    const behaviour = this.behaviourOf(unit.hsaId);
    switch (behaviour.mode) {
      case 'down':
        req.socket.destroy();
        return;
      case 'timeout':
        // Never answers; the gateway's own timeout ends the attempt.
        return;
      case 'fail':
        res.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('simulated failure');
        return;
      case 'accept': {
        const wait = (behaviour.delayMs ?? 0) + Math.random() * (behaviour.jitterMs ?? 0);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.record({
          hsaId: unit.hsaId,
          via: 'http',
          bytes: Buffer.concat(chunks),
          messageId: header(req, 'x-svu-message-id'),
          idempotencyKey: header(req, 'idempotency-key'),
          at: new Date(),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"received"}');
      }
    }
  }

  private record(received: Received): void {
    this.received.push(received);
    for (const listener of this.listeners) listener(received);
  }

  /** What one unit received, in order of arrival. */
  receivedBy(hsaId: string): Received[] {
    return this.received.filter((r) => r.hsaId === hsaId);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
