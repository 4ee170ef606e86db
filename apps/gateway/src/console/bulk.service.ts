import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { done, refuse, type Outcome } from '../common/http/outcome';
import { DeadLettersRepository, type BulkJob } from '../store/dead-letters.repository';
import type { Session } from '../common/auth/session';
import { AuditService } from '../common/audit.service';
import type { DeadLetterFilter } from './dead-letter-filter';
import { DeadLettersService } from './dead-letters.service';

export type { BulkJob };

/**
 * Bulk replay or discard of a filtered selection. The caller first asks how many it will touch and
 * must confirm that number; the job then runs in the background at a bounded rate, records its
 * progress in the store, and stops when cancelled.
 */
@Injectable()
export class BulkService {
  private readonly logger = new Logger(BulkService.name);

  constructor(
    private readonly store: DeadLettersRepository,
    private readonly deadLetters: DeadLettersService,
    private readonly audit: AuditService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async start(filter: DeadLetterFilter, action: 'replay' | 'discard', reason: string | undefined, confirm: number, session: Session): Promise<Outcome<BulkJob>> {
    const openFilter: DeadLetterFilter = { ...filter, status: 'open' };
    const ids = await this.deadLetters.ids(openFilter, confirm + 1);
    if (ids.length !== confirm) return refuse('conflict', `the selection now holds ${ids.length > confirm ? 'more' : ids.length} dead letters, not ${confirm}; preview again`);
    const job = await this.store.startBulkJob({ action, filter: openFilter, reason: reason ?? null, total: ids.length, createdBy: session.username });
    await this.audit.record(session, `bulk-${action}`, `bulk-job:${job.id}`, { filter: openFilter, total: ids.length, reason: reason ?? null });
    void this.run(job.id, ids, action, reason, session);
    return done(job);
  }

  private async run(jobId: string, ids: readonly string[], action: 'replay' | 'discard', reason: string | undefined, session: Session): Promise<void> {
    const pauseMs = 1000 / this.config.bulkPerSecond;
    let succeeded = 0;
    let failed = 0;
    for (const [i, id] of ids.entries()) {
      if (i % 10 === 0) {
        const job = await this.get(jobId);
        if (job.ok && job.value.status === 'cancelled') return;
      }
      let why: string | undefined;
      try {
        const outcome = action === 'replay' ? await this.deadLetters.replay(id, session) : await this.deadLetters.discard(id, reason ?? '', session);
        if (!outcome.ok) why = typeof outcome.detail === 'string' ? outcome.detail : JSON.stringify(outcome.detail['message'] ?? outcome.refused);
      } catch (error) {
        why = (error as Error).message;
      }
      if (why === undefined) succeeded += 1;
      else {
        failed += 1;
        this.logger.warn({ jobId, deadLetterId: id, err: why }, 'bulk item failed');
      }
      await this.store.bulkProgress(jobId, succeeded, failed);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    await this.store.bulkDone(jobId);
  }

  async get(id: string): Promise<Outcome<BulkJob>> {
    const job = await this.store.bulkJob(id);
    return job === undefined ? refuse('not-found', `no bulk job ${id}`) : done(job);
  }

  async cancel(id: string, session: Session): Promise<Outcome<BulkJob>> {
    await this.store.cancelBulkJob(id);
    await this.audit.record(session, 'bulk-cancel', `bulk-job:${id}`);
    return this.get(id);
  }
}
