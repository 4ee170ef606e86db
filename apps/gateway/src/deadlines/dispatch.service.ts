import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import { CopiesRepository } from '../store/copies.repository';
import { DocumentsRepository, type DispatchEntry, type DispatchPage, type DispatchStatus } from '../store/documents.repository';
import { DirectoryService } from '../directory/directory.service';

export type { DispatchEntry, DispatchPage, DispatchStatus };

/** What the dispatch list is asked for (GET /api/manual-dispatch). */
export interface DispatchQuery {
  readonly status?: DispatchStatus | 'all';
  readonly unit?: string;
  readonly trigger?: string;
  readonly olderThanHours?: number;
  readonly offset?: number;
  readonly limit?: number;
}

/** How long after marking a document sent an operator may undo it. */
export const UNDO_WINDOW_MS = 60_000;

/** Marking sent: the document as it now stands, or why it was refused (`not-found`, or a reason naming the field). */
export type MarkSentOutcome =
  | { readonly entry: DispatchEntry; readonly refused?: undefined; readonly superseded?: undefined }
  | { readonly entry?: undefined; readonly refused: string; readonly superseded?: boolean };

/** Why a superseded document is not sent by hand. */
export function supersededReason(id: string, d: Pick<DispatchEntry, 'supersededBy' | 'copyDeliveredAt'>): string {
  return d.supersededBy === 'cancelled'
    ? `fallback document ${id} is superseded: its copy was cancelled; do not send it`
    : `fallback document ${id} is superseded: its copy was delivered electronically${d.copyDeliveredAt === null ? '' : ` at ${d.copyDeliveredAt.toISOString()}`}; do not send it`;
}

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
    private readonly directory: DirectoryService,
  ) {}

  /** Documents by status, the most urgent first: by deadline (admissions), else by when they were made. */
  list(status: DispatchStatus | 'all' = 'waiting', limit = 100): Promise<DispatchEntry[]> {
    return this.documents.list(status, this.clock.now(), limit);
  }

  /**
   * One page of documents, the most urgent first, with the total for the filter and per status. `unit`
   * matches a substring of the HSA id, or of the unit's name in the directory (any case).
   */
  page(query: DispatchQuery): Promise<DispatchPage> {
    const unit = query.unit?.trim();
    const needle = unit?.toLocaleLowerCase('sv');
    let unitHsas: string[] = [];
    if (needle !== undefined && needle !== '') {
      try {
        unitHsas = this.directory.directory.units.filter((u) => u.name.toLocaleLowerCase('sv').includes(needle)).map((u) => u.hsaId);
      } catch {
        unitHsas = []; // no directory loaded: the HSA id alone
      }
    }
    return this.documents.page({
      status: query.status ?? 'waiting',
      ...(unit === undefined || unit === '' ? {} : { unit, unitHsas }),
      ...(query.trigger === undefined ? {} : { trigger: query.trigger }),
      ...(query.olderThanHours === undefined ? {} : { olderThanHours: query.olderThanHours }),
      now: this.clock.now(),
      offset: query.offset ?? 0,
      limit: query.limit ?? 100,
    });
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
      // Its copy is locked with it: a copy delivered electronically (or cancelled) since the list was
      // read is seen here, and a delivery recorded after this waits for the marking.
      const current = (await this.documents.get(id, tx))!;
      if (current.status === 'superseded') return { refused: supersededReason(id, current), superseded: true };
      if (at.getTime() < document.created_at.getTime()) return { refused: 'at: lies before the document was made' };
      const entry = (await this.documents.markSent(tx, id, { via, by, at, deliveredAt, markedAt: this.clock.now() }))!;
      await this.copies.deliveredByHand(tx, entry.copyId, deliveredAt, `${via} by ${by}`);
      return { entry };
    });
  }

  /**
   * Undoes marking a document sent, within UNDO_WINDOW_MS of the marking: the document waits again and
   * its copy is no longer delivered by hand (`undo-deliver-by-hand`). Refused after the window, when
   * the document is not sent, or when a cancellation has already been asked to follow it by hand.
   */
  async undoMarkSent(id: string, by: string): Promise<MarkSentOutcome> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const document = await this.documents.lockForSending(tx, id);
      if (document === undefined) return { refused: 'not-found' };
      if (document.status !== 'sent') return { refused: `fallback document ${id} is not marked sent (it is ${document.status})` };
      const markedAt = document.marked_at;
      if (markedAt === null || now.getTime() - markedAt.getTime() > UNDO_WINDOW_MS) {
        return { refused: `fallback document ${id} was marked sent ${markedAt === null ? 'before undo existed' : `at ${markedAt.toISOString()}`}: the undo window of ${UNDO_WINDOW_MS / 1000} s has passed` };
      }
      if (await this.documents.hasFollowUp(tx, id)) return { refused: `fallback document ${id}: a cancellation has been asked to follow it by the same way; marking it sent cannot be undone` };
      const entry = (await this.documents.undoSent(tx, id))!;
      await this.copies.undoDeliveredByHand(tx, entry.copyId, markedAt, `marking sent undone by ${by}`);
      return { entry };
    });
  }
}
