import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';

export interface AuditEntry {
  readonly id: string;
  readonly at: Date;
  readonly username: string;
  readonly role: string;
  readonly action: string;
  readonly target: string | null;
  readonly detail: unknown;
}

export interface AuditRecord {
  readonly username: string;
  readonly role: string;
  readonly action: string;
  readonly target: string | null;
  readonly detail?: Record<string, unknown>;
}

/** The audit log's rows: written once, never changed (the retention job alone deletes old ones). */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: Database) {}

  /** Writes an entry, in the transaction `tx` when given. */
  async insert(entry: AuditRecord, tx: Queryable = this.db.pool): Promise<void> {
    await tx.query('INSERT INTO audit_log (username, role, action, target, detail) VALUES ($1, $2, $3, $4, $5)', [
      entry.username,
      entry.role,
      entry.action,
      entry.target,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ]);
  }

  /**
   * Writes, in `tx`, an entry per fallback document a cancellation withdrew (`withdraw-fallback-document`
   * on `fallback-document:<id>`), by `actor` at `at`, naming the cancelled message, the document's
   * reference and the cancellation.
   */
  async documentsWithdrawn(
    tx: Queryable,
    actor: { readonly username: string; readonly role: string },
    withdrawn: { readonly cancelsMessageId: string; readonly cancelledBy: string; readonly documents: ReadonlyArray<{ id: string; reference: string }> },
    at: Date,
  ): Promise<void> {
    if (withdrawn.documents.length === 0) return;
    await tx.query(
      `INSERT INTO audit_log (at, username, role, action, target, detail)
       SELECT $1, $2, $3, 'withdraw-fallback-document', 'fallback-document:' || d.id, jsonb_build_object('messageId', $4::text, 'reference', d.reference, 'cancelledBy', $5::text)
       FROM unnest($6::bigint[], $7::text[]) AS d(id, reference)`,
      [at, actor.username, actor.role, withdrawn.cancelsMessageId, withdrawn.cancelledBy, withdrawn.documents.map((d) => d.id), withdrawn.documents.map((d) => d.reference)],
    );
  }

  /** Newest first, keyset-paged by id. */
  list(before: string | undefined, limit: number): Promise<AuditEntry[]> {
    return this.db.query<AuditEntry & Record<string, unknown>>(
      `SELECT id, at, username, role, action, target, detail FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
      [before ?? null, limit],
    );
  }
}
