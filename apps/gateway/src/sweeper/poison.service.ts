import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { isFormat } from '@svu/dialects';
import { Broker, type Disposition } from '../broker/broker';
import { Database } from '../store/database';
import { insertDeadLetter } from '../store/records';

/**
 * Messages that made a handler fail again and again end in the poison queue (x-delivery-limit). They
 * are kept as dead letters, with the queue they came from, so that nothing is lost.
 */
@Injectable()
export class PoisonService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PoisonService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.consume(this.broker.names.poisonQueue, { prefetch: 20, batchSize: 20, batchWaitMs: 20, concurrency: 1 }, (messages) => this.handle(messages));
  }

  async handle(messages: readonly ConsumeMessage[]): Promise<Disposition[]> {
    await this.db.transaction(async (tx) => {
      for (const message of messages) {
        const headers = message.properties.headers ?? {};
        const queue = String(headers['x-first-death-queue'] ?? message.fields.routingKey);
        const dialect = queue.split('.').pop() ?? '';
        await insertDeadLetter(tx, {
          reason: 'unprocessable',
          messageId: typeof message.properties.messageId === 'string' ? message.properties.messageId : null,
          dialect: isFormat(dialect) ? dialect : null,
          lastError: `failed repeatedly in queue ${queue}`,
          payload: message.content,
        });
        this.logger.error({ queue, messageId: message.properties.messageId as unknown }, 'poison message kept as dead letter');
      }
    });
    return messages.map(() => 'ack');
  }
}
