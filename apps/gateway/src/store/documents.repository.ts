import { Injectable } from '@nestjs/common';
import type { MessageType } from '@svu/canonical';
import { Database, type Queryable } from './database';

/** A fallback document in the manual-dispatch queue, as the console lists it. */
export interface DispatchEntry {
  readonly id: string;
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly kind: 'letter' | 'fax';
  readonly trigger: string;
  readonly reference: string;
  readonly deadline: Date | null;
  readonly createdAt: Date;
  /**
   * As the console sees it: `superseded` is a waiting document whose copy was meanwhile delivered
   * electronically (or acknowledged) or cancelled — computed from the copy's state when read, never
   * offered for sending (the store keeps such a document `waiting`; marking it sent is refused).
   */
  readonly status: 'waiting' | 'superseded' | 'sent' | 'withdrawn';
  /** Why a document is superseded: `delivered-electronically` or `cancelled`; null otherwise. */
  readonly supersededBy: 'delivered-electronically' | 'cancelled' | null;
  /** The copy's state now (copy-lifecycle.ts), and when it was delivered electronically (null when not). */
  readonly copyState: string;
  readonly copyDeliveredAt: Date | null;
  /** When an operator marked it sent (sentAt is the operator's word and may be earlier): the undo window counts from it. */
  readonly markedAt: Date | null;
  readonly sentVia: 'fax' | 'letter' | null;
  readonly sentAt: Date | null;
  readonly sentBy: string | null;
  /** When it reached the recipient: a fax when sent, a letter when sent plus SVU_POSTAL_DELAY. */
  readonly deliveredAt: Date | null;
  /** Withdrawn because the message was cancelled before the document was sent: when, and by which cancellation. */
  readonly withdrawnAt: Date | null;
  readonly withdrawnBy: string | null;
}

export type DispatchStatus = DispatchEntry['status'];

/** What the console's dispatch list may be filtered by; `unitHsas`: HSA ids whose unit name matched `unit`. */
export interface DispatchFilter {
  readonly status: DispatchStatus | 'all';
  /** A substring of the recipient's HSA id (any case), or of its name (resolved by the caller into `unitHsas`). */
  readonly unit?: string;
  readonly unitHsas?: readonly string[];
  readonly trigger?: string;
  /** Made at least this many hours before `now`. */
  readonly olderThanHours?: number;
  readonly now: Date;
  readonly offset: number;
  readonly limit: number;
}

/** One page of the dispatch list: the total for the filter, and the totals per status under the other filters. */
export interface DispatchPage {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly counts: Record<DispatchStatus, number>;
  readonly items: DispatchEntry[];
}

/**
 * A document as the console sees it (f: fallback_documents, c: its copy): a waiting document whose
 * copy was delivered electronically (or acknowledged) or cancelled is superseded.
 */
export const SUPERSEDED_BY_SQL = `CASE WHEN f.status <> 'waiting' THEN NULL
    WHEN c.delivered_at IS NOT NULL OR c.state IN ('delivered', 'acknowledged') THEN 'delivered-electronically'
    WHEN c.state = 'cancelled' THEN 'cancelled' END`;
const EFFECTIVE_STATUS_SQL = `CASE WHEN (${SUPERSEDED_BY_SQL}) IS NOT NULL THEN 'superseded' ELSE f.status END`;

const VIEW = `SELECT f.*, c.state AS copy_state, c.delivered_at AS copy_delivered_at, ${SUPERSEDED_BY_SQL} AS superseded_by, ${EFFECTIVE_STATUS_SQL} AS effective_status
  FROM fallback_documents f JOIN copies c ON c.id = f.copy_id`;

/** A fallback document the deadline watcher made for a copy. */
export interface NewDocument {
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly kind: 'fax' | 'letter';
  readonly trigger: string;
  readonly reference: string;
  readonly deadline: Date | null;
  readonly pdf: Buffer;
  readonly createdAt: Date;
}

/** The message a cancellation cancels, as one unit got it: its type, and its document if one was sent to the unit. */
export interface CancelledDocumentRow {
  readonly type: MessageType | null;
  readonly reference: string | null;
  readonly sent_via: 'fax' | 'letter' | null;
  readonly sent_at: Date | null;
}

/** What a cancellation acts on: the cancelled message's documents to these recipients. */
export interface CancellationTarget {
  /** The cancellation's own message id. */
  readonly messageId: string;
  readonly cancelsMessageId: string;
  readonly recipients: readonly string[];
  /** The cancellation acts only on the messages of its own sender system in its own episode (docs/senders.md). */
  readonly senderSystem: string;
  readonly episodeId: string;
}

const COLUMNS = `id, copy_id AS "copyId", message_id AS "messageId", recipient_hsa AS "recipientHsa", kind, trigger, reference,
  deadline, created_at AS "createdAt", effective_status AS status, superseded_by AS "supersededBy", copy_state AS "copyState",
  copy_delivered_at AS "copyDeliveredAt", sent_via AS "sentVia", sent_at AS "sentAt", sent_by AS "sentBy", marked_at AS "markedAt",
  delivered_at AS "deliveredAt", withdrawn_at AS "withdrawnAt", withdrawn_by AS "withdrawnBy"`;

/** COLUMNS of one document (by id, $1) as it now stands. */
const ONE = `SELECT ${COLUMNS} FROM (${VIEW} WHERE f.id = $1) d`;

/**
 * The copies of the cancelled message itself ($1 its message id, $5 the sender system, $6 the
 * episode): a message of another sender system may carry the same id.
 */
const OWN_COPIES = `SELECT c.id FROM copies c JOIN messages m ON m.id = c.message_pk WHERE m.message_id = $1 AND m.sender_system = $5 AND m.episode_id = $6`;

/**
 * Fallback documents (fax or letter) and what follows them: the documents the deadline watcher makes
 * (one per copy, by a unique key), the manual-dispatch queue and its marking sent, the record of
 * cancelled messages, documents a cancellation withdraws, and the cancellations to send by hand
 * after a document that was sent (fallback_follow_ups). The copies those documents are for change
 * only through the copies repository.
 */
@Injectable()
export class DocumentsRepository {
  constructor(private readonly db: Database) {}

  /** Deadlines: stores a copy's document unless the copy has one; whether it is new. */
  async insert(tx: Queryable, document: NewDocument): Promise<boolean> {
    const inserted = await tx.query(
      `INSERT INTO fallback_documents (copy_id, message_id, recipient_hsa, kind, trigger, reference, deadline, pdf, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (copy_id) DO NOTHING`,
      [document.copyId, document.messageId, document.recipientHsa, document.kind, document.trigger, document.reference, document.deadline, document.pdf, document.createdAt],
    );
    return inserted.rowCount !== 0;
  }

  /** Deadlines: the cancellation asked for by a follow-up has its document. */
  async followUpDone(tx: Queryable, followUpId: string, at: Date): Promise<void> {
    await tx.query('UPDATE fallback_follow_ups SET done_at = $2 WHERE id = $1', [followUpId, at]);
  }

  /** Deadlines: what a cancellation cancels, as the unit `recipientHsa` got it (always a row; its fields null when unknown). */
  async cancelledDocument(tx: Queryable, messageId: string, recipientHsa: string): Promise<CancelledDocumentRow | undefined> {
    const { rows } = await tx.query<CancelledDocumentRow>(
      `SELECT (SELECT type FROM messages WHERE message_id = $1) AS type, f.reference, f.sent_via, f.sent_at
       FROM (SELECT 1) AS one LEFT JOIN fallback_documents f ON f.message_id = $1 AND f.recipient_hsa = $2 AND f.status = 'sent'`,
      [messageId, recipientHsa],
    );
    return rows[0];
  }

  /** Console: documents by status at `now`, the most urgent first: by deadline (admissions), else by when they were made. */
  async list(status: DispatchStatus | 'all', now: Date, limit: number): Promise<DispatchEntry[]> {
    return (await this.page({ status, now, offset: 0, limit })).items;
  }

  /**
   * Console: one page of documents under `filter`, the most urgent first (by deadline, else by when
   * they were made), with the total for the filter and the totals per status under its other filters.
   */
  async page(filter: DispatchFilter): Promise<DispatchPage> {
    const params: unknown[] = [];
    const conditions: string[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.unit !== undefined && filter.unit !== '') {
      const like = param(`%${filter.unit.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      conditions.push(`(recipient_hsa ILIKE ${like} OR recipient_hsa = ANY(${param([...(filter.unitHsas ?? [])])}::text[]))`);
    }
    if (filter.trigger !== undefined) conditions.push(`trigger = ${param(filter.trigger)}`);
    if (filter.olderThanHours !== undefined) conditions.push(`created_at <= ${param(filter.now)}::timestamptz - ${param(filter.olderThanHours)} * interval '1 hour'`);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const filtered = `SELECT * FROM (${VIEW}) v ${where}`;
    const countRows = await this.db.query<{ status: DispatchStatus; n: string }>(`SELECT effective_status AS status, count(*) AS n FROM (${filtered}) d GROUP BY 1`, params);
    const counts: Record<DispatchStatus, number> = { waiting: 0, superseded: 0, sent: 0, withdrawn: 0 };
    for (const r of countRows) counts[r.status] = Number(r.n);
    const total = filter.status === 'all' ? Object.values(counts).reduce((a, b) => a + b, 0) : counts[filter.status];
    const statusParam = param(filter.status);
    const items = await this.db.query<DispatchEntry & Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM (${filtered}) d WHERE (${statusParam} = 'all' OR effective_status = ${statusParam})
       ORDER BY deadline NULLS LAST, created_at, id LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      params,
    );
    return { total, offset: filter.offset, limit: filter.limit, counts, items };
  }

  /** Console: one document as it now stands. */
  async get(id: string, on?: Queryable): Promise<DispatchEntry | undefined> {
    if (on === undefined) return (await this.db.query<DispatchEntry & Record<string, unknown>>(ONE, [id]))[0];
    return (await on.query<DispatchEntry & Record<string, unknown>>(ONE, [id])).rows[0];
  }

  /** Console: a document's PDF; `pdf` is null once retention has pruned it (docs/retention.md). */
  async pdf(id: string): Promise<{ pdf: Buffer | null; reference: string } | undefined> {
    const rows = await this.db.query<{ pdf: Buffer | null; reference: string }>('SELECT pdf, reference FROM fallback_documents WHERE id = $1', [id]);
    return rows[0];
  }

  /**
   * Console: a document's status, its copy and when it was made and marked sent, locked in `tx` — the
   * document, and its copy too (so that an electronic delivery of the copy cannot land between the
   * check and the marking: it waits for this transaction, or this one sees it).
   */
  async lockForSending(tx: Queryable, id: string): Promise<{ status: string; copy_id: string; created_at: Date; marked_at: Date | null } | undefined> {
    const found = await tx.query<{ status: string; copy_id: string; created_at: Date; marked_at: Date | null }>(
      'SELECT status, copy_id, created_at, marked_at FROM fallback_documents WHERE id = $1 FOR UPDATE',
      [id],
    );
    const document = found.rows[0];
    if (document !== undefined) await tx.query('SELECT id FROM copies WHERE id = $1 FOR UPDATE', [document.copy_id]);
    return document;
  }

  /** Console: a waiting document sent by `via` at `at`, reaching its recipient at `deliveredAt`, marked at `markedAt`; undefined when it was not waiting. */
  async markSent(tx: Queryable, id: string, sent: { via: 'fax' | 'letter'; by: string; at: Date; deliveredAt: Date; markedAt: Date }): Promise<DispatchEntry | undefined> {
    const updated = await tx.query(
      `UPDATE fallback_documents SET status = 'sent', sent_via = $2, sent_by = $3, sent_at = $4, delivered_at = $5, marked_at = $6
         WHERE id = $1 AND status = 'waiting' RETURNING id`,
      [id, sent.via, sent.by, sent.at, sent.deliveredAt, sent.markedAt],
    );
    return updated.rows.length === 0 ? undefined : this.get(id, tx);
  }

  /** Console: whether a cancellation follow-up was asked for after this sent document (its undo would leave it without its original). */
  async hasFollowUp(tx: Queryable, id: string): Promise<boolean> {
    const { rows } = await tx.query('SELECT 1 FROM fallback_follow_ups WHERE original_document_id = $1 LIMIT 1', [id]);
    return rows.length > 0;
  }

  /** Console: a sent document back to waiting (marking it sent undone); undefined when it was not sent. */
  async undoSent(tx: Queryable, id: string): Promise<DispatchEntry | undefined> {
    const updated = await tx.query(
      `UPDATE fallback_documents SET status = 'waiting', sent_via = NULL, sent_by = NULL, sent_at = NULL, delivered_at = NULL, marked_at = NULL
         WHERE id = $1 AND status = 'sent' RETURNING id`,
      [id],
    );
    return updated.rows.length === 0 ? undefined : this.get(id, tx);
  }

  /** Ingress: the cancelled message (of the cancellation's sender system and episode) no longer stands; the first record stays. */
  async recordCancellation(tx: Queryable, target: CancellationTarget, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO message_cancellations (sender_system, message_id, cancelled_by, cancelled_at)
     SELECT sender_system, message_id, $4, $5 FROM messages WHERE message_id = $1 AND sender_system = $2 AND episode_id = $3
     ON CONFLICT (sender_system, message_id) DO NOTHING`,
      [target.cancelsMessageId, target.senderSystem, target.episodeId, target.messageId, at],
    );
  }

  /** Ingress: the cancelled message's documents to these recipients not sent yet, withdrawn at `at`; returns them. */
  async withdraw(tx: Queryable, target: CancellationTarget, at: Date): Promise<Array<{ id: string; copy_id: string; recipient_hsa: string; reference: string }>> {
    const { rows } = await tx.query<{ id: string; copy_id: string; recipient_hsa: string; reference: string }>(
      `UPDATE fallback_documents SET status = 'withdrawn', withdrawn_at = $3, withdrawn_by = $4
     WHERE message_id = $1 AND recipient_hsa = ANY($2) AND status = 'waiting' AND copy_id IN (${OWN_COPIES})
     RETURNING id, copy_id, recipient_hsa, reference`,
      [target.cancelsMessageId, target.recipients, at, target.messageId, target.senderSystem, target.episodeId],
    );
    return rows;
  }

  /**
   * Ingress: for each of these recipients that got the cancelled message's document by fax or letter,
   * asks the deadline watcher for the cancellation the same way (once per cancellation and unit).
   * Returns the recipients asked for now.
   */
  async followUp(tx: Queryable, target: CancellationTarget, at: Date): Promise<string[]> {
    const { rows } = await tx.query<{ recipient_hsa: string }>(
      `INSERT INTO fallback_follow_ups (cancellation_message_id, recipient_hsa, kind, original_document_id, created_at)
     SELECT $3, recipient_hsa, sent_via, id, $4 FROM fallback_documents
     WHERE message_id = $1 AND recipient_hsa = ANY($2) AND status = 'sent' AND copy_id IN (${OWN_COPIES})
     ON CONFLICT (cancellation_message_id, recipient_hsa) DO NOTHING
     RETURNING recipient_hsa`,
      [target.cancelsMessageId, target.recipients, target.messageId, at, target.senderSystem, target.episodeId],
    );
    return rows.map((r) => r.recipient_hsa);
  }
}
