import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { ReportsRepository } from '../store/reports.repository';
import { SUMMARY_BATCH } from '@svu/report-store';

/** How often the background job looks for changed episodes (ms). */
export const SUMMARY_EVERY_MS = 1000;

/**
 * After each batch the job rests this many times as long as the batch took, so that it uses at most a
 * ninth of a connection's time: computing an episode costs PostgreSQL a few milliseconds, and a burst
 * of new episodes drained flat out took the database's CPU from ingress (docs/benchmarks.md, bench:load,
 * has the figures). That still computes tens of episodes a second, far above a region's rate of
 * change; the summary lags a burst and catches up after it, and a report computes what it needs itself
 * and says what is still pending (`svu report --catch-up` drains in the foreground).
 */
export const SUMMARY_REST_FACTOR = 8;

/**
 * Above this many changes a second listed for the summary by the write path (a message makes up to
 * two: stored with its copies, then delivered; fewer when a batch holds several of an episode), the
 * job leaves the database to the write path and waits for a quiet second: a burst of admissions (a
 * backlog replayed after an outage; bench:load, docs/benchmarks.md) then pays nothing for the summary,
 * which catches up after it. A region's ordinary rate is far below (some 3.6 million messages a
 * year, a tenth of a message a second on average).
 */
export const SUMMARY_BUSY_CHANGES_PER_S = 100;

/**
 * The longest the job waits for a quiet second: a write path busy for longer than this gets the job
 * at its ordinary pace (SUMMARY_REST_FACTOR) again, so the summary never falls behind for good.
 */
export const SUMMARY_MAX_DEFER_MS = 5 * 60_000;

/** After the job has emptied the list, it vacuums report_pending when it took at least this many rows since the last vacuum. */
export const SUMMARY_VACUUM_AFTER_ROWS = 10_000;

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
  /** The write path's count of changes when last looked at, and when (this.now()). */
  private lastChanges: { readonly count: number; readonly at: number } | undefined;
  /** Since when the write path has been busy without a quiet second, if it is. */
  private busySince: number | undefined;
  /** Rows taken from report_pending since its last vacuum. */
  private pickedSinceVacuum = 0;

  /** Waits `ms` (replaced in tests). */
  rest: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  /** A monotonic time in ms (replaced in tests). */
  now: () => number = () => performance.now();

  constructor(
    private readonly reports: ReportsRepository,
    /** The gateway's clock: deadlines in the summary are judged by it. */
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.periodic.stop();
  }

  /**
   * Batches until nothing is pending, another process drains, the write path is busy
   * (SUMMARY_BUSY_CHANGES_PER_S, for at most SUMMARY_MAX_DEFER_MS) or the process stops, resting
   * between batches (SUMMARY_REST_FACTOR); returns the episodes computed.
   */
  async drain(): Promise<number> {
    let total = 0;
    while (!this.stopped && !(await this.yieldsToWrites())) {
      const started = this.now();
      const r = await this.reports.drainSummary(SUMMARY_BATCH, this.clock.now());
      total += r.refreshed;
      this.pickedSinceVacuum += r.picked;
      if (!r.done) break;
      if (r.picked < SUMMARY_BATCH) {
        if (this.pickedSinceVacuum >= SUMMARY_VACUUM_AFTER_ROWS) {
          this.pickedSinceVacuum = 0;
          await this.reports.vacuumPending();
        }
        break;
      }
      await this.rest((this.now() - started) * SUMMARY_REST_FACTOR);
    }
    if (total > 0) this.logger.debug({ episodes: total }, 'report summary updated');
    return total;
  }

  /** Whether the write path's rate of changes since the last look says to leave it the database. */
  private async yieldsToWrites(): Promise<boolean> {
    const count = await this.reports.summaryChanges();
    const at = this.now();
    const last = this.lastChanges;
    this.lastChanges = { count, at };
    // The first look only records the count: the rate is known from the second round on (a process
    // started into a burst, as after an outage, would otherwise compute a batch in the middle of it).
    if (last === undefined) return true;
    const busy = at > last.at && ((count - last.count) * 1000) / (at - last.at) > SUMMARY_BUSY_CHANGES_PER_S;
    if (!busy) {
      if (this.busySince !== undefined) this.logger.debug('write path quiet again; report summary resumes');
      this.busySince = undefined;
      return false;
    }
    if (this.busySince === undefined) {
      this.busySince = last.at;
      this.logger.debug('write path busy; report summary waits for a quiet second');
    }
    return at - this.busySince < SUMMARY_MAX_DEFER_MS;
  }
}
