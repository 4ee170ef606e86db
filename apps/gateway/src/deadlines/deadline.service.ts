import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { dejavuFonts, renderFallbackDocument, type CancelledDocument, type UnitContact } from '@svu/documents';
import { municipalityName } from '@svu/municipalities';
import { epochToInstant } from '@svu/swedish-time';
import { CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { MetricsService } from '../common/metrics.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DirectoryService } from '../directory/directory.service';
import { Database, type Queryable } from '../store/database';
import { CopiesRepository, type DueCopy } from '../store/copies.repository';
import { DocumentsRepository } from '../store/documents.repository';
import { insertDeviations } from '../store/deviations.repository';
import type { FallbackTrigger } from '../common/http/generated/api';

const BATCH = 20;

/** Deadlines judged per transaction. */
const JUDGE_BATCH = 500;

/**
 * The deadline watcher (docs/rules.md, rule 3). For every copy not yet delivered, of any type but
 * acknowledgements, it produces the fallback document — a fax when the directory has the recipient's
 * fax number, else a letter — and puts it in the manual-dispatch queue: at once when the recipient
 * has no electronic route or is unknown, or when retries are exhausted; for an admission when
 * `notifyBy − margin` has come; for the other types when their time after acceptance
 * (SVU_FALLBACK_CONFIG) has passed. A cancellation whose message reached a unit by fax or letter is
 * sent to it the same way, at once. Claiming goes through the database (row locks, SKIP LOCKED, one
 * document per copy by a unique key), so a copy falls back exactly once with any number of watchers
 * and across restarts. It also records a deviation for every admission copy whose deadline passed
 * without electronic or manual delivery (a letter counts from when it arrives).
 */
@Injectable()
export class DeadlineService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeadlineService.name);
  private readonly periodic: Periodic;
  private readonly fonts: ReturnType<typeof dejavuFonts>;
  /** The other types' fallback times as the due query takes them (type → ms). */
  private readonly delays: string;

  constructor(
    private readonly db: Database,
    private readonly directory: DirectoryService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly copies: CopiesRepository,
    private readonly documents: DocumentsRepository,
  ) {
    this.fonts = dejavuFonts(config.fontDir);
    this.delays = JSON.stringify(config.fallbackDelays);
    this.periodic = new Periodic('deadline round', config.deadlineEveryMs, () => this.tick(), this.logger);
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onModuleDestroy(): void {
    this.periodic.stop();
  }

  /** One round: fallback for every copy due now, then missed deadlines. Returns the documents made. */
  async tick(): Promise<number> {
    let made = 0;
    for (;;) {
      const n = await this.followUpBatch();
      made += n;
      if (n < BATCH) break;
    }
    for (;;) {
      const n = await this.fallBackBatch();
      made += n;
      if (n < BATCH) break;
    }
    await this.recordMissedDeadlines();
    return made;
  }

  private async fallBackBatch(): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const due = await this.copies.dueForFallback(tx, this.config.fallbackMarginMs, now, BATCH, this.delays);
      for (const copy of due) await this.fallBack(tx, copy, now);
      return due.length;
    });
  }

  /** A cancellation goes by fax or letter to each unit that got the cancelled message that way. */
  private async followUpBatch(): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const due = await this.copies.followUpsDue(tx, BATCH);
      for (const row of due) {
        await this.fallBack(tx, row, now, { kind: row.kind, trigger: 'follows-original' });
        await this.documents.followUpDone(tx, row.follow_up_id, now);
      }
      return due.length;
    });
  }

  private triggerOf(copy: DueCopy): FallbackTrigger {
    if (copy.state === 'manual') return 'no-electronic-route';
    if (copy.state === 'dead-lettered') return copy.last_error === 'unknown-recipient' ? 'unknown-recipient' : 'retries-exhausted';
    return copy.type === 'admission' ? 'deadline-near' : 'delivery-overdue';
  }

  /**
   * Renders and queues the copy's document, unless it has one (one per copy, by a unique key).
   * A cancellation goes the way the cancelled message's document went, when one was sent.
   */
  private async fallBack(tx: Queryable, copy: DueCopy, now: Date, forced?: { kind: 'fax' | 'letter'; trigger: FallbackTrigger }): Promise<boolean> {
    const unit = this.directory.lookup(copy.recipient_hsa);
    const cancels = copy.canonical.type === 'cancellation' ? await this.cancelledDocument(tx, copy.canonical.body.cancelsMessageId, copy.recipient_hsa) : undefined;
    const kind = forced?.kind ?? cancels?.sentVia ?? (unit?.fax !== undefined ? 'fax' : 'letter');
    const trigger = forced?.trigger ?? this.triggerOf(copy);
    const reference = `SVU-${copy.id}-${copy.message_id}`;
    const pdf = await renderFallbackDocument({
      kind,
      message: copy.canonical,
      recipient: { hsaId: copy.recipient_hsa, ...contactOf(unit) },
      ...(copy.notify_by === null ? {} : { deadline: epochToInstant(copy.notify_by.getTime()) }),
      reference,
      createdAt: epochToInstant(now.getTime()),
      fonts: this.fonts,
      unit: (hsaId) => {
        const found = this.directory.lookup(hsaId);
        return found === undefined ? undefined : { hsaId, ...contactOf(found) };
      },
      municipalityName,
      ...(cancels === undefined ? {} : { cancels }),
    });
    const isNew = await this.documents.insert(tx, {
      copyId: copy.id,
      messageId: copy.message_id,
      recipientHsa: copy.recipient_hsa,
      kind,
      trigger,
      reference,
      deadline: copy.notify_by,
      pdf,
      createdAt: now,
    });
    await this.copies.fellBack(tx, copy.id, now, isNew, `${kind}, ${trigger}`);
    if (!isNew) return false;
    this.metrics.fallbacks.inc({ kind, trigger });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, type: copy.type, kind, trigger }, 'fallback document waiting for manual dispatch');
    return true;
  }

  /** What a cancellation cancels, as this unit got it: the message's title, and its document if one was sent. */
  private async cancelledDocument(tx: Queryable, messageId: string, recipientHsa: string): Promise<CancelledDocument> {
    const row = await this.documents.cancelledDocument(tx, messageId, recipientHsa);
    return {
      messageId,
      ...(row?.type === null || row?.type === undefined ? {} : { type: row.type }),
      ...(row?.reference === null || row?.reference === undefined ? {} : { reference: row.reference }),
      ...(row?.sent_via === null || row?.sent_via === undefined ? {} : { sentVia: row.sent_via }),
      ...(row?.sent_at === null || row?.sent_at === undefined ? {} : { sentAt: epochToInstant(row.sent_at.getTime()) }),
    };
  }

  /**
   * Judges every copy whose deadline has passed, once: missed (a deviation) when it had neither
   * electronic nor manual delivery by then, unless the message was late on arrival or the copy was
   * cancelled. Copies leave the index of unjudged deadlines as they are judged.
   */
  private async recordMissedDeadlines(): Promise<void> {
    const now = this.clock.now();
    for (;;) {
      const judged = await this.db.transaction(async (tx) => {
        const rows = await this.copies.judgeDeadlines(tx, now, JUDGE_BATCH);
        await insertDeviations(
          tx,
          'deadline-missed',
          rows.filter((c) => c.missed).map((c) => ({ messageId: c.message_id, copyId: c.id, unitHsa: c.recipient_hsa, detail: `notifyBy ${c.notify_by.toISOString()}`, at: now })),
        );
        return rows.length;
      });
      if (judged < JUDGE_BATCH) return;
    }
  }
}

/** The contact details a document prints for a unit, from its directory entry. */
function contactOf(unit: DirectoryUnit | undefined): Omit<UnitContact, 'hsaId'> {
  if (unit === undefined) return {};
  return {
    name: unit.name,
    ...(unit.organisation === undefined ? {} : { organisation: unit.organisation }),
    ...(unit.phone === undefined ? {} : { phone: unit.phone }),
    ...(unit.fax === undefined ? {} : { fax: unit.fax }),
    ...(unit.postalAddress === undefined ? {} : { postalAddress: unit.postalAddress }),
  };
}
