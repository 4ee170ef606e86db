import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Periodic } from '../common/clock/periodic';
import { ReportsRepository } from '../store/reports.repository';
import { SUMMARY_BATCH } from '@svu/report-store';

/** How often the background job looks for changed episodes (ms). */
export const SUMMARY_EVERY_MS = 1000;

/**
 * Keeps the payment-liability summary (report_episodes) up to date in the background: the write path
 * lists every episode whose facts may have changed in report_pending (migration 018); this job
 * computes them again in batches of SUMMARY_BATCH, one process at a time (advisory lock; a process
 * that finds it taken leaves the round to the one holding it). Runs in processes with the deadlines
 * or the console service (docs/payment-liability.md).
 */
@Injectable()
export class ReportSummaryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReportSummaryService.name);
  private readonly periodic = new Periodic('report summary', SUMMARY_EVERY_MS, () => this.drain(), this.logger);
  private stopped = false;

  constructor(private readonly reports: ReportsRepository) {}

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.periodic.stop();
  }

  /** Batches until nothing is pending, another process drains, or the process stops; returns the episodes computed. */
  async drain(): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const r = await this.reports.drainSummary(SUMMARY_BATCH);
      total += r.refreshed;
      if (!r.done || r.picked < SUMMARY_BATCH) break;
    }
    if (total > 0) this.logger.debug({ episodes: total }, 'report summary updated');
    return total;
  }
}
