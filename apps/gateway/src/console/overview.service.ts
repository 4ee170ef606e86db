import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';

export interface AtRisk {
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly state: string;
  readonly notifyBy: Date;
  readonly secondsLeft: number;
  readonly fallback: boolean;
}

/** What operations staff see first: counts, the dead-letter size, deadlines at risk, throughput, last errors. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly db: Database,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Admission copies not delivered (electronically or by hand) whose deadline is within the margin, or past. */
  async atRisk(limit = 50): Promise<AtRisk[]> {
    const now = this.clock.now();
    const rows = await this.db.query<Omit<AtRisk, 'secondsLeft'> & Record<string, unknown>>(
      `SELECT id AS "copyId", message_id AS "messageId", recipient_hsa AS "recipientHsa", state, notify_by AS "notifyBy",
              fallback_at IS NOT NULL AS fallback
       FROM copies
       WHERE type = 'admission' AND notify_by IS NOT NULL AND delivered_at IS NULL AND manual_delivered_at IS NULL
         AND state <> 'cancelled' AND notify_by <= $1::timestamptz + $2 * interval '1 millisecond'
       ORDER BY notify_by LIMIT $3`,
      [now, this.config.fallbackMarginMs, limit],
    );
    return rows.map((r) => ({ ...r, secondsLeft: Math.round((r.notifyBy.getTime() - now.getTime()) / 1000) }));
  }

  async overview(): Promise<Record<string, unknown>> {
    const [states, deadLetters, perMinute, lastErrors, waiting, atRisk] = await Promise.all([
      this.db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM copies GROUP BY state ORDER BY state'),
      this.db.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters WHERE resolved_at IS NULL'),
      this.db.query<{ n: string }>("SELECT count(*) AS n FROM copy_events WHERE state = 'delivered' AND at > now() - interval '10 minutes'"),
      this.db.query(
        `SELECT message_id AS "messageId", recipient_hsa AS "recipientHsa", last_error AS "error", updated_at AS "at"
         FROM copies WHERE last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 10`,
      ),
      this.db.query<{ n: string }>("SELECT count(*) AS n FROM fallback_documents WHERE status = 'waiting'"),
      this.atRisk(),
    ]);
    return {
      copiesByState: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
      deadLetters: Number(deadLetters[0]!.n),
      manualDispatchWaiting: Number(waiting[0]!.n),
      deliveriesPerMinute: Math.round(Number(perMinute[0]!.n) / 10),
      atRisk,
      lastErrors,
    };
  }
}
