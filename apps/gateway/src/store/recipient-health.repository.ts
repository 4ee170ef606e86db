import { Injectable } from '@nestjs/common';
import type { RecipientHealth } from '@svu/delivery';
import { Database, type Queryable } from './database';
import { SETTLED_STATES } from './records';

const SETTLED_SQL = SETTLED_STATES.map((s) => `'${s}'`).join(', ');

/** Any arbitrary but fixed number: one backlog count at a time across processes. */
const RECOUNT_LOCK = 4_172_016;

/** A recipient_health row. */
export interface HealthRow {
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
  paused_reason: string | null;
  backlog: number;
  oldest_waiting_at: Date | null;
  counted_at: Date | null;
}

/** A copy named in a deliver job. */
export interface WaitingCopy {
  readonly id: string;
  readonly attempts: number;
}

/** The copies of a recipient that could go now: no earlier copy of their episode to it still open. */
const HEADS = `SELECT c.id, c.attempts FROM copies c
   WHERE c.recipient_hsa = $1 AND c.state IN ('routed', 'retrying')
     AND NOT EXISTS (SELECT 1 FROM copies e WHERE e.episode_id = c.episode_id AND e.recipient_hsa = c.recipient_hsa AND e.id < c.id
                       AND e.state NOT IN (${SETTLED_SQL}))`;

/**
 * Recipient health (recipient_health) and the egress heartbeats (egress_processes): the rows every
 * egress process shares (docs/recovery.md). The decisions are the pure state machine's in
 * @svu/delivery; RecipientHealthStore (egress) applies them through this repository.
 */
@Injectable()
export class RecipientHealthRepository {
  constructor(private readonly db: Database) {}

  /** Reads a recipient's row under its lock (creating it healthy), with the store's time, in `q`'s transaction. */
  async lock(q: Queryable, recipientHsa: string): Promise<HealthRow & { now: Date }> {
    await q.query('INSERT INTO recipient_health (recipient_hsa) VALUES ($1) ON CONFLICT DO NOTHING', [recipientHsa]);
    const { rows } = await q.query<HealthRow & { now: Date }>('SELECT *, now() AS now FROM recipient_health WHERE recipient_hsa = $1 FOR UPDATE', [recipientHsa]);
    return rows[0]!;
  }

  /** Writes a recipient's health as decided, in the transaction that locked it. */
  async write(q: Queryable, recipientHsa: string, n: RecipientHealth): Promise<void> {
    await q.query(
      `UPDATE recipient_health SET failing = $2, failing_since = $3, last_error = $4, last_failure_at = $5, last_success_at = $6,
         probe_at = $7, failed_probes = $8, paused_at = $9, paused_by = $10, paused_reason = $11, updated_at = now()
       WHERE recipient_hsa = $1`,
      [recipientHsa, n.failing, n.failingSince, n.lastError, n.lastFailureAt, n.lastSuccessAt, n.probeAt, n.failedProbes, n.pausedAt, n.pausedBy, n.pauseReason],
    );
  }

  /** Updates only the last error of a recipient already failing (one short statement); false when it is not failing. */
  async noteFailureWhileFailing(q: Queryable, recipientHsa: string, error: string): Promise<boolean> {
    const { rowCount } = await q.query(
      'UPDATE recipient_health SET last_error = $2, last_failure_at = now(), updated_at = now() WHERE recipient_hsa = $1 AND failing',
      [recipientHsa, error],
    );
    return rowCount === 1;
  }

  /** Recipients whose copies may not be tried one by one now (failing or paused). */
  async held(): Promise<Set<string>> {
    const rows = await this.db.query<{ recipient_hsa: string }>('SELECT recipient_hsa FROM recipient_health WHERE failing OR paused_at IS NOT NULL');
    return new Set(rows.map((r) => r.recipient_hsa));
  }

  /** Takes the due probes (failing, not paused, probe time passed), moving their time on by `holdMs`. */
  async takeDueProbes(holdMs: number): Promise<string[]> {
    const rows = await this.db.query<{ recipient_hsa: string }>(
      `WITH due AS (SELECT recipient_hsa FROM recipient_health WHERE failing AND paused_at IS NULL AND probe_at <= now() FOR UPDATE SKIP LOCKED)
       UPDATE recipient_health h SET probe_at = now() + $1 * interval '1 millisecond' FROM due WHERE h.recipient_hsa = due.recipient_hsa
       RETURNING h.recipient_hsa`,
      [holdMs],
    );
    return rows.map((r) => r.recipient_hsa);
  }

  /** Failing recipients, not paused, whose probe is more than `aheadMs` away, with their last error. */
  async failingBetweenProbes(aheadMs: number): Promise<Array<{ recipient_hsa: string; last_error: string | null }>> {
    return this.db.query(
      `SELECT recipient_hsa, last_error FROM recipient_health
       WHERE failing AND paused_at IS NULL AND probe_at > now() + $1 * interval '1 millisecond'`,
      [aheadMs],
    );
  }

  /** Of the copies that could go now, the one whose last attempt lies furthest back (never tried first), then the oldest. */
  async probeCopy(recipientHsa: string): Promise<WaitingCopy | undefined> {
    const rows = await this.db.query<{ id: string; attempts: number }>(`${HEADS} ORDER BY c.last_attempt_at NULLS FIRST, c.id LIMIT 1`, [recipientHsa]);
    return rows[0];
  }

  /** The first waiting copy of each of a recipient's episodes, in id order. */
  async heads(recipientHsa: string): Promise<WaitingCopy[]> {
    return this.db.query<{ id: string; attempts: number }>(`${HEADS} ORDER BY c.id`, [recipientHsa]);
  }

  /** Counts each recipient's backlog and oldest waiting copy into its row, one process at a time; false when another is counting. */
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

  async list(): Promise<HealthRow[]> {
    return this.db.query<HealthRow>('SELECT * FROM recipient_health ORDER BY recipient_hsa');
  }

  async get(recipientHsa: string): Promise<HealthRow | undefined> {
    const rows = await this.db.query<HealthRow>('SELECT * FROM recipient_health WHERE recipient_hsa = $1', [recipientHsa]);
    return rows[0];
  }
}
