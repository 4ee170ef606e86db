import { Inject, Injectable, Logger } from '@nestjs/common';
import { decide, neverReached, stateOf, type HealthDecision, type HealthEvent, type RecipientHealth, type RecipientState } from '@svu/delivery';
import { Broker } from '../broker/broker';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database, type Queryable } from '../store/database';
import { SETTLED_STATES } from '../store/records';

const SETTLED_SQL = SETTLED_STATES.map((s) => `'${s}'`).join(', ');

/** Copies named by one released deliver job. */
const RELEASE_JOB = 500;

interface HealthRow {
  recipient_hsa: string;
  failing: boolean;
  failing_since: Date | null;
  last_error: string | null;
  last_failure_at: Date | null;
  last_success_at: Date | null;
  probe_at: Date | null;
  failed_probes: number;
  paused_at: Date | null;
  paused_by: string | null;
  backlog: number;
  oldest_waiting_at: Date | null;
  counted_at: Date | null;
}

/** One recipient as operators see it. */
export interface RecipientStatus {
  readonly hsaId: string;
  readonly state: RecipientState;
  readonly failingSince: Date | null;
  readonly lastError: string | null;
  readonly lastFailureAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly nextProbeAt: Date | null;
  readonly pausedAt: Date | null;
  readonly pausedBy: string | null;
  /** Copies on their way to it (routed, retrying, sending), as of the last count. */
  readonly backlog: number;
  readonly oldestWaitingAt: Date | null;
  readonly countedAt: Date | null;
}

function healthOf(row: HealthRow): RecipientHealth {
  return {
    failing: row.failing,
    failingSince: row.failing_since,
    lastError: row.last_error,
    lastFailureAt: row.last_failure_at,
    lastSuccessAt: row.last_success_at,
    probeAt: row.probe_at,
    failedProbes: row.failed_probes,
    pausedAt: row.paused_at,
    pausedBy: row.paused_by,
  };
}

/**
 * Recipient health in the store (docs/recovery.md): every transition is read, decided by the pure
 * state machine in @svu/delivery and written under the row's lock, so egress processes agree.
 * Transitions to failing and back are logged at warn with a stable `event` field for alerting.
 */
@Injectable()
export class RecipientHealthStore {
  private readonly logger = new Logger(RecipientHealthStore.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Applies an event to a recipient's health, in `tx` when given (the failure's own transaction). */
  async apply(recipientHsa: string, event: HealthEvent, tx?: Queryable): Promise<HealthDecision> {
    const run = async (q: Queryable) => {
      await q.query('INSERT INTO recipient_health (recipient_hsa) VALUES ($1) ON CONFLICT DO NOTHING', [recipientHsa]);
      const { rows } = await q.query<HealthRow & { now: Date }>('SELECT *, now() AS now FROM recipient_health WHERE recipient_hsa = $1 FOR UPDATE', [recipientHsa]);
      const row = rows[0]!;
      const decision = decide(healthOf(row), event, row.now, this.config.probe);
      if (decision.refused === undefined) {
        const n = decision.next;
        await q.query(
          `UPDATE recipient_health SET failing = $2, failing_since = $3, last_error = $4, last_failure_at = $5, last_success_at = $6,
             probe_at = $7, failed_probes = $8, paused_at = $9, paused_by = $10, updated_at = now()
           WHERE recipient_hsa = $1`,
          [recipientHsa, n.failing, n.failingSince, n.lastError, n.lastFailureAt, n.lastSuccessAt, n.probeAt, n.failedProbes, n.pausedAt, n.pausedBy],
        );
      }
      return decision;
    };
    const decision = tx === undefined ? await this.db.transaction(run) : await run(tx);
    if (decision.transition === 'started-failing') {
      this.logger.warn({ event: 'recipient-failing', recipient: recipientHsa, err: decision.next.lastError }, 'recipient failing: its copies wait for a probe');
    } else if (decision.transition === 'recovered') {
      this.logger.warn({ event: 'recipient-recovered', recipient: recipientHsa }, 'recipient recovered: its backlog is released');
    }
    return decision;
  }

  /** Recipients whose copies may not be tried one by one now (failing or paused). */
  async held(): Promise<Set<string>> {
    const rows = await this.db.query<{ recipient_hsa: string }>('SELECT recipient_hsa FROM recipient_health WHERE failing OR paused_at IS NOT NULL');
    return new Set(rows.map((r) => r.recipient_hsa));
  }

  /**
   * Takes the probes that are due (failing, not paused, probe time passed): their time moves on by
   * `holdMs`, so that no other process probes the same recipient meanwhile; the probe's outcome sets it.
   */
  async dueProbes(holdMs: number): Promise<string[]> {
    const rows = await this.db.query<{ recipient_hsa: string }>(
      `WITH due AS (SELECT recipient_hsa FROM recipient_health WHERE failing AND paused_at IS NULL AND probe_at <= now() FOR UPDATE SKIP LOCKED)
       UPDATE recipient_health h SET probe_at = now() + $1 * interval '1 millisecond' FROM due WHERE h.recipient_hsa = due.recipient_hsa
       RETURNING h.recipient_hsa`,
      [holdMs],
    );
    return rows.map((r) => r.recipient_hsa);
  }

  /**
   * Failing recipients, not paused, whose last attempt never reached them (nothing listened: see
   * neverReached) and whose probe is more than `aheadMs` away: worth a connection check meanwhile.
   */
  async unreachable(aheadMs: number): Promise<Array<{ recipientHsa: string; lastError: string | null }>> {
    const rows = await this.db.query<{ recipient_hsa: string; last_error: string | null }>(
      `SELECT recipient_hsa, last_error FROM recipient_health
       WHERE failing AND paused_at IS NULL AND probe_at > now() + $1 * interval '1 millisecond'`,
      [aheadMs],
    );
    return rows.filter((r) => neverReached(r.last_error)).map((r) => ({ recipientHsa: r.recipient_hsa, lastError: r.last_error }));
  }

  /**
   * The copy to probe a recipient with: of the copies that could go now (no earlier copy of their
   * episode to it still open), the one whose last attempt lies furthest back, never-tried first, then
   * the oldest — so one copy the recipient keeps refusing cannot hold the others back for a day.
   */
  async probeCopy(recipientHsa: string): Promise<CopyRef | undefined> {
    const rows = await this.db.query<{ id: string; attempts: number }>(
      `SELECT c.id, c.attempts FROM copies c
       WHERE c.recipient_hsa = $1 AND c.state IN ('routed', 'retrying')
         AND NOT EXISTS (SELECT 1 FROM copies e WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id
                           AND e.state NOT IN (${SETTLED_SQL}))
       ORDER BY c.last_attempt_at NULLS FIRST, c.id LIMIT 1`,
      [recipientHsa],
    );
    return rows[0] === undefined ? undefined : { copyId: rows[0].id, attempt: rows[0].attempts };
  }

  /**
   * Releases a recipient's backlog: a deliver job for the first waiting copy of each of its episodes
   * (in id order); each later copy follows the moment the one before it settles. Returns how many.
   */
  async release(recipientHsa: string): Promise<number> {
    const rows = await this.db.query<{ id: string; attempts: number }>(
      `SELECT c.id, c.attempts FROM copies c
       WHERE c.recipient_hsa = $1 AND c.state IN ('routed', 'retrying')
         AND NOT EXISTS (SELECT 1 FROM copies e WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id
                           AND e.state NOT IN (${SETTLED_SQL}))
       ORDER BY c.id`,
      [recipientHsa],
    );
    for (let i = 0; i < rows.length; i += RELEASE_JOB) {
      const copies = rows.slice(i, i + RELEASE_JOB).map((r) => ({ copyId: r.id, attempt: r.attempts }));
      await this.broker.publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies }));
    }
    if (rows.length > 0) this.logger.log({ recipient: recipientHsa, episodes: rows.length }, 'backlog released');
    return rows.length;
  }

  /**
   * Counts each recipient's backlog and its oldest waiting copy into recipient_health, one process at
   * a time (a transaction-scoped advisory lock); the metrics and the console read those rows.
   */
  async count(): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [RECOUNT_LOCK]);
      if (rows[0]?.locked !== true) return false;
      await tx.query(
        `WITH counts AS (
           SELECT recipient_hsa, count(*)::int AS n, min(id) AS oldest FROM copies WHERE state IN ('routed', 'retrying', 'sending') GROUP BY recipient_hsa),
         upserted AS (
           INSERT INTO recipient_health (recipient_hsa, backlog, oldest_waiting_at, counted_at)
           SELECT k.recipient_hsa, k.n, (SELECT created_at FROM copies WHERE id = k.oldest), now() FROM counts k
           ON CONFLICT (recipient_hsa) DO UPDATE SET backlog = excluded.backlog, oldest_waiting_at = excluded.oldest_waiting_at, counted_at = now()
           RETURNING recipient_hsa)
         UPDATE recipient_health SET backlog = 0, oldest_waiting_at = NULL, counted_at = now()
         WHERE recipient_hsa NOT IN (SELECT recipient_hsa FROM upserted) AND (backlog <> 0 OR counted_at IS NULL)`,
      );
      return true;
    });
  }

  /** Every recipient with a health row, by HSA id. */
  async list(): Promise<RecipientStatus[]> {
    const rows = await this.db.query<HealthRow>('SELECT * FROM recipient_health ORDER BY recipient_hsa');
    return rows.map((row) => statusOf(row));
  }

  async get(recipientHsa: string): Promise<RecipientStatus | undefined> {
    const rows = await this.db.query<HealthRow>('SELECT * FROM recipient_health WHERE recipient_hsa = $1', [recipientHsa]);
    return rows[0] === undefined ? undefined : statusOf(rows[0]);
  }
}

/** Any arbitrary but fixed number: one backlog count at a time across processes. */
const RECOUNT_LOCK = 4_172_016;

export function statusOf(row: HealthRow): RecipientStatus {
  return {
    hsaId: row.recipient_hsa,
    state: stateOf(healthOf(row)),
    failingSince: row.failing_since,
    lastError: row.last_error,
    lastFailureAt: row.last_failure_at,
    lastSuccessAt: row.last_success_at,
    nextProbeAt: row.failing && row.paused_at === null ? row.probe_at : null,
    pausedAt: row.paused_at,
    pausedBy: row.paused_by,
    backlog: row.backlog,
    oldestWaitingAt: row.oldest_waiting_at,
    countedAt: row.counted_at,
  };
}

/** A recipient that has never had a health row: healthy, nothing counted yet. */
export function healthyStatus(hsaId: string): RecipientStatus {
  return {
    hsaId,
    state: 'healthy',
    failingSince: null,
    lastError: null,
    lastFailureAt: null,
    lastSuccessAt: null,
    nextProbeAt: null,
    pausedAt: null,
    pausedBy: null,
    backlog: 0,
    oldestWaitingAt: null,
    countedAt: null,
  };
}
