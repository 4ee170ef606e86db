import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';
import type { AttemptOutcome } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { Broker } from '../broker/broker';
import { CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { MetricsService } from '../common/metrics.service';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database, prepared, type Queryable } from '../store/database';
import { GroupCommit } from '../store/group-commit';
import { insertDeadLetter, insertDeviation, recordEvents, SETTLED_STATES } from '../store/records';
import { RecipientHealthStore } from './recipient-health.store';
import { Transports } from './transports';
import { DirectoryService } from '../directory/directory.service';

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
 * Claims copies ($1 copy ids, $2 their attempts, $3 lease in ms, $4 whether this is a failing
 * recipient's probe, $5 the claiming process) that can go now — whose earlier copies to the same
 * recipient in the episode are settled, and whose recipient is neither paused nor failing (a probe
 * may go to a failing one) — and writes their 'sending' event, in one statement. The order check
 * reads the partial index copies_open_by_episode (test/e2e/store checks the plan), so it costs the
 * same however many settled copies an episode has. The batch is found by key (`c.id = ANY`); the
 * state is tested as `(…) IS TRUE`, which no index serves, so that the planner cannot prefer the
 * index of open copies when its statistics have not yet seen a growing backlog (it would read the
 * whole backlog for every batch).
 */
export const CLAIM_SQL = `WITH candidates AS (
    SELECT c.id FROM copies c JOIN unnest($1::bigint[], $2::int[]) AS j(id, attempt) ON c.id = j.id AND c.attempts = j.attempt
    WHERE c.id = ANY($1::bigint[]) AND (c.state IN ('routed', 'retrying')) IS TRUE
      AND NOT EXISTS (
        SELECT 1 FROM copies e
        WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id AND e.state NOT IN (${SETTLED_SQL}))
      AND NOT EXISTS (
        SELECT 1 FROM recipient_health h
        WHERE h.recipient_hsa = c.recipient_hsa AND (h.paused_at IS NOT NULL OR (h.failing AND NOT $4::boolean)))
    ORDER BY c.id FOR UPDATE OF c SKIP LOCKED),
  claimed AS (
    UPDATE copies c SET state = 'sending', lease_until = now() + $3 * interval '1 millisecond', lease_owner = $5::text,
      first_attempt_at = coalesce(first_attempt_at, now()), last_attempt_at = now(), updated_at = now()
    FROM candidates WHERE c.id = candidates.id
    RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.recipient_hsa, c.dialect, c.transport,
              c.payload, c.attempts, c.first_attempt_at, (SELECT received_at FROM messages m WHERE m.id = c.message_pk) AS received_at),
  events AS (INSERT INTO copy_events (copy_id, state) SELECT id, 'sending' FROM claimed)
  SELECT * FROM claimed ORDER BY id`;

const CLAIM = prepared(CLAIM_SQL);

/**
 * The copy that waits for each of the copies ($1 ids) just settled: the next open copy of the same
 * episode to the same recipient, if it is waiting to go (routed or retrying). Read through
 * copies_open_by_episode, one index probe per settled copy.
 */
const NEXT_WAITING = `SELECT n.id, n.attempts FROM settled d CROSS JOIN LATERAL (
      SELECT c.id, c.attempts, c.state FROM copies c
      WHERE c.episode_id = d.episode_id AND c.recipient_hsa = d.recipient_hsa AND c.id > d.id AND c.state NOT IN (${SETTLED_SQL})
      ORDER BY c.id LIMIT 1) n
    WHERE n.state IN ('routed', 'retrying')`;

/**
 * Records copies ($1 ids) delivered at $2, with their events, and returns the copies each of them
 * held back (released at once: no timer polls for them). One statement, one round trip.
 */
const RECORD_DELIVERED = prepared(`WITH settled AS (
    UPDATE copies SET state = CASE WHEN acknowledged_at IS NULL THEN 'delivered' ELSE 'acknowledged' END,
      attempts = attempts + 1, delivered_at = $2, lease_until = NULL, lease_owner = NULL, last_error = NULL, updated_at = now()
    WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL RETURNING id, episode_id, recipient_hsa),
  events AS (INSERT INTO copy_events (copy_id, state) SELECT id, 'delivered' FROM settled)
  ${NEXT_WAITING}`);

/** The copies held back by copies ($1 ids) that have settled otherwise (dead-lettered, cancelled). */
export const NEXT_AFTER_SETTLED = `WITH settled AS (SELECT id, episode_id, recipient_hsa FROM copies WHERE id = ANY($1::bigint[])) ${NEXT_WAITING}`;

/**
 * Dead-letters copies ($1 retry budget in ms, $2 the time of the deviation) of failing recipients that
 * failed again after the copy's budget (counted from its first attempt) had run out — as if each waiting
 * copy had been tried with the probe; at most 500 at a time, with events, dead letters and deviations.
 * Returns them. A copy never tried is not dead-lettered untried: the probe takes never-tried copies
 * first, and its budget starts then.
 */
const EXPIRE_WAITING = `WITH expired AS (
    SELECT c.id FROM copies c JOIN recipient_health h ON h.recipient_hsa = c.recipient_hsa AND h.failing
    WHERE c.state IN ('routed', 'retrying') AND c.first_attempt_at < h.last_failure_at - $1 * interval '1 millisecond'
    ORDER BY c.id LIMIT 500 FOR UPDATE OF c SKIP LOCKED),
  dead AS (
    UPDATE copies c SET state = 'dead-lettered', lease_until = NULL, lease_owner = NULL, updated_at = now(),
      last_error = coalesce(c.last_error, 'not delivered within the retry budget: the recipient was failing')
    FROM expired WHERE c.id = expired.id
    RETURNING c.id, c.message_pk, c.message_id, c.episode_id, c.type, c.dialect, c.recipient_hsa, c.last_error),
  events AS (INSERT INTO copy_events (copy_id, state, detail) SELECT id, 'dead-lettered', last_error FROM dead),
  letters AS (
    INSERT INTO dead_letters (reason, message_pk, copy_id, message_id, episode_id, type, dialect, recipient_hsa, last_error)
    SELECT 'delivery-failed', message_pk, id, message_id, episode_id, type, dialect, recipient_hsa, last_error FROM dead),
  deviations AS (
    INSERT INTO deviations (kind, message_id, copy_id, unit_hsa, detail, at) SELECT 'dead-lettered', message_id, id, recipient_hsa, last_error, $2 FROM dead)
  SELECT id, message_id, recipient_hsa FROM dead ORDER BY id`;

/** Copies claimed and sent at a time by one batch of deliver jobs. */
const SEND_CHUNK = 250;

/** Longest wait between two attempts to record an outcome while the store is unreachable. */
const MAX_RECORD_WAIT_MS = 2_000;

/**
 * Egress: claims a copy in the store (only when every earlier copy of its episode to the same
 * recipient is settled, which keeps per-episode order with any number of processes, and only while
 * its recipient is neither failing nor paused), delivers it, and records the outcome. A copy that
 * settles releases the copy it held back at once. A retryable failure marks the recipient failing:
 * its copies then wait, and one probe at a time tries it (docs/recovery.md); the first success
 * releases its whole backlog. Each copy keeps its retry budget; after it, or at once for a permanent
 * failure, the copy is dead-lettered.
 */
@Injectable()
export class EgressService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EgressService.name);
  /** Names this process in the leases of the copies it sends, and in its heartbeat. */
  readonly processId = randomUUID();
  /** Recipients failing or paused as last read (refreshed with every heartbeat): a success to one of them is news. */
  private held = new Set<string>();
  private readonly heartbeat: Periodic;
  private readonly probes: Periodic;
  /** The heartbeat's own connection: a pool busy with a burst of failures must not make this process look dead. */
  private beatClient: Client | undefined;

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly transports: Transports,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly health: RecipientHealthStore,
    private readonly directory: DirectoryService,
  ) {
    this.heartbeat = new Periodic('heartbeat', config.heartbeatEveryMs, () => this.beat(), this.logger);
    this.probes = new Periodic('probe', config.heartbeatEveryMs, () => this.probeDue(), this.logger, () => this.broker.isConnected());
  }

  /**
   * Where a copy goes now: the directory's transport for its recipient when it is still of the same
   * kind and dialect as when the copy was routed (a corrected URL, credential or certificate applies
   * to copies already waiting), else the transport the copy was routed with.
   */
  private transportOf(copy: ClaimedCopy): DirectoryUnit['transport'] {
    const unit = this.directory.lookup(copy.recipient_hsa);
    return unit !== undefined && unit.transport.kind === copy.transport.kind && unit.dialect === copy.dialect ? unit.transport : copy.transport;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Alive before the first claim, so that no sweeper takes this process for dead.
    await this.beat();
    this.heartbeat.start();
    this.probes.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.heartbeat.stop();
    this.probes.stop();
    await this.beatClient?.end().catch(() => undefined);
  }

  /** Says this process is alive (the sweeper takes over the copies of one that stopped saying so), and reads which recipients are held. */
  async beat(): Promise<void> {
    await this.beatQuery('INSERT INTO egress_processes (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()', [this.processId]);
    this.held = await this.health.held();
  }

  private async beatQuery(sql: string, params: unknown[]): Promise<void> {
    if (this.beatClient === undefined) {
      const client = new Client({ connectionString: this.config.databaseUrl, connectionTimeoutMillis: 5_000, application_name: 'svu egress heartbeat' });
      client.on('error', () => {
        if (this.beatClient === client) this.beatClient = undefined;
      });
      await client.connect();
      this.beatClient = client;
    }
    const client = this.beatClient;
    try {
      await client.query(sql, params);
    } catch (error) {
      // A broken connection is replaced at the next beat.
      this.beatClient = undefined;
      void client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Probes each failing recipient whose probe is due, with one copy; the outcome decides its health. */
  async probeDue(): Promise<void> {
    await this.expireWaiting();
    // Held for longer than one attempt and its recording; the outcome sets the real next probe time.
    const recipients = await this.health.dueProbes(this.config.deliveryTimeoutMs * 2 + 1_000);
    await Promise.all(
      recipients.map(async (recipientHsa) => {
        const copy = await this.health.probeCopy(recipientHsa);
        if (copy === undefined) return;
        this.logger.log({ recipient: recipientHsa, copyId: copy.copyId }, 'probing a failing recipient');
        await this.processChunk([copy], true);
      }),
    );
  }

  /**
   * The retry budget keeps running for each copy while its recipient is failing and only one copy at
   * a time is tried: those past it are dead-lettered here (and then fall back like any other).
   */
  private async expireWaiting(): Promise<void> {
    if (this.held.size === 0) return;
    const dead = await this.db.query<{ id: string; message_id: string; recipient_hsa: string }>(EXPIRE_WAITING, [this.config.retry.budgetMs, this.clock.now()]);
    for (const copy of dead) {
      this.logger.warn({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, outcome: 'dead-lettered' }, 'copy dead-lettered: retry budget spent while its recipient was failing');
    }
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
    for (let i = 0; i < unique.length; i += SEND_CHUNK) await this.processChunk(unique.slice(i, i + SEND_CHUNK), false);
  }

  private async processChunk(unique: readonly CopyRef[], probe: boolean): Promise<void> {
    const claimedAt = Date.now();
    const claimed = await this.claim(unique, probe);
    const claimedIds = new Set(claimed.map((c) => c.id));
    await this.noteHeldBack(unique.filter((r) => !claimedIds.has(r.copyId)));
    if (claimed.length === 0) return;
    // What the recipients answered is known only here, so it is recorded as soon as each answer comes
    // (answers arriving together share one transaction), not after the slowest copy of the batch, and
    // even if the store is gone for a while (a database restart): retried until it lands or the lease
    // is nearly over. Otherwise the copies would stay 'sending' until the sweeper opened them again
    // when their lease ran out, and a recipient that had them would get them twice.
    const recordBy = claimedAt + this.leaseMs - this.config.deliveryTimeoutMs;
    const delivered = new GroupCommit<ClaimedCopy, void>(async (copies) => {
      await this.persistently('delivered', recordBy, () => this.recordDelivered(copies, probe));
      return copies.map(() => undefined);
    });
    await Promise.all(
      claimed.map(async (copy) => {
        const outcome = await this.transports.deliver(this.transportOf(copy), {
          copyId: copy.id,
          messageId: copy.message_id,
          recipientHsa: copy.recipient_hsa,
          dialect: copy.dialect,
          payload: copy.payload,
        });
        if (outcome.kind === 'delivered') await delivered.add(copy);
        else await this.persistently('failure', recordBy, () => this.recordFailure(copy, outcome, probe));
      }),
    );
  }

  /**
   * How long a claimed copy is this process's to deliver at most. The sweeper takes it over sooner
   * when this process stops sending heartbeats (it died); the lease is the backstop. It outlasts a
   * delivery attempt and the time to record its outcome through a short store outage, so that a live
   * process is not overtaken.
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
   * Claims copies whose attempt count matches their job, whose earlier copies to the same recipient
   * in the episode are all settled and whose recipient is not held. Rows another process holds are
   * skipped, not waited for.
   */
  private async claim(refs: readonly CopyRef[], probe: boolean): Promise<ClaimedCopy[]> {
    // One statement claims the copies and writes their 'sending' event: one round trip per chunk.
    return this.db.query<ClaimedCopy>(CLAIM, [refs.map((r) => r.copyId), refs.map((r) => r.attempt), this.leaseMs, probe, this.processId]);
  }

  /**
   * Jobs not claimed are dropped: a copy waiting for an earlier copy of its episode is released when
   * that one settles, a copy of a failing or paused recipient when the recipient is deliverable again,
   * and the others have moved on. Those still waiting are marked as looked at, so that the sweeper
   * (the backstop should a release be lost) leaves them alone for SVU_STALE_AFTER.
   */
  private async noteHeldBack(refs: readonly CopyRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.db.query("UPDATE copies SET updated_at = now() WHERE id = ANY($1::bigint[]) AND state IN ('routed', 'retrying')", [refs.map((r) => r.copyId)]);
  }

  /**
   * Sends the copies that were waiting for copies now settled, at once and from this process (no
   * broker round trip per step of an episode's chain). Should that fail, a deliver job takes them;
   * should this process die first, the sweeper does.
   */
  private releaseWaiting(refs: readonly CopyRef[]): void {
    if (refs.length === 0) return;
    void this.processAll(refs).catch((error: Error) => {
      this.logger.warn({ count: refs.length, err: error.message }, 'released copies not sent here; handing them to a deliver job');
      return this.broker
        .publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies: refs }))
        .catch((e: Error) => this.logger.warn({ count: refs.length, err: e.message }, 'release not sent; the sweeper will'));
    });
  }

  private async recordDelivered(copies: readonly ClaimedCopy[], probe: boolean): Promise<void> {
    const ids = copies.map((c) => c.id);
    // One statement (so one implicit transaction and one round trip) for the state, its events and the
    // copies each one held back. Copies already recorded as delivered are left alone, so that recording
    // again after a commit whose answer was lost (see persistently) neither counts the attempt twice
    // nor repeats the event.
    const next = await this.db.query<{ id: string; attempts: number }>(RECORD_DELIVERED, [ids, this.clock.now()]);
    this.releaseWaiting(next.map((r) => ({ copyId: r.id, attempt: r.attempts })));
    const now = this.clock.now().getTime();
    for (const copy of copies) {
      this.metrics.deliveryLatency.observe({ transport: copy.transport.kind }, Math.max(0, (now - copy.received_at.getTime()) / 1000));
      this.logger.log({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts: copy.attempts + 1, outcome: 'delivered' }, 'copy delivered');
    }
    // A success to a recipient held as failing (a probe, or a copy on its way when it started failing)
    // makes it healthy and releases its backlog. Others cost nothing here: no write on the hot path.
    const recipients = new Set(copies.filter((c) => probe || this.held.has(c.recipient_hsa)).map((c) => c.recipient_hsa));
    for (const recipientHsa of recipients) await this.recovered(recipientHsa);
  }

  private async recovered(recipientHsa: string): Promise<void> {
    const decision = await this.health.apply(recipientHsa, { kind: 'success' });
    if (decision.release) await this.health.release(recipientHsa);
    if (decision.next.pausedAt === null && !decision.next.failing) this.held.delete(recipientHsa);
  }

  /**
   * A retryable failure to a recipient. The copies in flight when a recipient goes down all fail
   * together: while it is already known to be failing, theirs only update the last error (one short
   * statement), instead of each taking the state machine's read-decide-write turn on the recipient's row.
   */
  private async noteFailure(tx: Queryable, recipientHsa: string, error: string, probe: boolean): Promise<void> {
    if (!probe && this.held.has(recipientHsa)) {
      const { rowCount } = await tx.query(
        'UPDATE recipient_health SET last_error = $2, last_failure_at = now(), updated_at = now() WHERE recipient_hsa = $1 AND failing',
        [recipientHsa, error],
      );
      if (rowCount === 1) return;
    }
    await this.health.apply(recipientHsa, { kind: 'failure', error, probe }, tx);
  }

  private async recordFailure(copy: ClaimedCopy, outcome: Exclude<AttemptOutcome, { kind: 'delivered' }>, probe: boolean): Promise<void> {
    const attempts = copy.attempts + 1;
    // Retried (by the recipient's probe, or with its backlog when it recovers) until the budget is spent.
    const retry = outcome.kind === 'retry' && Date.now() < copy.first_attempt_at.getTime() + this.config.retry.budgetMs;
    if (retry) {
      // The recipient is failing now (or still): this copy waits with the rest of its backlog for the
      // probe, instead of trying again on its own timer.
      await this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE copies SET state = 'retrying', attempts = $2, last_error = $3, lease_until = NULL, lease_owner = NULL,
             next_attempt_at = now(), updated_at = now()
           WHERE id = $1`,
          [copy.id, attempts, outcome.error],
        );
        await recordEvents(tx, [copy.id], 'retrying', outcome.error);
        await this.noteFailure(tx, copy.recipient_hsa, outcome.error, probe);
      });
      this.held.add(copy.recipient_hsa);
      this.logger.warn({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts, err: outcome.error, probe }, 'delivery failed; will retry');
      return;
    }
    const next = await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE copies SET state = 'dead-lettered', attempts = $2, last_error = $3, lease_until = NULL, lease_owner = NULL, updated_at = now() WHERE id = $1`, [
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
      // A retryable failure past the budget still says the recipient is failing.
      if (outcome.kind === 'retry') await this.noteFailure(tx, copy.recipient_hsa, outcome.error, probe);
      return (await tx.query<{ id: string; attempts: number }>(NEXT_AFTER_SETTLED, [[copy.id]])).rows;
    });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, attempts, err: outcome.error, outcome: 'dead-lettered' }, 'copy dead-lettered');
    this.releaseWaiting(next.map((r) => ({ copyId: r.id, attempt: r.attempts })));
    // A recipient that refuses a message (HTTP 4xx) has answered: it is up.
    if (outcome.kind === 'permanent' && copy.transport.kind !== 'none' && (probe || this.held.has(copy.recipient_hsa))) await this.recovered(copy.recipient_hsa);
  }
}
