import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import { CopiesRepository } from '../store/copies.repository';
import { DocumentsRepository, type DispatchEntry, type DispatchStatus } from '../store/documents.repository';

export type { DispatchEntry, DispatchStatus };

/** Marking sent: the document as it now stands, or why it was refused (`not-found`, or a reason naming the field). */
export type MarkSentOutcome = { readonly entry: DispatchEntry; readonly refused?: undefined } | { readonly entry?: undefined; readonly refused: string };

/** How far ahead of the gateway's clock an operator's time of sending may be. */
const CLOCK_SKEW_MS = 60_000;

/** The manual-dispatch queue: fallback documents waiting to be sent by fax or letter, and marking them sent. */
@Injectable()
export class DispatchService {
  constructor(
    private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'postalDelayMs'>,
    private readonly copies: CopiesRepository,
    private readonly documents: DocumentsRepository,
  ) {}

  /** Documents by status, the most urgent first: by deadline (admissions), else by when they were made. */
  list(status: DispatchStatus | 'all' = 'waiting', limit = 100): Promise<DispatchEntry[]> {
    return this.documents.list(status, limit);
  }

  /** The document's PDF; `pdf` is null once retention has pruned it (docs/retention.md). */
  pdf(id: string): Promise<{ pdf: Buffer | null; reference: string } | undefined> {
    return this.documents.pdf(id);
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
      const document = await this.documents.lockForSending(tx, id);
      if (document === undefined) return { refused: 'not-found' };
      if (document.status !== 'waiting') return { refused: `fallback document ${id} is not waiting (it is ${document.status})` };
      if (at.getTime() < document.created_at.getTime()) return { refused: 'at: lies before the document was made' };
      const entry = (await this.documents.markSent(tx, id, { via, by, at, deliveredAt }))!;
      await this.copies.deliveredByHand(tx, entry.copyId, deliveredAt, `${via} by ${by}`);
      return { entry };
    });
  }
}
