import { BadRequestException, Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { municipalityName } from '@svu/municipalities';
import { episodesCsv, reportsCsv, type MonthlyReport } from '@svu/reports';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Roles, type AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';
import { Database } from '../store/database';
import { reportQuery, ReportQueryError, type ReportQuery } from './report-query';
import { MAX_MONTHS, catchUpForReport, loadEpisodeReports, loadMonthlyReports, loadReportRules, monthsUpTo, type ReportRules, type Transact } from '@svu/report-store';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The query checked (report-query.ts): an unknown parameter or value is a 400 naming it. */
function checked(q: Record<string, unknown>, allowed: readonly string[]): ReportQuery {
  try {
    return reportQuery(q, allowed);
  } catch (error) {
    if (error instanceof ReportQueryError) throw new BadRequestException(error.message);
    throw error;
  }
}

function monthOf(raw: unknown): string {
  if (typeof raw !== 'string' || !MONTH.test(raw)) throw new BadRequestException('month must be YYYY-MM');
  return raw;
}

/** Follow-up reports: notifications within 24 hours, days waiting after ready-for-discharge, liability per the region's rules. */
@Controller('api/reports')
@UseInterceptors(ViewerMaskingInterceptor)
export class ReportsController {
  private readonly rules: ReportRules;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.rules = loadReportRules(config.reportRulesPath);
  }

  private query = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => this.db.query<R>(sql, params);
  private transact: Transact = (work) => this.db.transaction((tx) => work(async (sql, params = []) => (await tx.query(sql, params)).rows));

  /**
   * Before a report: the last few changes computed into the summary (never a bulk catch-up: that is
   * the background job's); the episodes still waiting are said in the header X-Summary-Pending-Episodes.
   */
  private async catchUp(res: Response): Promise<void> {
    const pending = await catchUpForReport(this.transact, this.query);
    res.setHeader('x-summary-pending-episodes', String(pending));
  }

  @Get('monthly')
  async monthly(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) res: Response): Promise<MonthlyReport[] | string> {
    const { params: q, format, csv } = checked(raw, ['month', 'municipality', 'unit', 'format', 'separator', 'bom']);
    const month = monthOf(q['month']);
    const only = {
      ...(q['municipality'] !== undefined && q['municipality'] !== '' ? { municipality: q['municipality'] } : {}),
      ...(q['unit'] !== undefined && q['unit'] !== '' ? { unit: q['unit'] } : {}),
    };
    await this.catchUp(res);
    const reports = await loadMonthlyReports(this.query, this.rules, month, only);
    if (format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="svu-report-${month}.csv"`);
      // separator=comma for other locales; bom=true so that Excel reads å ä ö (README, Follow-up reports).
      return reportsCsv(reports, csv);
    }
    return reports;
  }

  /** One municipality over the last months, for the console's chart. */
  @Get('series')
  async series(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    const { params } = checked(raw, ['municipality', 'month', 'months']);
    const { municipality, month, months } = params;
    if (municipality === undefined || municipality === '') throw new BadRequestException('municipality is required');
    const count = months === undefined ? 12 : Number(months);
    if (!Number.isInteger(count) || count < 1 || count > MAX_MONTHS) throw new BadRequestException(`months must be 1-${MAX_MONTHS}`);
    const last = month === undefined ? new Date().toISOString().slice(0, 7) : monthOf(month);
    const out: MonthlyReport[] = [];
    await this.catchUp(res);
    for (const m of monthsUpTo(last, count)) out.push(...(await loadMonthlyReports(this.query, this.rules, m, { municipality })));
    return out;
  }

  /**
   * Episodes discharged or admitted in a month (ids and facts only: no identity numbers or names), each
   * precondition of the rule set with its evidence, liable days and kronor, and the reason.
   */
  @Get('episodes')
  async episodes(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    const { params: q, format, csv } = checked(raw, ['month', 'municipality', 'format', 'separator', 'bom']);
    const month = monthOf(q['month']);
    const municipality = q['municipality'] !== undefined && q['municipality'] !== '' ? q['municipality'] : undefined;
    let rows;
    await this.catchUp(res);
    try {
      rows = await loadEpisodeReports(this.query, this.rules, month, municipality);
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw error;
    }
    if (format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="svu-episodes-${month}.csv"`);
      return episodesCsv(rows, csv);
    }
    return rows;
  }

  /**
   * Records the placing municipality of an episode (seeds 001/003: a municipality that placed the
   * patient in another municipality pays), or clears it with null. The message schema has no field
   * for it (docs/payment-liability.md).
   */
  @Roles('operator')
  @Post('episodes/:episodeId/placing-municipality')
  async placingMunicipality(@Param('episodeId') episodeId: string, @Body() body: { municipality?: unknown; note?: unknown }, @Req() req: AuthedRequest) {
    const code = body?.municipality;
    if (code !== null && (typeof code !== 'string' || municipalityName(code) === undefined)) {
      throw new BadRequestException('municipality must be one of the 290 kommunkoder, or null to clear it');
    }
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(episodeId)) throw new BadRequestException('episodeId is not an episode id');
    const note = typeof body.note === 'string' ? body.note.slice(0, 2000) : null;
    await this.db.query(
      `INSERT INTO episode_notes (episode_id, placing_municipality, note, noted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (episode_id) DO UPDATE SET placing_municipality = $2, note = coalesce($3, episode_notes.note), noted_by = $4, noted_at = now()`,
      [episodeId, code, note, req.session!.username],
    );
    await this.audit.record(req.session!, 'placing-municipality', `episode:${episodeId}`, { municipality: code });
    return { episodeId, placingMunicipality: code };
  }

  /** Records that an episode's delay was (or was not) the region's doing; such days carry no liability under Västerbotten's rule. */
  @Roles('operator')
  @Post('episodes/:episodeId/region-caused')
  async regionCaused(@Param('episodeId') episodeId: string, @Body() body: { regionCaused?: unknown; note?: unknown }, @Req() req: AuthedRequest) {
    if (typeof body?.regionCaused !== 'boolean') throw new BadRequestException('regionCaused must be true or false');
    const note = typeof body.note === 'string' ? body.note.slice(0, 2000) : null;
    await this.db.query(
      `INSERT INTO episode_notes (episode_id, region_caused, note, noted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (episode_id) DO UPDATE SET region_caused = $2, note = coalesce($3, episode_notes.note), noted_by = $4, noted_at = now()`,
      [episodeId, body.regionCaused, note, req.session!.username],
    );
    await this.audit.record(req.session!, 'region-caused-delay', `episode:${episodeId}`, { regionCaused: body.regionCaused });
    return { episodeId, regionCaused: body.regionCaused };
  }
}
