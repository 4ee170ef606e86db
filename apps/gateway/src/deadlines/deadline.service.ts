import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import { dejavuFonts, renderFallbackDocument } from '@svu/documents';
import { CLOCK, type Clock } from '../clock/clock';
import { Periodic } from '../clock/periodic';
import { MetricsService } from '../console/metrics.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DirectoryService } from '../directory/directory.service';
import { Database, type Queryable } from '../store/database';
import { insertDeviations, recordEvents } from '../store/records';

/** Why a copy went to fallback. */
export type FallbackTrigger = 'deadline-near' | 'retries-exhausted' | 'no-electronic-route' | 'unknown-recipient';

interface DueCopy {
  readonly id: string;
  readonly message_id: string;
  readonly recipient_hsa: string;
  readonly state: string;
  readonly last_error: string | null;
  readonly notify_by: Date;
  readonly canonical: CanonicalMessage;
}

/**
 * Admission copies due for a fallback document: $1 margin (ms), $2 now, $3 limit. The conditions on
 * fallback, delivery and state are written out as in the predicate of the partial index
 * copies_fallback_due, which holds only open admission copies, so the question stays cheap however
 * many copies the store has (test/e2e/store checks the plan).
 */
export const FALLBACK_DUE_SQL = `SELECT c.id, c.message_id, c.recipient_hsa, c.state, c.last_error, c.notify_by, m.canonical
  FROM copies c JOIN messages m ON m.id = c.message_pk
  WHERE c.type = 'admission' AND c.notify_by IS NOT NULL AND c.fallback_at IS NULL AND c.delivered_at IS NULL
    AND c.state NOT IN ('cancelled', 'delivered', 'acknowledged')
    AND (c.state IN ('manual', 'dead-lettered')
         OR (NOT m.late_on_arrival AND c.notify_by - $1 * interval '1 millisecond' <= $2))
  ORDER BY c.notify_by, c.id
  LIMIT $3 FOR UPDATE OF c SKIP LOCKED`;

/** Judges passed deadlines not judged yet ($1 now, $2 limit), from the partial index copies_deadline_unjudged. */
export const JUDGE_DEADLINES_SQL = `WITH due AS (
    SELECT id FROM copies WHERE notify_by IS NOT NULL AND deadline_checked_at IS NULL AND notify_by < $1
    ORDER BY notify_by LIMIT $2 FOR UPDATE SKIP LOCKED)
  UPDATE copies c SET deadline_checked_at = $1,
    deadline_missed_at = CASE WHEN missed THEN $1 END
  FROM (SELECT c.id,
          NOT m.late_on_arrival AND c.type = 'admission' AND c.state <> 'cancelled'
          AND (c.delivered_at IS NULL OR c.delivered_at > c.notify_by)
          AND (c.manual_delivered_at IS NULL OR c.manual_delivered_at > c.notify_by) AS missed
        FROM due JOIN copies c ON c.id = due.id JOIN messages m ON m.id = c.message_pk) AS j
  WHERE c.id = j.id
  RETURNING c.id, c.message_id, c.recipient_hsa, c.notify_by, j.missed`;

const BATCH = 20;

/** Deadlines judged per transaction. */
const JUDGE_BATCH = 500;

/**
 * The deadline watcher (docs/rules.md, rules 2–3). For every admission copy not yet delivered it produces the
 * fallback document — a fax when the directory has the recipient's fax number, else a letter — and
 * puts it in the manual-dispatch queue, when `notifyBy − margin` has come, when retries are exhausted
 * or the recipient is unknown, or at once when the recipient has no electronic route. Claiming goes
 * through the database (row locks, SKIP LOCKED, one document per copy by a unique key), so a copy
 * falls back exactly once with any number of watchers and across restarts. It also records a
 * deviation for every copy whose deadline passed without electronic or manual delivery.
 */
@Injectable()
export class DeadlineService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeadlineService.name);
  private readonly periodic: Periodic;
  private readonly fonts = dejavuFonts();

  constructor(
    private readonly db: Database,
    private readonly directory: DirectoryService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {
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
      const due = await tx.query<DueCopy>(
        FALLBACK_DUE_SQL,
        [this.config.fallbackMarginMs, now, BATCH],
      );
      for (const copy of due.rows) await this.fallBack(tx, copy, now);
      return due.rows.length;
    });
  }

  private async fallBack(tx: Queryable, copy: DueCopy, now: Date): Promise<void> {
    const trigger: FallbackTrigger =
      copy.state === 'manual'
        ? 'no-electronic-route'
        : copy.state === 'dead-lettered'
          ? copy.last_error === 'unknown-recipient'
            ? 'unknown-recipient'
            : 'retries-exhausted'
          : 'deadline-near';
    const unit = this.directory.lookup(copy.recipient_hsa);
    const kind = unit?.fax !== undefined ? 'fax' : 'letter';
    const reference = `SVU-${copy.id}-${copy.message_id}`;
    const deadline = copy.notify_by.toISOString().slice(0, 19) + 'Z';
    const pdf = await renderFallbackDocument({
      kind,
      message: copy.canonical,
      recipient: {
        hsaId: copy.recipient_hsa,
        ...(unit === undefined ? {} : { name: unit.name }),
        ...(unit?.fax === undefined ? {} : { fax: unit.fax }),
        ...(unit?.postalAddress === undefined ? {} : { postalAddress: unit.postalAddress }),
      },
      deadline,
      reference,
      createdAt: now.toISOString().slice(0, 19) + 'Z',
      fonts: this.fonts,
    });
    const inserted = await tx.query(
      `INSERT INTO fallback_documents (copy_id, message_id, recipient_hsa, kind, trigger, reference, deadline, pdf, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (copy_id) DO NOTHING`,
      [copy.id, copy.message_id, copy.recipient_hsa, kind, trigger, reference, copy.notify_by, pdf, now],
    );
    await tx.query('UPDATE copies SET fallback_at = $2, updated_at = now() WHERE id = $1', [copy.id, now]);
    if (inserted.rowCount === 0) return;
    await recordEvents(tx, [copy.id], 'fallback', `${kind}, ${trigger}`);
    this.metrics.fallbacks.inc({ kind, trigger });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, kind, trigger }, 'fallback document waiting for manual dispatch');
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
        const { rows } = await tx.query<{ id: string; message_id: string; recipient_hsa: string; notify_by: Date; missed: boolean }>(
          JUDGE_DEADLINES_SQL,
          [now, JUDGE_BATCH],
        );
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
