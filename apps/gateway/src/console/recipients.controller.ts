import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { HealthEvent } from '@svu/delivery';
import { DirectoryService } from '../directory/directory.service';
import { healthyStatus, RecipientHealthStore, type RecipientStatus } from '../egress';
import { Endpoint, refused } from '../common/http/endpoint';
import type { PauseRequest } from '../common/http/generated/api';
import { auditedRefusal, refusal } from '../common/http/outcome';
import { problemOf } from '../common/http/api-schemas';
import { nulProblem } from '../common/http/schema.pipe';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';
import { CLOCK, type Clock } from '../common/clock/clock';

/** One recipient on the Recipients page: its health and backlog, and how the directory reaches it. */
export interface RecipientView extends RecipientStatus {
  readonly name: string | null;
  readonly transport: string | null;
  /** Seconds the oldest waiting copy (as of the last count) has waited. */
  readonly oldestWaitingSeconds: number | null;
  readonly inDirectory: boolean;
}

const HSA = /^[A-Za-z0-9-]{1,64}$/;
const HSA_PARAM = { hsaId: { description: 'The recipient HSA id', schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } } };
const NOT_FOUND = refused('No such recipient in the unit directory');
const REFUSED = refused('Refused, with the reason (audited)');

/**
 * Recipients (docs/recovery.md): state (healthy, failing, paused), backlog, age of the oldest waiting
 * copy, last error and last success; operators can ask for a probe at once, pause and resume. Every
 * action, and every refused action, is audited.
 */
@Controller('api/recipients')
export class RecipientsController {
  constructor(
    private readonly health: RecipientHealthStore,
    private readonly directory: DirectoryService,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @Endpoint({
    operationId: 'listRecipients',
    tag: 'recipients',
    access: 'signed-in',
    summary: 'Each recipient: state (healthy, failing, paused), backlog, age of the oldest waiting copy, last error, last success, next probe',
    answers: { 200: { description: 'Recipients', body: 'RecipientList' } },
  })
  async list(): Promise<RecipientView[]> {
    const rows = new Map((await this.health.list()).map((r) => [r.hsaId, r]));
    const units = this.directory.directory.units.filter((u) => u.transport.kind !== 'none');
    const ids = [...new Set([...units.map((u) => u.hsaId), ...rows.keys()])].sort();
    return ids.map((id) => this.view(id, rows.get(id)));
  }

  @Get(':hsaId')
  @Endpoint({ operationId: 'getRecipient', tag: 'recipients', access: 'signed-in', summary: 'One recipient', params: HSA_PARAM, answers: { 200: { description: 'The recipient', body: 'RecipientView' }, 404: NOT_FOUND } })
  async one(@Param('hsaId') hsaId: string): Promise<RecipientView> {
    return this.view(this.known(hsaId), await this.health.get(hsaId));
  }

  @Post(':hsaId/retry')
  @HttpCode(200)
  @Endpoint({
    operationId: 'retryRecipient',
    tag: 'recipients',
    access: 'operator',
    summary: 'Retry now: probe a failing recipient at once, or send a healthy one its waiting copies (409 when paused)',
    params: HSA_PARAM,
    answers: { 200: { description: 'The recipient', body: 'RecipientView' }, 404: NOT_FOUND, 409: REFUSED },
  })
  retryNow(@Param('hsaId') hsaId: string, @Req() req: AuthedRequest): Promise<RecipientView> {
    return this.act(req, this.known(hsaId), { kind: 'retry-now' }, 'recipient-retry-now');
  }

  @Post(':hsaId/pause')
  @HttpCode(200)
  @Endpoint({
    operationId: 'pauseRecipient',
    tag: 'recipients',
    access: 'operator',
    summary: 'Pause (announced maintenance): its copies wait; deadlines and fallback still run. The reason is required.',
    params: HSA_PARAM,
    body: 'PauseRequest',
    answers: { 200: { description: 'The recipient', body: 'RecipientView' }, 400: refused('The reason is missing, blank or not a text (audited)'), 404: NOT_FOUND, 409: REFUSED },
  })
  async pause(@Param('hsaId') hsaId: string, @Body() body: unknown, @Req() req: AuthedRequest): Promise<RecipientView> {
    const known = this.known(hsaId);
    // Validated here rather than by a pipe so that a refused pause is audited like every other refusal.
    const problem = problemOf('PauseRequest', body) ?? nulProblem(body);
    if (problem !== undefined) {
      await this.audit.record(req.session!, 'recipient-pause-refused', `recipient:${known}`, { refused: problem.message });
      throw auditedRefusal('invalid', { statusCode: 400, error: 'Bad Request', message: problem.message, field: problem.field ?? 'reason' });
    }
    // Announced maintenance is paused with its reason: shown with the recipient and kept in the audit log.
    const reason = (body as PauseRequest).reason.trim().slice(0, 500);
    return this.act(req, known, { kind: 'pause', by: req.session!.username, reason }, 'recipient-pause', { reason });
  }

  @Post(':hsaId/resume')
  @HttpCode(200)
  @Endpoint({
    operationId: 'resumeRecipient',
    tag: 'recipients',
    access: 'operator',
    summary: 'Resume: its waiting copies go at once, or it is probed at once when failing (409 when not paused)',
    params: HSA_PARAM,
    answers: { 200: { description: 'The recipient', body: 'RecipientView' }, 404: NOT_FOUND, 409: REFUSED },
  })
  resume(@Param('hsaId') hsaId: string, @Req() req: AuthedRequest): Promise<RecipientView> {
    return this.act(req, this.known(hsaId), { kind: 'resume' }, 'recipient-resume');
  }

  private async act(req: AuthedRequest, hsaId: string, event: HealthEvent, action: string, detail: Record<string, unknown> = {}): Promise<RecipientView> {
    const decision = await this.health.apply(hsaId, event);
    if (decision.refused !== undefined) {
      await this.audit.record(req.session!, `${action}-refused`, `recipient:${hsaId}`, { ...detail, refused: decision.refused });
      throw auditedRefusal('conflict', { statusCode: 409, error: 'Conflict', message: decision.refused, reason: decision.refused });
    }
    const released = decision.release ? await this.health.release(hsaId) : 0;
    await this.audit.record(req.session!, action, `recipient:${hsaId}`, { ...detail, released });
    return this.view(hsaId, await this.health.get(hsaId));
  }

  /** A recipient the directory names, or one the store has health for; anything else is 404. */
  private known(hsaId: string): string {
    // What is not an HSA id is not echoed back (it may be anything, of any length).
    if (!HSA.test(hsaId)) throw refusal('not-found', 'no such recipient: not an HSA id (letters, digits and hyphens, at most 64)');
    if (this.directory.lookup(hsaId) === undefined) throw refusal('not-found', `no recipient ${hsaId} in the unit directory`);
    return hsaId;
  }

  private view(hsaId: string, status: RecipientStatus | undefined): RecipientView {
    const s = status ?? healthyStatus(hsaId);
    const unit = this.directory.lookup(hsaId);
    return {
      ...s,
      name: unit?.name ?? null,
      transport: unit?.transport.kind ?? null,
      oldestWaitingSeconds: s.oldestWaitingAt === null ? null : Math.max(0, Math.round((this.clock.now().getTime() - s.oldestWaitingAt.getTime()) / 1000)),
      inDirectory: unit !== undefined,
    };
  }
}
