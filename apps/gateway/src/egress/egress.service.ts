import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { nextRetry, type AttemptOutcome } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { Broker, type Disposition } from '../broker/broker';
import { decodeJob, encodeJob, type DeliverJob } from '../broker/jobs';
import { retryLevel } from '../broker/topology';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import { insertDeadLetter, insertDeviation, recordEvents, SETTLED_STATES } from '../store/records';
import { Transports } from './transports';

interface ClaimedCopy {
  readonly id: string;
  readonly message_pk: string;
  readonly message_id: string;
  readonly episode_id: string;
  readonly type: string;
  readonly recipient_hsa: string;
  readonly dialect: Format;
  readonly transport: DirectoryUnit['transport'];
  readonly payload: Buffer;
  readonly attempts: number;
  readonly first_attempt_at: Date;
}

/** Longest wait of a copy held back by an earlier copy of its episode before it looks again. */
const MAX_DEFER_MS = 30_000;

/**
 * Egress: claims a copy in the store (only when every earlier copy of its episode to the same
 * recipient is settled, which keeps per-episode order with any number of processes), delivers it,
 * and records the outcome. Failures are retried with backoff through the delayed retry queues until
 * the budget is spent; then, or at once for a permanent failure, the copy is dead-lettered.
 */
@Injectable()
export class EgressService implements OnApplicationBootstrap {
  private readonly logger = new Logger(EgressService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly transports: Transports,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.consume(
      this.broker.names.deliverQueue,
      { prefetch: this.config.prefetch, batchSize: Math.min(100, this.config.prefetch), batchWaitMs: 5 },
      (messages) => this.handle(messages),
    );
  }

  async handle(messages: readonly ConsumeMessage[]): Promise<Disposition[]> {
    return Promise.all(
      messages.map(async (message): Promise<Disposition> => {
        const job = decodeJob<DeliverJob>(message.content, 'copyId');
        if (job === undefined) return 'requeue';
        await this.process(job);
        return 'ack';
      }),
    );
  }

  /** One deliver job: claim, deliver, record. A job for a copy that moved on meanwhile is dropped. */
  async process(job: DeliverJob): Promise<void> {
    const copy = await this.claim(job);
    if (copy === undefined) return;
    const outcome = await this.transports.deliver(copy.transport, {
      copyId: copy.id,
      messageId: copy.message_id,
      recipientHsa: copy.recipient_hsa,
      dialect: copy.dialect,
      payload: copy.payload,
    });
    await this.record(copy, outcome);
  }

  private async claim(job: DeliverJob): Promise<ClaimedCopy | undefined> {
    const leaseMs = this.config.deliveryTimeoutMs * 3;
    const claimed = await this.db.query<ClaimedCopy>(
      `UPDATE copies c SET state = 'sending', lease_until = now() + $3 * interval '1 millisecond',
         first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
       WHERE c.id = $1 AND c.attempts = $2 AND c.state IN ('routed', 'retrying')
         AND NOT EXISTS (
           SELECT 1 FROM copies e
           WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id
             AND e.state <> ALL($4::text[]))
       RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.recipient_hsa, c.dialect, c.transport,
                 c.payload, c.attempts, c.first_attempt_at`,
      [job.copyId, job.attempt, leaseMs, SETTLED_STATES],
    );
    if (claimed[0] !== undefined) {
      await this.db.query(`INSERT INTO copy_events (copy_id, state, detail) VALUES ($1, 'sending', $2)`, [job.copyId, `attempt ${job.attempt + 1}`]);
      return claimed[0];
    }
    // Not claimable: held back by an earlier copy of the episode (wait and look again), or moved on (drop).
    const rows = await this.db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM copies WHERE id = $1', [job.copyId]);
    const row = rows[0];
    if (row !== undefined && (row.state === 'routed' || row.state === 'retrying') && row.attempts === job.attempt) {
      const deferrals = (job.deferrals ?? 0) + 1;
      const delayMs = Math.min(MAX_DEFER_MS, 100 * 2 ** Math.min(deferrals, 10));
      await this.db.query('UPDATE copies SET updated_at = now() WHERE id = $1', [job.copyId]);
      await this.later({ ...job, deferrals }, delayMs);
    }
    return undefined;
  }

  private async record(copy: ClaimedCopy, outcome: AttemptOutcome): Promise<void> {
    const attempts = copy.attempts + 1;
    if (outcome.kind === 'delivered') {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE copies SET state = CASE WHEN acknowledged_at IS NULL THEN 'delivered' ELSE 'acknowledged' END,
             attempts = $2, delivered_at = now(), lease_until = NULL, last_error = NULL, updated_at = now()
           WHERE id = $1`,
          [copy.id, attempts],
        );
        await recordEvents(tx, [copy.id], 'delivered', `attempt ${attempts}`);
      });
      this.logger.log({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts, outcome: 'delivered' }, 'copy delivered');
      return;
    }
    const decision =
      outcome.kind === 'permanent'
        ? ({ retry: false } as const)
        : nextRetry(this.config.retry, attempts, copy.first_attempt_at.getTime(), Date.now());
    if (decision.retry) {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE copies SET state = 'retrying', attempts = $2, last_error = $3, lease_until = NULL,
             next_attempt_at = now() + $4 * interval '1 millisecond', updated_at = now()
           WHERE id = $1`,
          [copy.id, attempts, outcome.error, decision.delayMs],
        );
        await recordEvents(tx, [copy.id], 'retrying', outcome.error);
      });
      this.logger.warn({ messageId: copy.message_id, copyId: copy.id, attempts, err: outcome.error, retryInMs: decision.delayMs }, 'delivery failed; will retry');
      await this.later({ copyId: copy.id, attempt: attempts }, decision.delayMs);
      return;
    }
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE copies SET state = 'dead-lettered', attempts = $2, last_error = $3, lease_until = NULL, updated_at = now() WHERE id = $1`, [
        copy.id,
        attempts,
        outcome.error,
      ]);
      await recordEvents(tx, [copy.id], 'dead-lettered', outcome.error);
      await insertDeadLetter(tx, {
        reason: 'delivery-failed',
        messagePk: copy.message_pk,
        copyId: copy.id,
        messageId: copy.message_id,
        episodeId: copy.episode_id,
        type: copy.type,
        dialect: copy.dialect,
        recipientHsa: copy.recipient_hsa,
        lastError: outcome.error,
      });
      await insertDeviation(tx, 'dead-lettered', { messageId: copy.message_id, copyId: copy.id, unitHsa: copy.recipient_hsa, detail: outcome.error });
    });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, attempts, err: outcome.error, outcome: 'dead-lettered' }, 'copy dead-lettered');
  }

  /** Sends a deliver job back after a delay, through the retry queue that holds delays of that length. */
  private async later(job: DeliverJob, delayMs: number): Promise<void> {
    await this.broker
      .publish(this.broker.names.retryExchange, String(retryLevel(delayMs)), encodeJob(job), { expiration: String(Math.max(1, Math.round(delayMs))) })
      .catch((error: Error) => this.logger.warn({ copyId: job.copyId, err: error.message }, 'retry not scheduled; the sweeper will'));
  }
}
