import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../clock/clock';
import { Database } from '../store/database';
import { recordEvents } from '../store/records';

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
  readonly status: 'waiting' | 'sent';
  readonly sentVia: 'fax' | 'letter' | null;
  readonly sentAt: Date | null;
  readonly sentBy: string | null;
}

const COLUMNS = `id, copy_id AS "copyId", message_id AS "messageId", recipient_hsa AS "recipientHsa", kind, trigger, reference,
  deadline, created_at AS "createdAt", status, sent_via AS "sentVia", sent_at AS "sentAt", sent_by AS "sentBy"`;

/** The manual-dispatch queue: fallback documents waiting to be sent by fax or letter, and marking them sent. */
@Injectable()
export class DispatchService {
  constructor(
    private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(status: 'waiting' | 'sent' | 'all' = 'waiting', limit = 100): Promise<DispatchEntry[]> {
    return this.db.query<DispatchEntry & Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM fallback_documents WHERE ($1 = 'all' OR status = $1) ORDER BY deadline NULLS LAST, id LIMIT $2`,
      [status, limit],
    );
  }

  /** The document's PDF; `pdf` is null once retention has pruned it (docs/retention.md). */
  async pdf(id: string): Promise<{ pdf: Buffer | null; reference: string } | undefined> {
    const rows = await this.db.query<{ pdf: Buffer | null; reference: string }>('SELECT pdf, reference FROM fallback_documents WHERE id = $1', [id]);
    return rows[0];
  }

  /**
   * Marks a waiting document sent; the copy then counts as delivered by hand at that time. Undefined
   * when there is no such waiting document (already sent, or unknown).
   */
  async markSent(id: string, via: 'fax' | 'letter', by: string, at: Date = this.clock.now()): Promise<DispatchEntry | undefined> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.query<DispatchEntry & Record<string, unknown>>(
        `UPDATE fallback_documents SET status = 'sent', sent_via = $2, sent_by = $3, sent_at = $4
         WHERE id = $1 AND status = 'waiting' RETURNING ${COLUMNS}`,
        [id, via, by, at],
      );
      const entry = updated.rows[0];
      if (entry === undefined) return undefined;
      await tx.query('UPDATE copies SET manual_delivered_at = $2, updated_at = now() WHERE id = $1', [entry.copyId, at]);
      await recordEvents(tx, [entry.copyId], 'delivered-by-hand', `${via} by ${by}`);
      return entry;
    });
  }
}
