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
    void this.run(job.id, ids, action, reason, session).catch((error: Error) => this.logger.error({ jobId: job.id, err: error.message }, 'bulk job stopped'));
    return done(job);
  }

  /**
   * Goes through the selection one dead letter at a time. Before each it asks the store whether the
   * job still runs, so a cancel stops it before the next dead letter; every outcome is counted in the
   * store (done, failed, or skipped when the dead letter was resolved meanwhile), and the job is marked
   * finished when the runner stops: the job's counts are the only ones there are.
   */
  private async run(jobId: string, ids: readonly string[], action: 'replay' | 'discard', reason: string | undefined, session: Session): Promise<void> {
    const pauseMs = 1000 / this.config.bulkPerSecond;
    // The audit entries of the job's dead letters name the job (the audit log groups them under it).
    const actor = { ...session, bulkJob: jobId };
    try {
      for (const id of ids) {
        if (!(await this.store.bulkRunning(jobId))) return;
        const row = await this.store.get(id);
        if (row === undefined || row['resolved_at'] !== null) {
          await this.store.bulkItem(jobId, 'skipped');
          continue;
        }
        let why: string | undefined;
        try {
          const outcome = action === 'replay' ? await this.deadLetters.replay(id, actor) : await this.deadLetters.discard(id, reason ?? '', actor);
          if (!outcome.ok) why = typeof outcome.detail === 'string' ? outcome.detail : JSON.stringify(outcome.detail['message'] ?? outcome.refused);
        } catch (error) {
          why = (error as Error).message;
        }
        if (why !== undefined) this.logger.warn({ jobId, deadLetterId: id, err: why }, 'bulk item failed');
        await this.store.bulkItem(jobId, why === undefined ? 'done' : 'failed');
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } finally {
      await this.store.bulkFinished(jobId);
    }
  }

  async get(id: string): Promise<Outcome<BulkJob>> {
    const job = await this.store.bulkJob(id);
    return job === undefined ? refuse('not-found', `no bulk job ${id}`) : done(job);
  }

  /** Bulk jobs, newest first. */
  list(before: string | undefined, limit: number): Promise<BulkJob[]> {
    return this.store.bulkJobs(before, limit);
  }

  async cancel(id: string, session: Session): Promise<Outcome<BulkJob>> {
    const job = await this.store.bulkJob(id);
    if (job === undefined) return refuse('not-found', `no bulk job ${id}`);
    // A runner gives a sign of life after every dead letter: one silent for a minute beyond its pace has stopped.
    const staleMs = 60_000 + 2_000 / this.config.bulkPerSecond;
    if (await this.store.cancelBulkJob(id, session.username, staleMs)) await this.audit.record(session, 'bulk-cancel', `bulk-job:${id}`);
    return this.get(id);
  }
}
