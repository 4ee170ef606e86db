import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { StoreCountsRepository, type AtRiskRow } from '../store/store-counts.repository';

export interface AtRisk extends AtRiskRow {
  readonly secondsLeft: number;
}

/** The most copies at risk the overview lists (the count is the true total). */
export const AT_RISK_LIMIT = 50;

/** What operations staff see first: counts, the dead-letter size, deadlines at risk, throughput, last errors. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly counts: StoreCountsRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Admission copies not delivered (electronically or by hand) whose deadline is within the margin, or past. */
  async atRisk(limit = 50): Promise<AtRisk[]> {
    const now = this.clock.now();
    const rows = await this.counts.atRisk(now, this.config.fallbackMarginMs, limit);
    return rows.map((r) => ({ ...r, secondsLeft: Math.round((r.notifyBy.getTime() - now.getTime()) / 1000) }));
  }

  /** The overview: `atRisk` lists at most AT_RISK_LIMIT (the nearest deadlines); `atRiskTotal` counts them all. */
  async overview(): Promise<Record<string, unknown>> {
    const now = this.clock.now();
    const [{ states, deadLetters, deliveredLast10Minutes, lastErrors, waiting }, atRisk, atRiskTotal] = await Promise.all([
      this.counts.overview(),
      this.atRisk(AT_RISK_LIMIT),
      this.counts.atRiskTotal(now, this.config.fallbackMarginMs),
    ]);
    return {
      copiesByState: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
      deadLetters,
      manualDispatchWaiting: waiting,
      deliveriesPerMinute: Math.round(deliveredLast10Minutes / 10),
      atRisk,
      // Never fewer than listed: the two reads may see a moment apart.
      atRiskTotal: Math.max(atRiskTotal, atRisk.length),
      atRiskLimit: AT_RISK_LIMIT,
      lastErrors,
    };
  }
}
