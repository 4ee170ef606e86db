import { Injectable } from '@nestjs/common';
import { Database } from './database';

/** Copy states that are still moving; settled states are counted by the counters and the delivery histogram. */
export const OPEN_STATES = ['received', 'routed', 'sending', 'retrying'] as const;

/** What the store gauges are set from (metrics.service.ts, StoreGauges). */
export interface GaugeCounts {
  readonly copies: ReadonlyArray<{ state: string; n: string }>;
  readonly deadLetters: ReadonlyArray<{ reason: string; n: string }>;
  readonly atRisk: number;
  readonly waiting: number;
  readonly recipients: ReadonlyArray<{ recipient_hsa: string; failing: boolean; paused: boolean; backlog: number; oldest_seconds: number | null }>;
}

/** An admission copy whose deadline is near or past, as the console's overview lists it. */
export interface AtRiskRow {
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly state: string;
  readonly notifyBy: Date;
  readonly fallback: boolean;
}

/** What the console's overview counts. */
export interface OverviewCounts {
  readonly states: ReadonlyArray<{ state: string; n: string }>;
  readonly deadLetters: number;
  /** Deliveries in the last ten minutes. */
  readonly deliveredLast10Minutes: number;
  readonly lastErrors: readonly unknown[];
  readonly waiting: number;
}

/**
 * Counts over the store for the operators: the store gauges of the metrics (only open work, read
 * from partial indexes, never the history) and the console's overview and copies at risk. Reads only.
 */
@Injectable()
export class StoreCountsRepository {
  constructor(private readonly db: Database) {}

  /** The gauges' counts at `now`: open copies by state, unresolved dead letters, copies at risk within `marginMs`, documents waiting, recipients. */
  async gauges(now: Date, marginMs: number): Promise<GaugeCounts> {
    const [copies, deadLetters, atRisk, waiting, recipients] = await Promise.all([
      this.db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM copies WHERE state = ANY($1::text[]) GROUP BY state', [OPEN_STATES]),
      this.db.query<{ reason: string; n: string }>('SELECT reason, count(*) AS n FROM dead_letters WHERE resolved_at IS NULL GROUP BY reason'),
      this.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM copies WHERE type = 'admission' AND notify_by IS NOT NULL AND deadline_checked_at IS NULL AND delivered_at IS NULL
           AND manual_delivered_at IS NULL AND state <> 'cancelled' AND notify_by <= $1::timestamptz + $2 * interval '1 millisecond'`,
        [now, marginMs],
      ),
      this.db.query<{ n: string }>("SELECT count(*) AS n FROM fallback_documents WHERE status = 'waiting'"),
      this.db.query<GaugeCounts['recipients'][number]>(
        `SELECT recipient_hsa, failing, paused_at IS NOT NULL AS paused, backlog,
           extract(epoch FROM $1::timestamptz - oldest_waiting_at)::float8 AS oldest_seconds FROM recipient_health`,
        [now],
      ),
    ]);
    return { copies, deadLetters, atRisk: Number(atRisk[0]!.n), waiting: Number(waiting[0]!.n), recipients };
  }

  /** Admission copies not delivered (electronically or by hand) whose deadline is within `marginMs` of `now`, or past; the nearest first. */
  atRisk(now: Date, marginMs: number, limit: number): Promise<AtRiskRow[]> {
    return this.db.query<AtRiskRow & Record<string, unknown>>(
      `SELECT id AS "copyId", message_id AS "messageId", recipient_hsa AS "recipientHsa", state, notify_by AS "notifyBy",
              fallback_at IS NOT NULL AS fallback
       FROM copies
       WHERE type = 'admission' AND notify_by IS NOT NULL AND delivered_at IS NULL AND manual_delivered_at IS NULL
         AND state <> 'cancelled' AND notify_by <= $1::timestamptz + $2 * interval '1 millisecond'
       ORDER BY notify_by LIMIT $3`,
      [now, marginMs, limit],
    );
  }

  /** The overview's counts: copies by state, unresolved dead letters, recent deliveries, the last errors, documents waiting. */
  async overview(): Promise<OverviewCounts> {
    const [states, deadLetters, delivered, lastErrors, waiting] = await Promise.all([
      this.db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM copies GROUP BY state ORDER BY state'),
      this.db.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters WHERE resolved_at IS NULL'),
      this.db.query<{ n: string }>("SELECT count(*) AS n FROM copy_events WHERE state = 'delivered' AND at > now() - interval '10 minutes'"),
      this.db.query(
        `SELECT message_id AS "messageId", recipient_hsa AS "recipientHsa", last_error AS "error", updated_at AS "at",
           last_attempt ->> 'endpoint' AS endpoint, (last_attempt ->> 'status')::int AS "httpStatus", last_attempt ->> 'responseStart' AS "responseStart"
         FROM copies WHERE last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 10`,
      ),
      this.db.query<{ n: string }>("SELECT count(*) AS n FROM fallback_documents WHERE status = 'waiting'"),
    ]);
    return { states, deadLetters: Number(deadLetters[0]!.n), deliveredLast10Minutes: Number(delivered[0]!.n), lastErrors, waiting: Number(waiting[0]!.n) };
  }
}
