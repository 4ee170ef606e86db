import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { isFormat } from '@svu/dialects';
import { MessageController, type MessageBatch, type MessageHandlerExtras } from '../broker/broker.transport';
import { checkJob, type JobKind } from '../broker/jobs';
import { QUEUE_PATTERNS } from '../broker/topology';
import { Database } from '../store/database';
import { insertDeadLetter } from '../store/records';

/** The poison queue is a trickle: small batches, one at a time. */
const POISON_CONSUME: MessageHandlerExtras = { consume: { prefetch: 20, batchSize: 20, batchWaitMs: 20, concurrency: 1 } };

/**
 * Messages that made a handler fail again and again (the queue's x-delivery-limit), or that a
 * handler refused as never processable, end in the poison queue. They are kept as dead letters
 * (`unprocessable`), with the queue they came from, so that nothing is lost. Every process consumes it.
 */
@MessageController()
export class PoisonController {
  private readonly logger = new Logger(PoisonController.name);

  constructor(private readonly db: Database) {}

  @EventPattern(QUEUE_PATTERNS.poison, POISON_CONSUME)
  async keep(@Payload() messages: MessageBatch): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const message of messages) {
        const headers = message.properties.headers ?? {};
        const queue = String(headers['x-first-death-queue'] ?? message.fields.routingKey);
        const dialect = queue.split('.').pop() ?? '';
        await insertDeadLetter(tx, {
          reason: 'unprocessable',
          messageId: typeof message.properties.messageId === 'string' ? message.properties.messageId : null,
          dialect: isFormat(dialect) ? dialect : null,
          lastError: headers['x-first-death-reason'] === 'rejected' ? `refused as unprocessable in queue ${queue}${whyNotAJob(queue, message.content)}` : `failed repeatedly in queue ${queue}`,
          payload: message.content,
        });
        this.logger.error({ queue, messageId: message.properties.messageId as unknown }, 'poison message kept as dead letter');
      }
    });
  }
}

/** The job kind of a work queue whose handler refuses messages (`<prefix>.route`, `<prefix>.deliver`; the retry queues have no handler). */
function jobKindOf(queue: string): JobKind | undefined {
  if (queue.endsWith(`.${QUEUE_PATTERNS.route}`)) return 'route';
  if (queue.endsWith(`.${QUEUE_PATTERNS.deliver}`)) return 'deliver';
  return undefined;
}

/** For a message a work queue's handler refused: why it is not that queue's job, naming the field (`: not a route job: messagePks[0]: …`). */
function whyNotAJob(queue: string, content: Buffer): string {
  const kind = jobKindOf(queue);
  if (kind === undefined) return '';
  const checked = checkJob(content, kind);
  return checked.ok ? '' : `: ${checked.problem}`;
}
