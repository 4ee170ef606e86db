import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import type { Response } from 'express';
import { DispatchService, UNDO_WINDOW_MS } from '../deadlines';
import { Endpoint, ID_PARAM, refused } from '../common/http/endpoint';
import type { ManualDispatchQuery, MarkSentRequest } from '../common/http/generated/api';
import { auditedRefusal, refusal } from '../common/http/outcome';
import { bodyOf, IdPipe, queryOf } from '../common/http/schema.pipe';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';

const ID = { id: ID_PARAM };

/** Fallback documents waiting for manual dispatch (docs/console.md); the PDF and actions are for operators. */
@Controller('api')
@UseInterceptors(ViewerMaskingInterceptor)
export class DispatchController {
  constructor(
    private readonly dispatch: DispatchService,
    private readonly audit: AuditService,
  ) {}

  @Get('manual-dispatch')
  @Endpoint({
    operationId: 'listManualDispatch',
    tag: 'manual-dispatch',
    access: 'signed-in',
    summary:
      'Fallback documents, one page with the total: waiting (default), superseded (the copy was delivered electronically or cancelled meanwhile), sent, withdrawn (the message was cancelled before sending) or all; by unit, trigger and age',
    query: 'ManualDispatchQuery',
    answers: { 200: { description: 'One page of documents, the total and the totals per status', body: 'DispatchPage' }, 400: refused('A query parameter is not valid (named)') },
  })
  manualDispatch(@Query(queryOf<ManualDispatchQuery>('ManualDispatchQuery')) query: ManualDispatchQuery) {
    return this.dispatch.page(query);
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
    answers: {
      200: { description: 'The document', body: 'DispatchEntry' },
      400: refused('via or at is not valid'),
      404: refused('No such document'),
      409: refused('Already sent or withdrawn, or superseded: its copy was delivered electronically or cancelled (the reason says which and when)'),
    },
  })
  async markSent(@Param('id', IdPipe) id: string, @Body(bodyOf<MarkSentRequest>('MarkSentRequest')) body: MarkSentRequest, @Req() req: AuthedRequest) {
    const at = body.at === undefined ? undefined : new Date(body.at);
    const outcome = await this.dispatch.markSent(id, body.via, req.session!.username, at);
    if (outcome.refused === 'not-found') throw refusal('not-found', `no fallback document ${id}`);
    if (outcome.superseded === true) {
      // A refused attempt to send a superseded document is audited: it would have notified twice.
      await this.audit.record(req.session!, 'mark-sent-refused', `fallback-document:${id}`, { reason: outcome.refused });
    }
    if (outcome.refused !== undefined) throw (outcome.superseded === true ? auditedRefusal : refusal)(outcome.refused.startsWith('at:') ? 'invalid' : 'conflict', outcome.refused);
    const entry = outcome.entry;
    await this.audit.record(req.session!, 'mark-sent', `fallback-document:${id}`, { via: body.via, at: entry.sentAt, messageId: entry.messageId });
    return entry;
  }

  @Post('manual-dispatch/:id/undo-sent')
  @HttpCode(200)
  @Endpoint({
    operationId: 'undoManualDispatchSent',
    tag: 'manual-dispatch',
    access: 'operator',
    summary: `Undo marking sent, within ${UNDO_WINDOW_MS / 1000} s of the marking: the document waits again and its copy is no longer delivered by hand`,
    params: ID,
    answers: {
      200: { description: 'The document, waiting again', body: 'DispatchEntry' },
      404: refused('No such document'),
      409: refused('Not marked sent, the undo window has passed, or a cancellation already follows it by hand'),
    },
  })
  async undoSent(@Param('id', IdPipe) id: string, @Req() req: AuthedRequest) {
    const outcome = await this.dispatch.undoMarkSent(id, req.session!.username);
    if (outcome.refused === 'not-found') throw refusal('not-found', `no fallback document ${id}`);
    if (outcome.refused !== undefined) throw refusal('conflict', outcome.refused);
    await this.audit.record(req.session!, 'undo-mark-sent', `fallback-document:${id}`, { messageId: outcome.entry.messageId });
    return outcome.entry;
  }
}
