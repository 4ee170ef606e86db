import { maskIdentityNumbers } from '@svu/identity';
import { BadRequestException, Body, ConflictException, Controller, ForbiddenException, Get, GoneException, Header, HttpCode, NotFoundException, Param, Post, Query, Req, Res, StreamableFile, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { DispatchService } from '../deadlines';
import { DeviationsRepository } from '../store/deviations.repository';
import { Roles, type AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';
import { BulkService } from './bulk.service';
import { parseFilter, type DeadLetterFilter } from './dead-letter-filter';
import { DeadLettersService } from './dead-letters.service';
import { OverviewService } from './overview.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';

function limitOf(raw: unknown, fallback = 50): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new BadRequestException('limit must be a whole number from 1 to 500');
  return n;
}

function filterOf(raw: Record<string, unknown>): DeadLetterFilter {
  const filter = parseFilter(raw ?? {});
  if (typeof filter === 'string') throw new BadRequestException(filter);
  return filter;
}

const ID = /^\d{1,18}$/;
function idOf(raw: string): string {
  if (!ID.test(raw)) throw new NotFoundException('no such id');
  return raw;
}

/**
 * The operations console's JSON API (documented at /api/docs). Actions, fallback documents and
 * unmasked patient data need the operator role; what a viewer gets is masked (ViewerMaskingInterceptor).
 */
@Controller('api')
@UseInterceptors(ViewerMaskingInterceptor)
export class ConsoleController {
  constructor(
    private readonly overviewService: OverviewService,
    private readonly deadLetters: DeadLettersService,
    private readonly bulk: BulkService,
    private readonly dispatch: DispatchService,
    private readonly audit: AuditService,
    private readonly deviationsRepository: DeviationsRepository,
  ) {}

  @Get('overview')
  overview() {
    return this.overviewService.overview();
  }

  @Get('at-risk')
  atRisk(@Query('limit') limit?: string) {
    return this.overviewService.atRisk(limitOf(limit));
  }

  @Get('dead-letters')
  list(@Query() query: Record<string, unknown>, @Req() req: AuthedRequest) {
    // A viewer sees identity numbers masked, so it may not search by one either: a hit would tell
    // it that a number it guessed is in an id (docs/console-security.md).
    if (req.session?.role !== 'operator' && typeof query['q'] === 'string' && maskIdentityNumbers(query['q']) !== query['q']) {
      throw new ForbiddenException('q: viewers may not search by an identity number');
    }
    return this.deadLetters.list(filterOf(query), typeof query['cursor'] === 'string' && query['cursor'] !== '' ? query['cursor'] : undefined, limitOf(query['limit']));
  }

  @Get('dead-letters/:id')
  detail(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.deadLetters.detail(idOf(id), req.session!);
  }

  @Roles('operator')
  @Post('dead-letters/:id/replay')
  replay(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.deadLetters.replay(idOf(id), req.session!);
  }

  @Roles('operator')
  @Post('dead-letters/:id/correct')
  correct(@Param('id') id: string, @Body() body: { payload?: unknown; dialect?: unknown }, @Req() req: AuthedRequest) {
    if (typeof body?.payload !== 'string' || body.payload.trim() === '') throw new BadRequestException('payload (the corrected message) is required');
    const dialect = typeof body.dialect === 'string' ? body.dialect : undefined;
    return this.deadLetters.correct(idOf(id), body.payload, dialect, req.session!);
  }

  @Roles('operator')
  @Post('dead-letters/:id/discard')
  discard(@Param('id') id: string, @Body() body: { reason?: unknown }, @Req() req: AuthedRequest) {
    if (typeof body?.reason !== 'string' || body.reason.trim() === '') throw new BadRequestException('reason is required to discard');
    return this.deadLetters.discard(idOf(id), body.reason, req.session!);
  }

  @Roles('operator')
  @Post('dead-letters/bulk/preview')
  async preview(@Body() body: { filter?: Record<string, unknown> }) {
    const filter = { ...filterOf(body?.filter ?? {}), status: 'open' as const };
    return { count: await this.deadLetters.count(filter), filter };
  }

  @Roles('operator')
  @Post('dead-letters/bulk')
  startBulk(@Body() body: { filter?: Record<string, unknown>; action?: unknown; reason?: unknown; confirm?: unknown }, @Req() req: AuthedRequest) {
    if (body?.action !== 'replay' && body?.action !== 'discard') throw new BadRequestException('action must be replay or discard');
    if (typeof body.confirm !== 'number' || !Number.isInteger(body.confirm) || body.confirm < 1) {
      throw new BadRequestException('confirm must be the count the preview showed');
    }
    if (body.action === 'discard' && (typeof body.reason !== 'string' || body.reason.trim() === '')) throw new BadRequestException('reason is required to discard');
    return this.bulk.start(filterOf(body.filter ?? {}), body.action, typeof body.reason === 'string' ? body.reason : undefined, body.confirm, req.session!);
  }

  @Get('bulk-jobs/:id')
  bulkJob(@Param('id') id: string) {
    return this.bulk.get(idOf(id));
  }

  @Roles('operator')
  @Post('bulk-jobs/:id/cancel')
  cancelBulk(@Param('id') id: string, @Req() req: AuthedRequest) {
    return this.bulk.cancel(idOf(id), req.session!);
  }

  @Get('manual-dispatch')
  manualDispatch(@Query('status') status?: string, @Query('limit') limit?: string) {
    const s = status === undefined || status === '' ? 'waiting' : status;
    if (s !== 'waiting' && s !== 'sent' && s !== 'withdrawn' && s !== 'all') throw new BadRequestException('status must be waiting, sent, withdrawn or all');
    return this.dispatch.list(s, limitOf(limit, 100));
  }

  // The document holds the patient's name and identity number in full: operators only.
  @Roles('operator')
  @Get('manual-dispatch/:id/pdf')
  @Header('content-type', 'application/pdf')
  async pdf(@Param('id') id: string, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const doc = await this.dispatch.pdf(idOf(id));
    if (doc === undefined) throw new NotFoundException(`no fallback document ${id}`);
    if (doc.pdf === null) throw new GoneException(`the PDF of fallback document ${id} was removed by retention (docs/retention.md); its dispatch record is kept`);
    await this.audit.record(req.session!, 'download-fallback-document', `fallback-document:${id}`, { reference: doc.reference });
    res.setHeader('content-disposition', `attachment; filename="${doc.reference.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf"`);
    return new StreamableFile(doc.pdf);
  }

  @Roles('operator')
  @Post('manual-dispatch/:id/sent')
  @HttpCode(200)
  async markSent(@Param('id') id: string, @Body() body: { via?: unknown; at?: unknown }, @Req() req: AuthedRequest) {
    if (body?.via !== 'fax' && body?.via !== 'letter') throw new BadRequestException('via must be fax or letter');
    if (body.at !== undefined && (typeof body.at !== 'string' || Number.isNaN(Date.parse(body.at)))) throw new BadRequestException('at must be an ISO 8601 instant');
    const at = typeof body.at === 'string' ? new Date(body.at) : undefined;
    const outcome = await this.dispatch.markSent(idOf(id), body.via, req.session!.username, at);
    if (outcome.refused === 'not-found') throw new NotFoundException(`no fallback document ${id}`);
    if (outcome.refused !== undefined) {
      if (outcome.refused.startsWith('at:')) throw new BadRequestException(outcome.refused);
      throw new ConflictException(outcome.refused);
    }
    const entry = outcome.entry;
    await this.audit.record(req.session!, 'mark-sent', `fallback-document:${id}`, { via: body.via, at: entry.sentAt, messageId: entry.messageId });
    return entry;
  }

  @Get('deviations')
  deviations(@Query() query: Record<string, unknown>) {
    const text = (key: string) => (typeof query[key] === 'string' && query[key] !== '' ? query[key] : undefined);
    const instant = (key: 'from' | 'to') => {
      const value = text(key);
      if (value === undefined) return undefined;
      if (Number.isNaN(Date.parse(value))) throw new BadRequestException(`${key} must be a date or an instant`);
      return new Date(value);
    };
    const [kind, unitHsa, from, to] = [text('kind'), text('unit'), instant('from'), instant('to')];
    return this.deviationsRepository.list({
      ...(kind === undefined ? {} : { kind }),
      ...(unitHsa === undefined ? {} : { unitHsa }),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      limit: limitOf(query['limit'], 200),
    });
  }

  @Get('audit')
  auditLog(@Query('before') before?: string, @Query('limit') limit?: string) {
    return this.audit.list(before === undefined || before === '' ? undefined : idOf(before), limitOf(limit, 100));
  }
}
