import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';
import type { DeadLetterReason } from './records';

/** What the dead-letter list can be narrowed to (all optional). */
export interface DeadLetterFilter {
  readonly status?: 'open' | 'resolved' | 'all';
  readonly reason?: string;
  readonly dialect?: string;
  readonly recipient?: string;
  readonly type?: string;
  /** Created at or after this instant. */
  readonly from?: string;
  /** Created before this instant. */
  readonly to?: string;
  /** A message id or episode id, exactly. */
  readonly q?: string;
  /**
   * With `recipient`: the HSA ids of the directory's units whose name holds that text; a dead letter
   * matches when its recipient is one of them or its HSA id holds the text (any case).
   */
  readonly recipientIds?: readonly string[];
}

/** How many dead letters of a selection there are per value of a field. */
export interface Breakdown {
  readonly byUnit: ReadonlyArray<{ readonly key: string | null; readonly count: number }>;
  readonly byType: ReadonlyArray<{ readonly key: string | null; readonly count: number }>;
  readonly byReason: ReadonlyArray<{ readonly key: string | null; readonly count: number }>;
}

export interface DeadLetterRow {
  readonly id: string;
  readonly createdAt: Date;
  readonly reason: string;
  readonly messageId: string | null;
  readonly episodeId: string | null;
  readonly type: string | null;
  readonly dialect: string | null;
  readonly recipientHsa: string | null;
  readonly lastError: string | null;
  readonly problemCount: number;
  readonly resolvedAt: Date | null;
  readonly resolution: string | null;
  /** The sender unit of the message (null for a message refused before it was stored). */
  readonly senderHsa: string | null;
  /** The sender system that sent it. */
  readonly senderSystem: string | null;
}

export interface BulkJob {
  readonly id: string;
  readonly action: 'replay' | 'discard';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  /** Found already resolved when the job came to them. */
  readonly skipped: number;
  /** Not gone through because the job was cancelled (0 unless cancelled and finished). */
  readonly cancelled: number;
  readonly status: 'running' | 'done' | 'cancelled';
  /** Who cancelled it (null unless cancelled). */
  readonly cancelledBy: string | null;
  readonly filter: DeadLetterFilter;
  readonly reason: string | null;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
}

type Row = Record<string, unknown>;

const LIST_COLUMNS = `id, created_at AS "createdAt", reason, message_id AS "messageId", episode_id AS "episodeId", type, dialect,
  recipient_hsa AS "recipientHsa", last_error AS "lastError", coalesce(jsonb_array_length(problems), 0) AS "problemCount",
  resolved_at AS "resolvedAt", resolution,
  (SELECT m.sender_hsa FROM messages m WHERE m.id = dead_letters.message_pk) AS "senderHsa",
  coalesce(sender_system, (SELECT nullif(m.sender_system, '') FROM messages m WHERE m.id = dead_letters.message_pk)) AS "senderSystem"`;

// A job is finished when its runner stopped (finished_at): a cancelled job's counts are final then.
const BULK_COLUMNS = `id::text, action, total, done, failed, skipped,
  CASE WHEN status = 'cancelled' AND finished_at IS NOT NULL THEN total - done - failed - skipped ELSE 0 END AS cancelled,
  status, cancelled_by AS "cancelledBy", filter, reason, created_by AS "createdBy", created_at AS "createdAt", finished_at AS "finishedAt"`;

/** SQL conditions for a filter, with their parameters numbered from `first`. */
function filterSql(filter: DeadLetterFilter, first = 1): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${first + params.length - 1}`));
  };
  const status = filter.status ?? 'open';
  if (status === 'open') conditions.push('resolved_at IS NULL');
  if (status === 'resolved') conditions.push('resolved_at IS NOT NULL');
  if (filter.reason !== undefined) add('reason = ?', filter.reason);
  if (filter.dialect !== undefined) add('dialect = ?', filter.dialect);
  if (filter.recipient !== undefined) {
    params.push(filter.recipient, filter.recipientIds ?? []);
    const n = first + params.length - 2;
    conditions.push(`(strpos(lower(recipient_hsa), lower($${n})) > 0 OR recipient_hsa = ANY($${n + 1}::text[]))`);
  }
  if (filter.type !== undefined) add('type = ?', filter.type);
  if (filter.from !== undefined) add('created_at >= ?', new Date(filter.from));
  if (filter.to !== undefined) add('created_at < ?', new Date(filter.to));
  if (filter.q !== undefined) {
    params.push(filter.q);
    const n = first + params.length - 1;
    conditions.push(`(message_id = $${n} OR episode_id = $${n})`);
  }
  return { where: conditions.length === 0 ? 'TRUE' : conditions.join(' AND '), params };
}

/**
 * The dead-letter queue as operations see it: the list (filters, keyset paging), a dead letter with
 * its message, resolving one (replayed, corrected, discarded), the bulk jobs that replay or discard a
 * selection, and the removal of refused bodies past their retention. Dead letters are written by
 * insertDeadLetter (records.ts), in the transaction of whatever refused or gave up on the message.
 */
@Injectable()
export class DeadLettersRepository {
  constructor(private readonly db: Database) {}

  /** Newest first; after the row (`createdAt`, `id`) of `after` when given. */
  list(filter: DeadLetterFilter, after: { at: Date; id: string } | undefined, limit: number): Promise<DeadLetterRow[]> {
    const { where, params } = filterSql(filter);
    let keyset = '';
    if (after !== undefined) {
      params.push(after.at, after.id);
      keyset = ` AND (created_at, id) < ($${params.length - 1}, $${params.length})`;
    }
    params.push(limit);
    return this.db.query<DeadLetterRow & Row>(`SELECT ${LIST_COLUMNS} FROM dead_letters WHERE ${where}${keyset} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params);
  }

  async count(filter: DeadLetterFilter): Promise<number> {
    const { where, params } = filterSql(filter);
    const rows = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM dead_letters WHERE ${where}`, params);
    return Number(rows[0]!.n);
  }

  /** The ids of the selection, oldest first. */
  async ids(filter: DeadLetterFilter, limit: number): Promise<string[]> {
    const { where, params } = filterSql(filter);
    params.push(limit);
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM dead_letters WHERE ${where} ORDER BY created_at, id LIMIT $${params.length}`, params);
    return rows.map((r) => r.id);
  }

  /**
   * A dead letter with its message's canonical form, payload, dialect, sender and time of receipt
   * (null when it has no message), and its copy's last failed attempt.
   */
  async withMessage(id: string): Promise<Row | undefined> {
    const rows = await this.db.query<Row>(
      `SELECT d.*, m.canonical, m.payload AS message_payload, m.dialect AS message_dialect, m.received_at,
         m.sender_hsa, nullif(m.sender_system, '') AS message_sender_system, c.last_attempt
       FROM dead_letters d LEFT JOIN messages m ON m.id = d.message_pk LEFT JOIN copies c ON c.id = d.copy_id WHERE d.id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Every column of a dead letter. */
  async get(id: string): Promise<Row | undefined> {
    const rows = await this.db.query<Row>('SELECT * FROM dead_letters WHERE id = $1', [id]);
    return rows[0];
  }

  /**
   * Correct-and-replay of a copy: the message's payload before the correction is kept in its dead
   * letter (which kept none, the message held it).
   */
  async keepOriginal(id: string, payload: Buffer): Promise<void> {
    await this.db.query('UPDATE dead_letters SET payload = $2 WHERE id = $1 AND payload IS NULL', [id, payload]);
  }

  /**
   * Ingress (`cancel` and `withdraw`, docs/rules.md, rule 5): the open dead letters of the copies a
   * cancellation has just cancelled (the cancelled message `messageId` of `senderSystem` in
   * `episodeId`, to these recipients) are resolved as `cancelled` in the cancellation's transaction:
   * nothing is left to replay (a replay would deliver a message its sender withdrew). Returns how many.
   */
  async resolveCancelled(
    tx: Queryable,
    target: { messageId: string; recipients: readonly string[]; senderSystem: string; episodeId: string },
    cancellationId: string,
  ): Promise<number> {
    const { rowCount } = await tx.query(
      `UPDATE dead_letters d SET resolved_at = now(), resolution = 'cancelled', resolved_by = 'sender', resolution_detail = $5
       FROM copies c JOIN messages m ON m.id = c.message_pk
       WHERE d.copy_id = c.id AND d.resolved_at IS NULL AND c.state = 'cancelled'
         AND c.message_id = $1 AND c.recipient_hsa = ANY($2) AND m.sender_system = $3 AND m.episode_id = $4`,
      [target.messageId, target.recipients, target.senderSystem, target.episodeId, `cancelled by its sender (message ${cancellationId})`],
    );
    return rowCount ?? 0;
  }

  /** Resolves an open dead letter; false when it was resolved meanwhile. */
  async resolve(id: string, resolution: string, by: string, detail: string | null): Promise<boolean> {
    const updated = await this.db.query(
      `UPDATE dead_letters SET resolved_at = now(), resolution = $2, resolved_by = $3, resolution_detail = $4 WHERE id = $1 AND resolved_at IS NULL RETURNING id`,
      [id, resolution, by, detail],
    );
    return updated.length > 0;
  }

  /**
   * Sweeper: the bodies of dead letters with one of these `reasons` (messages refused at ingress)
   * older than `retentionMs` go, at most `limit`; the dead letter stays, its last error saying so.
   * Returns how many.
   */
  async pruneRefusedBodies(retentionMs: number, reasons: readonly DeadLetterReason[], limit: number): Promise<number> {
    const pruned = await this.db.query(
      `WITH old AS (
         SELECT id FROM dead_letters
         WHERE payload IS NOT NULL AND copy_id IS NULL AND created_at < now() - $1 * interval '1 millisecond' AND reason = ANY($2)
         ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE dead_letters d SET payload = NULL,
         last_error = concat_ws('; ', d.last_error, 'body removed after the retention period')
       FROM old WHERE d.id = old.id RETURNING d.id`,
      [retentionMs, reasons, limit],
    );
    return pruned.length;
  }

  /** A bulk job of `total` dead letters selected by `filter`, running. */
  async startBulkJob(job: { action: BulkJob['action']; filter: DeadLetterFilter; reason: string | null; total: number; createdBy: string }): Promise<BulkJob> {
    const rows = await this.db.query<BulkJob & Row>(
      `INSERT INTO bulk_jobs (action, filter, reason, total, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${BULK_COLUMNS}`,
      [job.action, JSON.stringify(job.filter), job.reason, job.total, job.createdBy],
    );
    return rows[0]!;
  }

  /** One more of a bulk job's dead letters went `how` (counted in the store, whatever the job's status). */
  async bulkItem(id: string, how: 'done' | 'failed' | 'skipped'): Promise<void> {
    await this.db.query(`UPDATE bulk_jobs SET ${how} = ${how} + 1, beat_at = now() WHERE id = $1`, [id]);
  }

  /** Whether a bulk job may go on with its next dead letter (it is running). */
  async bulkRunning(id: string): Promise<boolean> {
    const rows = await this.db.query<{ status: string }>('SELECT status FROM bulk_jobs WHERE id = $1', [id]);
    return rows[0]?.status === 'running';
  }

  /**
   * The runner of a bulk job stopped: through its selection (status done) or because it was cancelled
   * (status stays cancelled). From then on its counts are final.
   */
  async bulkFinished(id: string): Promise<void> {
    await this.db.query(`UPDATE bulk_jobs SET status = CASE WHEN status = 'running' THEN 'done' ELSE status END, finished_at = now() WHERE id = $1 AND finished_at IS NULL`, [id]);
  }

  /**
   * A bulk job that has not finished is to stop (its runner looks before each dead letter and then
   * marks it finished). A job whose runner gave no sign of life for `staleMs` (its process stopped)
   * is marked finished at once: what it did not go through counts as cancelled. False when the job
   * had finished already.
   */
  async cancelBulkJob(id: string, by: string, staleMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE bulk_jobs SET status = CASE WHEN status = 'running' THEN 'cancelled' ELSE status END, cancelled_by = coalesce(cancelled_by, $2),
         finished_at = CASE WHEN coalesce(beat_at, created_at) < now() - $3 * interval '1 millisecond' THEN now() END
       WHERE id = $1 AND finished_at IS NULL RETURNING id`,
      [id, by, staleMs],
    );
    return rows.length > 0;
  }

  /** Bulk jobs, newest first, keyset-paged by id. */
  bulkJobs(before: string | undefined, limit: number): Promise<BulkJob[]> {
    return this.db.query<BulkJob & Row>(`SELECT ${BULK_COLUMNS} FROM bulk_jobs WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`, [before ?? null, limit]);
  }

  /** How many open dead letters of a selection there are per recipient, type and reason (the most frequent 20 of each). */
  async breakdown(filter: DeadLetterFilter): Promise<Breakdown> {
    const { where, params } = filterSql(filter);
    const by = async (column: string) => {
      const rows = await this.db.query<{ key: string | null; n: string }>(
        `SELECT ${column} AS key, count(*) AS n FROM dead_letters WHERE ${where} GROUP BY ${column} ORDER BY count(*) DESC, ${column} LIMIT 20`,
        params,
      );
      return rows.map((r) => ({ key: r.key, count: Number(r.n) }));
    };
    return { byUnit: await by('recipient_hsa'), byType: await by('type'), byReason: await by('reason') };
  }

  async bulkJob(id: string): Promise<BulkJob | undefined> {
    const rows = await this.db.query<BulkJob & Row>(`SELECT ${BULK_COLUMNS} FROM bulk_jobs WHERE id = $1`, [id]);
    return rows[0];
  }
}
