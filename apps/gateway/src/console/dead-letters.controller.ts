import {
  Body,
  Controller,
  Get,
  Param,
  Post,
  Query,
  Req,
  UseInterceptors,
} from '@nestjs/common';
import { Endpoint, ID_PARAM, refused } from '../common/http/endpoint';
import type {
  BulkPreviewRequest,
  BulkJobQuery,
  BulkRequest,
  CorrectRequest,
  DeadLetterListQuery,
  DiscardRequest,
} from '../common/http/generated/api';
import { answer, refusal } from '../common/http/outcome';
import { bodyOf, IdPipe, queryOf } from '../common/http/schema.pipe';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { DirectoryService } from '../directory/directory.service';
import { BulkService } from './bulk.service';
import { filterOf, withUnitNames, type DeadLetterFilter } from './dead-letter-filter';
import { DeadLettersService } from './dead-letters.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';
import { viewerProbeRefusal } from '../common/masking';

const NO_DEAD_LETTER = refused('No such dead letter');
const CHANGED = refused('The dead letter changed meanwhile (already resolved), or it was refused again');
const REPLAY_ANSWERS = {
  201: { description: 'Resolved', body: 'Replayed' },
  400: { description: 'The message is still not valid (with its problems), or there is nothing to replay', body: 'ReplayInvalid' },
  404: NO_DEAD_LETTER,
  409: { description: 'Already resolved, resolved meanwhile, or refused again (with the reason)', body: 'ReplayConflict' },
} as const;
const ID = { id: ID_PARAM };

/** Dead letters and bulk jobs in the console API (docs/console.md). */
@Controller('api')
@UseInterceptors(ViewerMaskingInterceptor)
export class DeadLettersController {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly bulk: BulkService,
    private readonly directory: DirectoryService,
  ) {}

  /** The checked filter, its recipient text matched against the directory's unit names too. */
  private filter(checked: Parameters<typeof filterOf>[0]): DeadLetterFilter {
    return withUnitNames(filterOf(checked), this.directory.directory.units);
  }

  @Get('dead-letters')
  @Endpoint({
    operationId: 'listDeadLetters',
    tag: 'dead-letters',
    access: 'signed-in',
    summary: 'Dead letters, newest first, keyset-paged, with the total the filter selects',
    description: 'recipient matches text the HSA id or the unit\'s directory name holds. A viewer may not search (q) by an identity number: 403.',
    query: 'DeadLetterListQuery',
    answers: { 200: { description: 'A page', body: 'DeadLetterPage' }, 400: refused('A filter or the cursor is not valid (named)'), 403: refused('A viewer searched by an identity number') },
  })
  async list(@Query(queryOf<DeadLetterListQuery>('DeadLetterListQuery')) query: DeadLetterListQuery, @Req() req: AuthedRequest) {
    const refused = viewerProbeRefusal(req.session?.role, 'q', query.q, 'search by an identity number');
    if (refused !== undefined) throw refusal('forbidden', refused);
    return answer(await this.deadLetters.list(this.filter(query), query.cursor, query.limit ?? 50));
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
    summary: 'How many open dead letters a bulk action on this filter would touch, by unit, type and reason',
    body: 'BulkPreviewRequest',
    answers: { 201: { description: 'The count to confirm and its breakdown', body: 'BulkPreview' }, 400: refused('A filter is not valid (named)') },
  })
  async preview(@Body(bodyOf<BulkPreviewRequest>('BulkPreviewRequest')) body: BulkPreviewRequest) {
    const selection = { ...this.filter(body.filter), status: 'open' as const };
    const filter: DeadLetterFilter = { ...selection };
    delete (filter as { recipientIds?: unknown }).recipientIds;
    const breakdown = await this.deadLetters.breakdown(selection);
    const byUnit = breakdown.byUnit.map((u) => ({ ...u, name: u.key === null ? null : (this.directory.lookup(u.key)?.name ?? null) }));
    return { count: await this.deadLetters.count(selection), filter, breakdown: { ...breakdown, byUnit } };
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
    return answer(await this.bulk.start(this.filter(body.filter), body.action, body.reason, body.confirm, req.session!));
  }

  @Get('bulk-jobs')
  @Endpoint({
    operationId: 'listBulkJobs',
    tag: 'dead-letters',
    access: 'signed-in',
    summary: 'Bulk jobs, newest first, with their counts from the store',
    query: 'BulkJobQuery',
    answers: { 200: { description: 'Bulk jobs', body: 'BulkJobList' }, 400: refused('A query parameter is not valid (named)') },
  })
  async bulkJobs(@Query(queryOf<BulkJobQuery>('BulkJobQuery')) query: BulkJobQuery) {
    return this.bulk.list(query.before, query.limit ?? 50);
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
}
