import { maskIdentityNumbers } from '@svu/identity';
import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Req, Res, StreamableFile, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { DispatchService } from '../deadlines';
import { Endpoint, ID_PARAM, refused } from '../common/http/endpoint';
import type {
  AtRiskQuery,
  AuditQuery,
  BulkPreviewRequest,
  BulkRequest,
  CorrectRequest,
  DeadLetterListQuery,
  DeviationQuery,
  DiscardRequest,
  ManualDispatchQuery,
  MarkSentRequest,
} from '../common/http/generated/api';
import { answer, refusal } from '../common/http/outcome';
import { bodyOf, IdPipe, queryOf } from '../common/http/schema.pipe';
import { DeviationsRepository } from '../store/deviations.repository';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';
import { BulkService } from './bulk.service';
import { filterOf } from './dead-letter-filter';
import { DeadLettersService } from './dead-letters.service';
import { OverviewService } from './overview.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';

const NO_DEAD_LETTER = refused('No such dead letter');
const CHANGED = refused('The dead letter changed meanwhile (already resolved), or it was refused again');
const REPLAY_ANSWERS = {
  201: { description: 'Resolved', body: 'Replayed' },
  400: { description: 'The message is still not valid (with its problems), or there is nothing to replay', body: 'ReplayInvalid' },
  404: NO_DEAD_LETTER,
  409: { description: 'Already resolved, resolved meanwhile, or refused again (with the reason)', body: 'ReplayConflict' },
} as const;
const ID = { id: ID_PARAM };

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
  @Endpoint({ operationId: 'overview', tag: 'overview', access: 'signed-in', summary: 'Counts by state, dead letters, copies at risk, deliveries per minute, last errors', answers: { 200: { description: 'The overview', body: 'Overview' } } })
  overview() {
    return this.overviewService.overview();
  }

  @Get('at-risk')
  @Endpoint({
    operationId: 'listAtRisk',
    tag: 'overview',
    access: 'signed-in',
    summary: 'Admission copies whose deadline is within the fallback margin or past',
    query: 'AtRiskQuery',
    answers: { 200: { description: 'Copies at risk', body: 'AtRiskList' }, 400: refused('A query parameter is not valid (named)') },
  })
  atRisk(@Query(queryOf<AtRiskQuery>('AtRiskQuery')) query: AtRiskQuery) {
    return this.overviewService.atRisk(query.limit);
  }

  @Get('dead-letters')
  @Endpoint({
    operationId: 'listDeadLetters',
    tag: 'dead-letters',
    access: 'signed-in',
    summary: 'Dead letters, newest first, keyset-paged',
    description: 'A viewer may not search (q) by an identity number: 403.',
    query: 'DeadLetterListQuery',
    answers: { 200: { description: 'A page', body: 'DeadLetterPage' }, 400: refused('A filter or the cursor is not valid (named)'), 403: refused('A viewer searched by an identity number') },
  })
  async list(@Query(queryOf<DeadLetterListQuery>('DeadLetterListQuery')) query: DeadLetterListQuery, @Req() req: AuthedRequest) {
    // A viewer sees identity numbers masked, so it may not search by one either: a hit would tell
    // it that a number it guessed is in an id (docs/console-security.md).
    if (req.session?.role !== 'operator' && query.q !== undefined && maskIdentityNumbers(query.q) !== query.q) {
      throw refusal('forbidden', 'q: viewers may not search by an identity number');
    }
    return answer(await this.deadLetters.list(filterOf(query), query.cursor, query.limit ?? 50));
  }

  @Get('dead-letters/:id')
  @Endpoint({
    operationId: 'getDeadLetter',
    tag: 'dead-letters',
    access: 'signed-in',
    summary: 'One dead letter: payload, canonical form, problems with field paths, delivery attempts and errors (audited)',
    params: ID,
    answers: { 200: { description: 'The dead letter', body: 'DeadLetterDetail' }, 404: NO_DEAD_LETTER },
  })
  async detail(@Param('id', IdPipe) id: string, @Req() req: AuthedRequest) {
    return answer(await this.deadLetters.detail(id, req.session!));
  }

  @Post('dead-letters/:id/replay')
  @Endpoint({ operationId: 'replayDeadLetter', tag: 'dead-letters', access: 'operator', summary: 'Replay: read again as stored, or route and deliver the copy again', params: ID, answers: REPLAY_ANSWERS })
  async replay(@Param('id', IdPipe) id: string, @Req() req: AuthedRequest) {
    return answer(await this.deadLetters.replay(id, req.session!));
  }

  @Post('dead-letters/:id/correct')
  @Endpoint({
    operationId: 'correctDeadLetter',
    tag: 'dead-letters',
    access: 'operator',
    summary: 'Correct and replay: the edited payload is validated first; the original is kept',
    params: ID,
    body: 'CorrectRequest',
    answers: REPLAY_ANSWERS,
  })
  async correct(@Param('id', IdPipe) id: string, @Body(bodyOf<CorrectRequest>('CorrectRequest')) body: CorrectRequest, @Req() req: AuthedRequest) {
    return answer(await this.deadLetters.correct(id, body.payload, body.dialect, req.session!));
  }

  @Post('dead-letters/:id/discard')
  @Endpoint({
    operationId: 'discardDeadLetter',
    tag: 'dead-letters',
    access: 'operator',
    summary: 'Discard with a reason',
    params: ID,
    body: 'DiscardRequest',
    answers: { 201: { description: 'Discarded', body: 'Replayed' }, 400: refused('No reason'), 404: NO_DEAD_LETTER, 409: CHANGED },
  })
  async discard(@Param('id', IdPipe) id: string, @Body(bodyOf<DiscardRequest>('DiscardRequest')) body: DiscardRequest, @Req() req: AuthedRequest) {
    return answer(await this.deadLetters.discard(id, body.reason, req.session!));
  }

  @Post('dead-letters/bulk/preview')
  @Endpoint({
    operationId: 'previewBulk',
    tag: 'dead-letters',
    access: 'operator',
    summary: 'How many open dead letters a bulk action on this filter would touch',
    body: 'BulkPreviewRequest',
    answers: { 201: { description: 'The count to confirm', body: 'BulkPreview' }, 400: refused('A filter is not valid (named)') },
  })
  async preview(@Body(bodyOf<BulkPreviewRequest>('BulkPreviewRequest')) body: BulkPreviewRequest) {
    const filter = { ...filterOf(body.filter), status: 'open' as const };
    return { count: await this.deadLetters.count(filter), filter };
  }

  @Post('dead-letters/bulk')
  @Endpoint({
    operationId: 'startBulk',
    tag: 'dead-letters',
    access: 'operator',
    summary: 'Start a bulk replay or discard; `confirm` must equal the previewed count. Runs throttled in the background',
    body: 'BulkRequest',
    answers: { 201: { description: 'The job', body: 'BulkJob' }, 400: refused('A field is not valid (named)'), 409: refused('The selection holds another count now: preview again') },
  })
  async startBulk(@Body(bodyOf<BulkRequest>('BulkRequest')) body: BulkRequest, @Req() req: AuthedRequest) {
    return answer(await this.bulk.start(filterOf(body.filter), body.action, body.reason, body.confirm, req.session!));
  }

  @Get('bulk-jobs/:id')
  @Endpoint({ operationId: 'getBulkJob', tag: 'dead-letters', access: 'signed-in', summary: 'Progress of a bulk job', params: ID, answers: { 200: { description: 'The job', body: 'BulkJob' }, 404: refused('No such job') } })
  async bulkJob(@Param('id', IdPipe) id: string) {
    return answer(await this.bulk.get(id));
  }

  @Post('bulk-jobs/:id/cancel')
  @Endpoint({ operationId: 'cancelBulkJob', tag: 'dead-letters', access: 'operator', summary: 'Cancel a running bulk job', params: ID, answers: { 201: { description: 'The job', body: 'BulkJob' }, 404: refused('No such job') } })
  async cancelBulk(@Param('id', IdPipe) id: string, @Req() req: AuthedRequest) {
    return answer(await this.bulk.cancel(id, req.session!));
  }

  @Get('manual-dispatch')
  @Endpoint({
    operationId: 'listManualDispatch',
    tag: 'manual-dispatch',
    access: 'signed-in',
    summary: 'Fallback documents: waiting (default), sent, withdrawn (the message was cancelled before sending) or all',
    query: 'ManualDispatchQuery',
    answers: { 200: { description: 'Documents', body: 'DispatchList' }, 400: refused('A query parameter is not valid (named)') },
  })
  manualDispatch(@Query(queryOf<ManualDispatchQuery>('ManualDispatchQuery')) query: ManualDispatchQuery) {
    return this.dispatch.list(query.status ?? 'waiting', query.limit ?? 100);
  }

  // The document holds the patient's name and identity number in full: operators only.
  @Get('manual-dispatch/:id/pdf')
  @Header('content-type', 'application/pdf')
  @Endpoint({
    operationId: 'getManualDispatchPdf',
    tag: 'manual-dispatch',
    access: 'operator',
    summary: 'Download the PDF (it holds the full name and identity number)',
    params: ID,
    answers: {
      200: { description: 'The PDF, as an attachment', content: { 'application/pdf': { type: 'string', contentMediaType: 'application/pdf' } } },
      404: refused('No such document'),
      410: refused('The PDF was removed by retention; the dispatch record is kept'),
    },
  })
  async pdf(@Param('id', IdPipe) id: string, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const doc = await this.dispatch.pdf(id);
    if (doc === undefined) throw refusal('not-found', `no fallback document ${id}`);
    if (doc.pdf === null) throw refusal('gone', `the PDF of fallback document ${id} was removed by retention (docs/retention.md); its dispatch record is kept`);
    await this.audit.record(req.session!, 'download-fallback-document', `fallback-document:${id}`, { reference: doc.reference });
    res.setHeader('content-disposition', `attachment; filename="${doc.reference.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf"`);
    return new StreamableFile(doc.pdf);
  }

  @Post('manual-dispatch/:id/sent')
  @HttpCode(200)
  @Endpoint({
    operationId: 'markManualDispatchSent',
    tag: 'manual-dispatch',
    access: 'operator',
    summary: 'Mark sent by fax or letter; the copy counts as delivered by hand then (a letter: then plus SVU_POSTAL_DELAY)',
    params: ID,
    body: 'MarkSentRequest',
    answers: { 200: { description: 'The document', body: 'DispatchEntry' }, 400: refused('via or at is not valid'), 404: refused('No such document'), 409: refused('Already sent or withdrawn') },
  })
  async markSent(@Param('id', IdPipe) id: string, @Body(bodyOf<MarkSentRequest>('MarkSentRequest')) body: MarkSentRequest, @Req() req: AuthedRequest) {
    const at = body.at === undefined ? undefined : new Date(body.at);
    const outcome = await this.dispatch.markSent(id, body.via, req.session!.username, at);
    if (outcome.refused === 'not-found') throw refusal('not-found', `no fallback document ${id}`);
    if (outcome.refused !== undefined) throw refusal(outcome.refused.startsWith('at:') ? 'invalid' : 'conflict', outcome.refused);
    const entry = outcome.entry;
    await this.audit.record(req.session!, 'mark-sent', `fallback-document:${id}`, { via: body.via, at: entry.sentAt, messageId: entry.messageId });
    return entry;
  }

  @Get('deviations')
  @Endpoint({
    operationId: 'listDeviations',
    tag: 'overview',
    access: 'signed-in',
    summary: 'Deviations by period, unit and kind',
    query: 'DeviationQuery',
    answers: { 200: { description: 'Deviations', body: 'DeviationList' }, 400: refused('A query parameter is not valid (named)') },
  })
  deviations(@Query(queryOf<DeviationQuery>('DeviationQuery')) query: DeviationQuery) {
    return this.deviationsRepository.list({
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      ...(query.unit === undefined ? {} : { unitHsa: query.unit }),
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      limit: query.limit ?? 200,
    });
  }

  @Get('audit')
  @Endpoint({
    operationId: 'listAudit',
    tag: 'audit',
    access: 'signed-in',
    summary: 'Audit log, newest first',
    query: 'AuditQuery',
    answers: { 200: { description: 'Entries', body: 'AuditList' }, 400: refused('A query parameter is not valid (named)') },
  })
  auditLog(@Query(queryOf<AuditQuery>('AuditQuery')) query: AuditQuery) {
    return this.audit.list(query.before, query.limit ?? 100);
  }
}
