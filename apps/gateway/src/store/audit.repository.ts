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
  /** For a bulk job's entry (bulk-replay, bulk-discard): how many entries of its dead letters are grouped under it. */
  readonly items?: number;
}

/** What the audit log can be narrowed to (all optional). */
export interface AuditFilter {
  /** The user name, exactly. */
  readonly user?: string;
  /** The action, exactly (replay, discard, bulk-replay, view-dead-letter …). */
  readonly action?: string;
  /** Text the target holds (dead-letter:12, a message id …); entries of bulk jobs' dead letters are then listed too. */
  readonly target?: string;
  /** At or after this instant. */
  readonly from?: Date;
  /** Before this instant. */
  readonly to?: Date;
  /** Only the entries of this bulk job's dead letters. */
  readonly job?: string;
}

export interface AuditPage {
  readonly items: AuditEntry[];
  readonly total: number;
  /** The `before` of the next page; null on the last. */
  readonly next: string | null;
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

  /**
   * A page of the log, newest first (keyset-paged by id), and how many entries the filter selects.
   * The entries of a bulk job's dead letters are grouped under the job: left out of the list (the
   * job's entry counts them in `items`) unless the filter names a target or the job.
   */
  async page(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditPage> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      conditions.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.user !== undefined) add('a.username = ?', filter.user);
    if (filter.action !== undefined) add('a.action = ?', filter.action);
    if (filter.target !== undefined) add('strpos(a.target, ?) > 0', filter.target);
    if (filter.from !== undefined) add('a.at >= ?', filter.from);
    if (filter.to !== undefined) add('a.at < ?', filter.to);
    if (filter.job !== undefined) add("a.detail->>'bulkJob' = ?", filter.job);
    else if (filter.target === undefined) conditions.push(`NOT (a.detail IS NOT NULL AND jsonb_typeof(a.detail) = 'object' AND a.detail ? 'bulkJob')`);
    const where = conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
    const counted = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log a WHERE ${where}`, params);
    const pageParams = [...params, before ?? null, limit + 1];
    const rows = await this.db.query<AuditEntry & Record<string, unknown>>(
      `SELECT a.id::text, a.at, a.username, a.role, a.action, a.target, a.detail,
         CASE WHEN a.action IN ('bulk-replay', 'bulk-discard') AND a.target LIKE 'bulk-job:%' THEN
           (SELECT count(*)::int FROM audit_log i WHERE i.detail ? 'bulkJob' AND i.detail->>'bulkJob' = substr(a.target, 10)) END AS items
       FROM audit_log a WHERE ${where} AND ($${params.length + 1}::bigint IS NULL OR a.id < $${params.length + 1})
       ORDER BY a.id DESC LIMIT $${params.length + 2}`,
      pageParams,
    );
    const items = rows.slice(0, limit).map((r) => {
      if (r.items !== null) return r;
      const entry: AuditEntry & { items?: unknown } = { ...r };
      delete entry.items;
      return entry;
    });
    return { items, total: Number(counted[0]!.n), next: rows.length > limit ? items[items.length - 1]!.id : null };
  }
}
