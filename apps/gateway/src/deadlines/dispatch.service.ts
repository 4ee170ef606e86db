import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import { CopiesRepository } from '../store/copies.repository';

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
  readonly status: 'waiting' | 'sent' | 'withdrawn';
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

/** Marking sent: the document as it now stands, or why it was refused (`not-found`, or a reason naming the field). */
export type MarkSentOutcome = { readonly entry: DispatchEntry; readonly refused?: undefined } | { readonly entry?: undefined; readonly refused: string };

/** How far ahead of the gateway's clock an operator's time of sending may be. */
const CLOCK_SKEW_MS = 60_000;

const COLUMNS = `id, copy_id AS "copyId", message_id AS "messageId", recipient_hsa AS "recipientHsa", kind, trigger, reference,
  deadline, created_at AS "createdAt", status, sent_via AS "sentVia", sent_at AS "sentAt", sent_by AS "sentBy",
  delivered_at AS "deliveredAt", withdrawn_at AS "withdrawnAt", withdrawn_by AS "withdrawnBy"`;

/** The manual-dispatch queue: fallback documents waiting to be sent by fax or letter, and marking them sent. */
@Injectable()
export class DispatchService {
  constructor(
    private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'postalDelayMs'>,
    private readonly copies: CopiesRepository,
  ) {}

  /** Documents by status, the most urgent first: by deadline (admissions), else by when they were made. */
  async list(status: DispatchStatus | 'all' = 'waiting', limit = 100): Promise<DispatchEntry[]> {
    return this.db.query<DispatchEntry & Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM fallback_documents WHERE ($1 = 'all' OR status = $1) ORDER BY COALESCE(deadline, created_at), id LIMIT $2`,
      [status, limit],
    );
  }

  /** The document's PDF; `pdf` is null once retention has pruned it (docs/retention.md). */
  async pdf(id: string): Promise<{ pdf: Buffer | null; reference: string } | undefined> {
    const rows = await this.db.query<{ pdf: Buffer | null; reference: string }>('SELECT pdf, reference FROM fallback_documents WHERE id = $1', [id]);
    return rows[0];
  }

  /**
   * Marks a waiting document sent; the copy then counts as delivered by hand when it reached the
   * recipient: a fax at once, a letter after the postal delay (a letter posted just before the
   * deadline has informed nobody yet). The 24-hour judgement and the deadline-missed deviation use
   * that time. Undefined when there is no such waiting document (already sent, withdrawn, or unknown).
   */
  async markSent(id: string, via: 'fax' | 'letter', by: string, at: Date = this.clock.now()): Promise<MarkSentOutcome> {
    // A time of sending is the operator's word, but not any word: not ahead of the clock (a minute's
    // skew allowed), and not before the document existed — either would move the 24-hour judgement.
    if (at.getTime() > this.clock.now().getTime() + CLOCK_SKEW_MS) return { refused: 'at: lies in the future' };
    const deliveredAt = new Date(at.getTime() + (via === 'letter' ? this.config.postalDelayMs : 0));
    return this.db.transaction(async (tx) => {
      const found = await tx.query<{ status: string; created_at: Date }>('SELECT status, created_at FROM fallback_documents WHERE id = $1 FOR UPDATE', [id]);
      const document = found.rows[0];
      if (document === undefined) return { refused: 'not-found' };
      if (document.status !== 'waiting') return { refused: `fallback document ${id} is not waiting (it is ${document.status})` };
      if (at.getTime() < document.created_at.getTime()) return { refused: 'at: lies before the document was made' };
      const updated = await tx.query<DispatchEntry & Record<string, unknown>>(
        `UPDATE fallback_documents SET status = 'sent', sent_via = $2, sent_by = $3, sent_at = $4, delivered_at = $5
         WHERE id = $1 AND status = 'waiting' RETURNING ${COLUMNS}`,
        [id, via, by, at, deliveredAt],
      );
      const entry = updated.rows[0]!;
      await this.copies.deliveredByHand(tx, entry.copyId, deliveredAt, `${via} by ${by}`);
      return { entry };
    });
  }
}
