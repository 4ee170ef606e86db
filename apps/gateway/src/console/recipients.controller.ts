import { Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Req } from '@nestjs/common';
import type { HealthEvent } from '@svu/delivery';
import { DirectoryService } from '../directory/directory.service';
import { healthyStatus, RecipientHealthStore, type RecipientStatus } from '../egress';
import { Roles, type AuthedRequest } from '../common/auth/auth.guard';
import { AuditService } from '../common/audit.service';

/** One recipient on the Recipients page: its health and backlog, and how the directory reaches it. */
export interface RecipientView extends RecipientStatus {
  readonly name: string | null;
  readonly transport: string | null;
  /** Seconds the oldest waiting copy (as of the last count) has waited. */
  readonly oldestWaitingSeconds: number | null;
  readonly inDirectory: boolean;
}

const HSA = /^[A-Za-z0-9-]{1,64}$/;

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
  ) {}

  @Get()
  async list(): Promise<RecipientView[]> {
    const rows = new Map((await this.health.list()).map((r) => [r.hsaId, r]));
    const units = this.directory.directory.units.filter((u) => u.transport.kind !== 'none');
    const ids = [...new Set([...units.map((u) => u.hsaId), ...rows.keys()])].sort();
    return ids.map((id) => this.view(id, rows.get(id)));
  }

  @Get(':hsaId')
  async one(@Param('hsaId') hsaId: string): Promise<RecipientView> {
    return this.view(this.known(hsaId), await this.health.get(hsaId));
  }

  @Roles('operator')
  @Post(':hsaId/retry')
  @HttpCode(200)
  retryNow(@Param('hsaId') hsaId: string, @Req() req: AuthedRequest): Promise<RecipientView> {
    return this.act(req, this.known(hsaId), { kind: 'retry-now' }, 'recipient-retry-now');
  }

  @Roles('operator')
  @Post(':hsaId/pause')
  @HttpCode(200)
  pause(@Param('hsaId') hsaId: string, @Body() body: { reason?: unknown }, @Req() req: AuthedRequest): Promise<RecipientView> {
    const reason = typeof body?.reason === 'string' ? body.reason.slice(0, 500) : undefined;
    return this.act(req, this.known(hsaId), { kind: 'pause', by: req.session!.username }, 'recipient-pause', reason === undefined ? {} : { reason });
  }

  @Roles('operator')
  @Post(':hsaId/resume')
  @HttpCode(200)
  resume(@Param('hsaId') hsaId: string, @Req() req: AuthedRequest): Promise<RecipientView> {
    return this.act(req, this.known(hsaId), { kind: 'resume' }, 'recipient-resume');
  }

  private async act(req: AuthedRequest, hsaId: string, event: HealthEvent, action: string, detail: Record<string, unknown> = {}): Promise<RecipientView> {
    const decision = await this.health.apply(hsaId, event);
    if (decision.refused !== undefined) {
      await this.audit.record(req.session!, `${action}-refused`, `recipient:${hsaId}`, { ...detail, refused: decision.refused });
      throw new ConflictException(decision.refused);
    }
    const released = decision.release ? await this.health.release(hsaId) : 0;
    await this.audit.record(req.session!, action, `recipient:${hsaId}`, { ...detail, released });
    return this.view(hsaId, await this.health.get(hsaId));
  }

  /** A recipient the directory names, or one the store has health for; anything else is 404. */
  private known(hsaId: string): string {
    if (!HSA.test(hsaId) || this.directory.lookup(hsaId) === undefined) throw new NotFoundException(`no recipient ${hsaId} in the unit directory`);
    return hsaId;
  }

  private view(hsaId: string, status: RecipientStatus | undefined): RecipientView {
    const s = status ?? healthyStatus(hsaId);
    const unit = this.directory.lookup(hsaId);
    return {
      ...s,
      name: unit?.name ?? null,
      transport: unit?.transport.kind ?? null,
      oldestWaitingSeconds: s.oldestWaitingAt === null ? null : Math.max(0, Math.round((Date.now() - s.oldestWaitingAt.getTime()) / 1000)),
      inDirectory: unit !== undefined,
    };
  }
}
