import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { nextRetry, type AttemptOutcome } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { Broker, type Disposition } from '../broker/broker';
import { CLOCK, type Clock } from '../clock/clock';
import { MetricsService } from '../console/metrics.service';
import { decodeJob, encodeJob, type CopyRef, type DeliverJob } from '../broker/jobs';
import { retryLevel } from '../broker/topology';
import { consumeOptions, GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database, prepared } from '../store/database';
import { GroupCommit } from '../store/group-commit';
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
  readonly received_at: Date;
}

// The settled states written out in the SQL, exactly as in the predicate of the partial index
// copies_open_by_episode: with a parameter instead, a generic plan cannot use that index and the
// order check scans every copy.
const SETTLED_SQL = SETTLED_STATES.map((s) => `'${s}'`).join(', ');

/**
 * Claims copies ($1 copy ids, $2 their attempts, $3 lease in ms) that can go now — whose earlier copies
 * to the same recipient in the episode are settled — and writes their 'sending' event, in one
 * statement. The order check reads the partial index copies_open_by_episode (test/e2e/store checks
 * the plan), so it costs the same however many settled copies an episode has. The batch is found by
 * key (`c.id = ANY`); the state is tested as `(…) IS TRUE`, which no index serves, so that the planner
 * cannot prefer the index of open copies when its statistics have not yet seen a growing backlog
 * (it would read the whole backlog for every batch).
 */
export const CLAIM_SQL = `WITH candidates AS (
    SELECT c.id FROM copies c JOIN unnest($1::bigint[], $2::int[]) AS j(id, attempt) ON c.id = j.id AND c.attempts = j.attempt
    WHERE c.id = ANY($1::bigint[]) AND (c.state IN ('routed', 'retrying')) IS TRUE
      AND NOT EXISTS (
        SELECT 1 FROM copies e
        WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id AND e.state NOT IN (${SETTLED_SQL}))
    ORDER BY c.id FOR UPDATE OF c SKIP LOCKED),
  claimed AS (
    UPDATE copies c SET state = 'sending', lease_until = now() + $3 * interval '1 millisecond',
      first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now()
    FROM candidates WHERE c.id = candidates.id
    RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.recipient_hsa, c.dialect, c.transport,
              c.payload, c.attempts, c.first_attempt_at, (SELECT received_at FROM messages m WHERE m.id = c.message_pk) AS received_at),
  events AS (INSERT INTO copy_events (copy_id, state) SELECT id, 'sending' FROM claimed)
  SELECT * FROM claimed ORDER BY id`;

const CLAIM = prepared(CLAIM_SQL);

/** Records copies ($1 ids) delivered at $2, with their events. */
const RECORD_DELIVERED = prepared(`WITH delivered AS (
    UPDATE copies SET state = CASE WHEN acknowledged_at IS NULL THEN 'delivered' ELSE 'acknowledged' END,
      attempts = attempts + 1, delivered_at = $2, lease_until = NULL, last_error = NULL, updated_at = now()
    WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL RETURNING id)
  INSERT INTO copy_events (copy_id, state) SELECT id, 'delivered' FROM delivered`);

/** Longest wait of a copy held back by an earlier copy of its episode before it looks again. */
const MAX_DEFER_MS = 30_000;

/** Copies claimed and sent at a time by one batch of deliver jobs. */
const SEND_CHUNK = 250;

/** Longest wait between two attempts to record an outcome while the store is unreachable. */
const MAX_RECORD_WAIT_MS = 2_000;

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
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.broker.consume(
      this.broker.names.deliverQueue,
      consumeOptions(this.config),
      (messages) => this.handle(messages),
    );
  }

  async handle(messages: readonly ConsumeMessage[]): Promise<Disposition[]> {
    const jobs = messages.map((m) => decodeJob<DeliverJob>(m.content, 'copies'));
    await this.processAll(jobs.flatMap((job) => job?.copies ?? []));
    return jobs.map((job) => (job === undefined ? 'requeue' : 'ack'));
  }

  /**
   * Deliver jobs: claim what can go now, deliver it, record the outcomes; jobs for copies that moved
   * on are dropped. A batch of jobs can name thousands of copies (the sweeper's jobs after an outage
   * name up to 500 each); they are claimed and sent a chunk at a time, so that a process never has
   * more than a chunk per batch on the wire (more would only queue in the HTTP client until the
   * attempts time out, to be sent again to recipients that may have had them), and a claim's lease
   * starts when its copies are about to go.
   */
  async processAll(refs: readonly CopyRef[]): Promise<void> {
    const unique = [...new Map(refs.map((r) => [r.copyId, r])).values()];
    for (let i = 0; i < unique.length; i += SEND_CHUNK) await this.processChunk(unique.slice(i, i + SEND_CHUNK));
  }

  private async processChunk(unique: readonly CopyRef[]): Promise<void> {
    const claimedAt = Date.now();
    const claimed = await this.claim(unique);
    const claimedIds = new Set(claimed.map((c) => c.id));
    await this.deferHeldBack(unique.filter((r) => !claimedIds.has(r.copyId)));
    if (claimed.length === 0) return;
    // What the recipients answered is known only here, so it is recorded as soon as each answer comes
    // (answers arriving together share one transaction), not after the slowest copy of the batch, and
    // even if the store is gone for a while (a database restart): retried until it lands or the lease
    // is nearly over. Otherwise the copies would stay 'sending' until the sweeper opened them again
    // when their lease ran out, and a recipient that had them would get them twice.
    const recordBy = claimedAt + this.leaseMs - this.config.deliveryTimeoutMs;
    const delivered = new GroupCommit<ClaimedCopy, void>(async (copies) => {
      await this.persistently('delivered', recordBy, () => this.recordDelivered(copies));
      return copies.map(() => undefined);
    });
    await Promise.all(
      claimed.map(async (copy) => {
        const outcome = await this.transports.deliver(copy.transport, {
          copyId: copy.id,
          messageId: copy.message_id,
          recipientHsa: copy.recipient_hsa,
          dialect: copy.dialect,
          payload: copy.payload,
        });
        if (outcome.kind === 'delivered') await delivered.add(copy);
        else await this.persistently('failure', recordBy, () => this.recordFailure(copy, outcome));
      }),
    );
  }

  /**
   * How long a claimed copy is this process's to deliver. When it runs out (the process died while
   * sending) the sweeper opens the attempt again. It outlasts a delivery attempt and the time to
   * record its outcome through a short store outage, so that a live process is not overtaken.
   */
  private get leaseMs(): number {
    return this.config.deliveryTimeoutMs * 3 + this.config.staleAfterMs * 2;
  }

  private async persistently(what: string, until: number, record: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await record();
        return;
      } catch (error) {
        const waitMs = Math.min(MAX_RECORD_WAIT_MS, 100 * 2 ** attempt);
        if (Date.now() + waitMs > until) throw error;
        this.logger.warn({ outcome: what, err: (error as Error).message, retryInMs: waitMs }, 'outcome not recorded yet; trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /**
   * Claims copies whose attempt count matches their job and whose earlier copies to the same
   * recipient in the episode are all settled. Rows another process holds are skipped, not waited for.
   */
  private async claim(refs: readonly CopyRef[]): Promise<ClaimedCopy[]> {
    // One statement claims the copies and writes their 'sending' event: one round trip per chunk.
    const claimed = await this.db.query<ClaimedCopy>(
      CLAIM,
      [refs.map((r) => r.copyId), refs.map((r) => r.attempt), this.leaseMs],
    );
    return claimed;
  }

  /** Jobs not claimed: those still waiting for an earlier copy look again later; the rest are stale and dropped. */
  private async deferHeldBack(refs: readonly CopyRef[]): Promise<void> {
    if (refs.length === 0) return;
    const rows = await this.db.query<{ id: string; state: string; attempts: number }>(
      'SELECT id, state, attempts FROM copies WHERE id = ANY($1::bigint[])',
      [refs.map((r) => r.copyId)],
    );
    const current = new Map(rows.map((r) => [r.id, r]));
    const waiting = refs.filter((ref) => {
      const row = current.get(ref.copyId);
      return row !== undefined && (row.state === 'routed' || row.state === 'retrying') && row.attempts === ref.attempt;
    });
    if (waiting.length === 0) return;
    await this.db.query('UPDATE copies SET updated_at = now() WHERE id = ANY($1::bigint[])', [waiting.map((r) => r.copyId)]);
    const byDelay = new Map<number, CopyRef[]>();
    for (const ref of waiting) {
      const deferrals = (ref.deferrals ?? 0) + 1;
      const delayMs = Math.min(MAX_DEFER_MS, 100 * 2 ** Math.min(deferrals, 10));
      byDelay.set(delayMs, [...(byDelay.get(delayMs) ?? []), { ...ref, deferrals }]);
    }
    for (const [delayMs, copies] of byDelay) await this.later(copies, delayMs);
  }

  private async recordDelivered(copies: readonly ClaimedCopy[]): Promise<void> {
    const ids = copies.map((c) => c.id);
    // One statement (so one implicit transaction and one round trip) for the state and its events.
    // Copies already recorded as delivered are left alone, so that recording again after a commit
    // whose answer was lost (see persistently) neither counts the attempt twice nor repeats the event.
    await this.db.query(RECORD_DELIVERED, [ids, this.clock.now()]);
    const now = this.clock.now().getTime();
    for (const copy of copies) {
      this.metrics.deliveryLatency.observe({ transport: copy.transport.kind }, Math.max(0, (now - copy.received_at.getTime()) / 1000));
      this.logger.log({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts: copy.attempts + 1, outcome: 'delivered' }, 'copy delivered');
    }
  }

  private async recordFailure(copy: ClaimedCopy, outcome: Exclude<AttemptOutcome, { kind: 'delivered' }>): Promise<void> {
    const attempts = copy.attempts + 1;
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
      await this.later([{ copyId: copy.id, attempt: attempts }], decision.delayMs);
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
      await insertDeviation(tx, 'dead-lettered', { messageId: copy.message_id, copyId: copy.id, unitHsa: copy.recipient_hsa, detail: outcome.error, at: this.clock.now() });
    });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, attempts, err: outcome.error, outcome: 'dead-lettered' }, 'copy dead-lettered');
  }

  /** Sends copies back after a delay, through the retry queue that holds delays of that length. */
  private async later(copies: readonly CopyRef[], delayMs: number): Promise<void> {
    await this.broker
      .publish(this.broker.names.retryExchange, String(retryLevel(delayMs)), encodeJob({ copies }), { expiration: String(Math.max(1, Math.round(delayMs))) })
      .catch((error: Error) => this.logger.warn({ count: copies.length, err: error.message }, 'retry not scheduled; the sweeper will'));
  }
}
