import { Injectable } from '@nestjs/common';
import type { MonthlyReport } from '@svu/reports';
import { catchUpForReport, drainReportSummary, loadEpisodeReportPage, loadEpisodeReports, loadMonthlyReports, type DrainResult, type EpisodeReportPage, type ReportRules, type Transact } from '@svu/report-store';
import { Database } from './database';

/**
 * The follow-up reports' reads and the summary they read (the report statements themselves are in
 * @svu/report-store, shared with the command line), and the operators' notes on episodes that the
 * reports take in.
 */
@Injectable()
export class ReportsRepository {
  constructor(private readonly db: Database) {}

  private readonly query = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => this.db.query<R>(sql, params);

  private readonly transact: Transact = (work) => this.db.transaction((tx) => work(async (sql, params = []) => (await tx.query(sql, params)).rows));

  /**
   * The last few changes computed into the summary before a report, deadlines judged at `now` (the
   * gateway's clock); how many episodes are still waiting.
   */
  catchUp(now: Date): Promise<number> {
    return catchUpForReport(this.transact, this.query, now);
  }

  /**
   * One batch of the background job: the summary of up to `batch` changed episodes computed again,
   * in one transaction, unless another process holds the job's lock (@svu/report-store); deadlines
   * judged at `now` (the gateway's clock).
   */
  drainSummary(batch: number, now: Date): Promise<DrainResult> {
    return drainReportSummary(this.transact, batch, { now });
  }

  /**
   * Vacuums report_pending: a queue every change passes through, whose deleted rows would otherwise
   * stay in its index until autovacuum comes by (with autovacuum off, for good), so that even an empty
   * list is read slowly (an index scan walks every dead entry).
   */
  async vacuumPending(): Promise<void> {
    await this.db.query('VACUUM report_pending');
  }

  /**
   * How many changes the write path has listed for the summary since the store was made (the
   * report_pending sequence, which the job's deletes do not lower): its growth is the write path's rate.
   */
  async summaryChanges(): Promise<number> {
    const [row] = await this.db.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS n FROM report_pending_id_seq');
    return Number(row?.n ?? 0);
  }

  monthly(rules: ReportRules, month: string, only?: { municipality?: string; unit?: string }): Promise<MonthlyReport[]> {
    return loadMonthlyReports(this.query, rules, month, only);
  }


  episodes(rules: ReportRules, month: string, municipality?: string, page: { limit?: number; after?: string } = {}): Promise<EpisodeReportPage> {
    return loadEpisodeReportPage(this.query, rules, month, municipality, page);
  }

  /** Every episode of the month, as one page (the CSV download of a month). */
  async allEpisodes(rules: ReportRules, month: string, municipality?: string): Promise<EpisodeReportPage> {
    const episodes = await loadEpisodeReports(this.query, rules, month, municipality);
    return { episodes, total: episodes.length, next: null };
  }

  /** Whether the store holds a message of the episode. */
  async episodeExists(episodeId: string): Promise<boolean> {
    const [row] = await this.db.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM messages WHERE episode_id = $1) AS found', [episodeId]);
    return row?.found === true;
  }

  /** The municipality an episode's patient is placed in (null clears it), with an optional note. */
  async notePlacingMunicipality(episodeId: string, municipality: string | null, note: string | null, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO episode_notes (episode_id, placing_municipality, note, noted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (episode_id) DO UPDATE SET placing_municipality = $2, note = coalesce($3, episode_notes.note), noted_by = $4, noted_at = now()`,
      [episodeId, municipality, note, by],
    );
  }

  /** Whether an episode's delay was the region's doing, with an optional note. */
  async noteRegionCaused(episodeId: string, regionCaused: boolean, note: string | null, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO episode_notes (episode_id, region_caused, note, noted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (episode_id) DO UPDATE SET region_caused = $2, note = coalesce($3, episode_notes.note), noted_by = $4, noted_at = now()`,
      [episodeId, regionCaused, note, by],
    );
  }
}
