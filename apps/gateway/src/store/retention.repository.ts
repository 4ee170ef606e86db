import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';

/** Any arbitrary but fixed number: the advisory lock one pruning batch holds (docs/retention.md). */
const RETENTION_LOCK = 4_172_011;

export const RETENTION_KINDS = ['payloads', 'dead-letters', 'documents', 'audit'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** A message whose payload may be pruned, with its canonical form (to be stripped of personal data). */
export interface PrunableMessage {
  readonly id: string;
  readonly message_id: string;
  readonly canonical: Record<string, unknown>;
}

/**
 * What the retention job (docs/retention.md) prunes, kind by kind, each batch of at most `limit`
 * rows older than a cutoff taken with SKIP LOCKED in the batch's transaction, and its record of what
 * it pruned (retention_runs). Copies' payloads are cleared through the copies repository.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** Takes the lock of a pruning batch for `tx`; false when another process holds it. */
  async tryLock(tx: Queryable): Promise<boolean> {
    const [lock] = (await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [RETENTION_LOCK])).rows;
    return lock?.ok === true;
  }

  /** A run's first batch pruned `count`; the run's id. */
  async recordRun(tx: Queryable, kind: RetentionKind, count: number, cutoff: Date, at: Date): Promise<string> {
    const [row] = (await tx.query<{ id: string }>('INSERT INTO retention_runs (kind, count, cutoff, at) VALUES ($1, $2, $3, $4) RETURNING id', [kind, count, cutoff, at])).rows;
    return row!.id;
  }

  /** A later batch of run `runId` pruned `count` more. */
  async addToRun(tx: Queryable, runId: string, count: number, at: Date): Promise<void> {
    await tx.query('UPDATE retention_runs SET count = count + $2, at = $3 WHERE id = $1', [runId, count, at]);
  }

  /**
   * Messages received before `cutoff`, payload not yet pruned, none of whose copies is in `openStates`
   * (may still be sent) and that no unresolved dead letter needs (it may be replayed); locked.
   */
  async prunablePayloads(tx: Queryable, cutoff: Date, limit: number, openStates: readonly string[]): Promise<PrunableMessage[]> {
    return (
      await tx.query<PrunableMessage>(
        `SELECT m.id, m.message_id, m.canonical FROM messages m
              WHERE m.payload_pruned_at IS NULL AND m.received_at < $1
                AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.message_id = m.message_id AND c.state = ANY($3::text[]))
                AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.message_id = m.message_id AND d.resolved_at IS NULL)
              ORDER BY m.received_at, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
        [cutoff, limit, openStates],
      )
    ).rows;
  }

  /** The messages' payloads emptied and their canonical forms replaced by `canonical` (stripped). */
  async prunePayloads(tx: Queryable, messages: ReadonlyArray<{ id: string; canonical: Record<string, unknown> }>): Promise<void> {
    await tx.query(
      `UPDATE messages m SET payload = '\\x'::bytea, canonical = u.canonical, payload_pruned_at = now()
             FROM unnest($1::bigint[], $2::jsonb[]) AS u(id, canonical) WHERE m.id = u.id`,
      [messages.map((r) => r.id), messages.map((r) => JSON.stringify(r.canonical))],
    );
  }

  /** Dead letters resolved before `cutoff`, deleted; how many. */
  async deleteDeadLetters(tx: Queryable, cutoff: Date, limit: number): Promise<number> {
    return (
      await tx.query(
        `DELETE FROM dead_letters WHERE id IN (
               SELECT id FROM dead_letters WHERE resolved_at IS NOT NULL AND resolved_at < $1 ORDER BY resolved_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [cutoff, limit],
      )
    ).rowCount ?? 0;
  }

  /** The PDFs of fallback documents sent before `cutoff`, removed (the documents stay); how many. */
  async pruneDocuments(tx: Queryable, cutoff: Date, limit: number): Promise<number> {
    return (
      await tx.query(
        `UPDATE fallback_documents SET pdf = NULL, pdf_pruned_at = now() WHERE id IN (
               SELECT id FROM fallback_documents WHERE status = 'sent' AND pdf IS NOT NULL AND sent_at < $1 ORDER BY sent_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [cutoff, limit],
      )
    ).rowCount ?? 0;
  }

  /** Audit entries older than `cutoff`, deleted; how many. The audit log refuses deletes except of entries older than the cutoff the transaction names. */
  async deleteAudit(tx: Queryable, cutoff: Date, limit: number): Promise<number> {
    await tx.query("SELECT set_config('svu.retention_audit_cutoff', $1, true)", [cutoff.toISOString()]);
    return (
      await tx.query('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at, id LIMIT $2 FOR UPDATE SKIP LOCKED)', [cutoff, limit])
    ).rowCount ?? 0;
  }

  /** The latest records of what the retention job pruned, newest first. */
  history(limit: number): Promise<Array<{ kind: RetentionKind; count: number; cutoff: Date; at: Date }>> {
    return this.db.query<{ kind: RetentionKind; count: number; cutoff: Date; at: Date }>('SELECT kind, count, cutoff, at FROM retention_runs ORDER BY at DESC, id DESC LIMIT $1', [limit]);
  }
}
