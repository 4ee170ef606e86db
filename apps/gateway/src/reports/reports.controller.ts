import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseInterceptors, type OnModuleInit } from '@nestjs/common';
import type { Response } from 'express';
import { maskIdentityNumbers } from '@svu/identity';
import { municipalityName } from '@svu/municipalities';
import { episodesCsv, reportsCsv, type MonthlyReport } from '@svu/reports';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { Endpoint, refused } from '../common/http/endpoint';
import type {
  EpisodesQuery,
  MonthlyReportQuery,
  PlacingMunicipality,
  PlacingMunicipalityRequest,
  RegionCaused,
  RegionCausedRequest,
  SeriesQuery,
} from '../common/http/generated/api';
import { refusal } from '../common/http/outcome';
import { bodyOf, queryOf } from '../common/http/schema.pipe';
import { CLOCK, type Clock } from '../common/clock/clock';
import { AuditService } from '../common/audit.service';
import { ComputedReasons, ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';
import { ReportsRepository } from '../store/reports.repository';
import { csvOptions } from './report-query';
import { loadReportRules, monthsUpTo, type ReportRules } from '@svu/report-store';
import { epochToInstant, swedishDate } from '@svu/swedish-time';

const EPISODE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const EPISODE_PARAM = { episodeId: { description: 'The episode id', schema: { type: 'string', pattern: EPISODE_ID.source } } };
const CSV = { 'text/csv': { type: 'string', description: 'The same as CSV (UTF-8; with format=csv)' } };

/** Follow-up reports: notifications within 24 hours, days waiting after ready-for-discharge, liability per the region's rules. */
@Controller('api/reports')
@UseInterceptors(ViewerMaskingInterceptor)
// The reports' reasons are the gateway's computed words (why an episode or a month is or is not
// charged): a viewer sees them, with identity numbers and names masked as in any text.
@ComputedReasons()
export class ReportsController implements OnModuleInit {
  private rules: ReportRules | undefined;

  constructor(
    private readonly reports: ReportsRepository,
    private readonly audit: AuditService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Reads the rules file at start (in init, not in the constructor: a broken file then stops the start
   * with one line naming the file and the fields, not with Nest's stack trace of a failed construction).
   */
  onModuleInit(): void {
    const path = this.config.reportRulesPath;
    try {
      this.rules = loadReportRules(path, this.config.reportRulesNamed);
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(`report rules ${path} (SVU_REPORT_RULES): ${message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message}`);
    }
  }

  private get ruleSets(): ReportRules {
    if (this.rules === undefined) throw new Error('report rules not loaded');
    return this.rules;
  }

  /**
   * Before a report: the last few changes computed into the summary (never a bulk catch-up: that is
   * the background job's); the episodes still waiting are said in the header X-Summary-Pending-Episodes.
   */
  private async catchUp(res: Response): Promise<void> {
    res.setHeader('x-summary-pending-episodes', String(await this.reports.catchUp(this.clock.now())));
  }


  @Get('monthly')
  @Endpoint({
    operationId: 'monthlyReports',
    tag: 'reports',
    access: 'signed-in',
    summary: 'Monthly follow-up per municipality and hospital unit',
    description:
      "Episodes, share of admission notifications within 24 hours, days waiting after ready-for-discharge, liable days and kronor under the municipality's rule set, with the reason (docs/payment-liability.md).",
    query: 'MonthlyReportQuery',
    answers: { 200: { description: 'Reports', body: 'MonthlyReportList', content: CSV }, 400: refused('A query parameter is not valid, or municipality and unit both given (named)') },
  })
  async monthly(@Query(queryOf<MonthlyReportQuery>('MonthlyReportQuery')) q: MonthlyReportQuery, @Res({ passthrough: true }) res: Response): Promise<MonthlyReport[] | string> {
    const month = q.month;
    if (q.municipality !== undefined && q.unit !== undefined) {
      throw invalidField('unit', 'unit cannot be given with municipality: a report is of one municipality or of one hospital unit (give one, or neither for all)');
    }
    const only = { ...(q.municipality === undefined ? {} : { municipality: q.municipality }), ...(q.unit === undefined ? {} : { unit: q.unit }) };
    await this.catchUp(res);
    const reports = await this.reports.monthly(this.ruleSets, month, only);
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="svu-report-${month}.csv"`);
      // separator=comma for other locales; bom=true so that Excel reads å ä ö (README, Follow-up reports).
      return reportsCsv(reports, csvOptions(q));
    }
    return reports;
  }

  /** One municipality over the last months, for the console's chart. */
  @Get('series')
  @Endpoint({
    operationId: 'reportSeries',
    tag: 'reports',
    access: 'signed-in',
    summary: 'One municipality month by month (for the chart)',
    query: 'SeriesQuery',
    answers: { 200: { description: 'Reports, oldest month first', body: 'MonthlyReportList' }, 400: refused('A query parameter is not valid (named)') },
  })
  async series(@Query(queryOf<SeriesQuery>('SeriesQuery')) q: SeriesQuery, @Res({ passthrough: true }) res: Response): Promise<MonthlyReport[]> {
    const { municipality } = q;
    // Up to the given month, or the current Swedish month (reports' months are Swedish, as their dates).
    const last = q.month ?? swedishDate(epochToInstant(this.clock.now().getTime())).slice(0, 7);
    const out: MonthlyReport[] = [];
    await this.catchUp(res);
    for (const m of monthsUpTo(last, q.months ?? 12)) out.push(...(await this.reports.monthly(this.ruleSets, m, { municipality })));
    return out;
  }

  /**
   * Episodes discharged or admitted in a month (ids and facts only: no identity numbers or names), each
   * precondition of the rule set with its evidence, liable days and kronor, and the reason.
   */
  @Get('episodes')
  @Endpoint({
    operationId: 'episodeReports',
    tag: 'reports',
    access: 'signed-in',
    summary: 'Episodes of a month: day 0, discharge date, waiting days, each precondition with its evidence, liable days, kronor and the reason (no identity data)',
    description:
      'A page at a time in episode-id order: at most `limit` (1-5000, default 1000) after the episode id `after`. The header X-Total-Count says how many episodes the month has, X-Next-After the id to ask for the next page with (absent on the last page). With format=csv, all=true gives every episode of the month in one CSV.',
    query: 'EpisodesQuery',
    answers: { 200: { description: 'Episodes (one page)', body: 'EpisodeReportList', content: CSV }, 400: refused('A query parameter is not valid (named)') },
  })
  async episodes(@Query(queryOf<EpisodesQuery>('EpisodesQuery')) q: EpisodesQuery, @Res({ passthrough: true }) res: Response) {
    const { month, municipality } = q;
    const all = q.all === 'true';
    if (all && q.after !== undefined) throw invalidField('after', 'after cannot be given with all=true (all is every episode of the month, from the first)');
    await this.catchUp(res);
    const page = all
      ? await this.reports.allEpisodes(this.ruleSets, month, municipality)
      : await this.reports.episodes(this.ruleSets, month, municipality, { ...(q.limit === undefined ? {} : { limit: q.limit }), ...(q.after === undefined ? {} : { after: q.after }) });
    res.setHeader('x-total-count', String(page.total));
    if (page.next !== null) res.setHeader('x-next-after', page.next);
    if (q.format === 'csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="svu-episodes-${month}.csv"`);
      return episodesCsv(page.episodes, csvOptions(q));
    }
    return page.episodes;
  }

  /**
   * Records the placing municipality of an episode (agreements [001] and [003]: a municipality that placed the
   * patient in another municipality pays), or clears it with null. The message schema has no field
   * for it (docs/payment-liability.md).
   */
  @Post('episodes/:episodeId/placing-municipality')
  @Endpoint({
    operationId: 'recordPlacingMunicipality',
    tag: 'reports',
    access: 'operator',
    summary: 'Record the municipality that placed the patient in another municipality (it pays), or null to clear it',
    params: EPISODE_PARAM,
    body: 'PlacingMunicipalityRequest',
    answers: { 201: { description: 'Recorded', body: 'PlacingMunicipality' }, 400: refused('Not a kommunkod, or not an episode id (named)'), 404: refused('No message of the gateway has this episode id') },
  })
  async placingMunicipality(@Param('episodeId') episodeId: string, @Body(bodyOf<PlacingMunicipalityRequest>('PlacingMunicipalityRequest')) body: PlacingMunicipalityRequest, @Req() req: AuthedRequest): Promise<PlacingMunicipality> {
    const code = body.municipality;
    if (code !== null && municipalityName(code) === undefined) throw invalidField('municipality', 'municipality must be one of the 290 kommunkoder, or null to clear it');
    await this.knownEpisode(episodeId);
    const note = body.note ?? null;
    await this.reports.notePlacingMunicipality(episodeId, code, note, req.session!.username);
    await this.audit.record(req.session!, 'placing-municipality', `episode:${episodeId}`, { municipality: code, ...auditedNote(note) });
    return { episodeId, placingMunicipality: code };
  }

  /** Records that an episode's delay was (or was not) the region's doing; such days carry no liability under Västerbotten's rule. */
  @Post('episodes/:episodeId/region-caused')
  @Endpoint({
    operationId: 'recordRegionCaused',
    tag: 'reports',
    access: 'operator',
    summary: "Record whether an episode's delay was caused by the region (no liability for it under Västerbotten's rule)",
    params: EPISODE_PARAM,
    body: 'RegionCausedRequest',
    answers: { 201: { description: 'Recorded', body: 'RegionCaused' }, 400: refused('regionCaused is not true or false, or not an episode id (named)'), 404: refused('No message of the gateway has this episode id') },
  })
  async regionCaused(@Param('episodeId') episodeId: string, @Body(bodyOf<RegionCausedRequest>('RegionCausedRequest')) body: RegionCausedRequest, @Req() req: AuthedRequest): Promise<RegionCaused> {
    await this.knownEpisode(episodeId);
    const note = body.note ?? null;
    await this.reports.noteRegionCaused(episodeId, body.regionCaused, note, req.session!.username);
    await this.audit.record(req.session!, 'region-caused-delay', `episode:${episodeId}`, { regionCaused: body.regionCaused, ...auditedNote(note) });
    return { episodeId, regionCaused: body.regionCaused };
  }

  /** Refuses a note on an episode the store has no message of (an id mistyped would otherwise be noted and audited as if it counted). */
  private async knownEpisode(episodeId: string): Promise<void> {
    if (!EPISODE_ID.test(episodeId)) throw invalidField('episodeId', 'episodeId is not an episode id (1-64 letters, digits or . _ : -)');
    if (!(await this.reports.episodeExists(episodeId))) {
      throw refusal('not-found', { statusCode: 404, error: 'Not Found', message: `no episode ${episodeId}: no message of the gateway has this episode id`, field: 'episodeId' });
    }
  }
}

/** An operator's note as the audit log keeps it (for ten years): identity-number-shaped runs masked. */
function auditedNote(note: string | null): { note?: string } {
  return note === null ? {} : { note: maskIdentityNumbers(note) };
}

/** A 400 naming the field. */
function invalidField(field: string, message: string) {
  return refusal('invalid', { statusCode: 400, error: 'Bad Request', message, field });
}
