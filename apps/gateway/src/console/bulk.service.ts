import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';
import type { Session } from '../common/auth/session';
import { AuditService } from '../common/audit.service';
import type { DeadLetterFilter } from './dead-letter-filter';
import { DeadLettersService } from './dead-letters.service';

export interface BulkJob {
  readonly id: string;
  readonly action: 'replay' | 'discard';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly status: 'running' | 'done' | 'cancelled';
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
}

const COLUMNS = `id, action, total, done, failed, status, created_by AS "createdBy", created_at AS "createdAt", finished_at AS "finishedAt"`;

/**
 * Bulk replay or discard of a filtered selection. The caller first asks how many it will touch and
 * must confirm that number; the job then runs in the background at a bounded rate, records its
 * progress in the store, and stops when cancelled.
 */
@Injectable()
export class BulkService {
  private readonly logger = new Logger(BulkService.name);

  constructor(
    private readonly db: Database,
    private readonly deadLetters: DeadLettersService,
    private readonly audit: AuditService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async start(filter: DeadLetterFilter, action: 'replay' | 'discard', reason: string | undefined, confirm: number, session: Session): Promise<BulkJob> {
    const openFilter: DeadLetterFilter = { ...filter, status: 'open' };
    const ids = await this.deadLetters.ids(openFilter, confirm + 1);
    if (ids.length !== confirm) throw new ConflictException(`the selection now holds ${ids.length > confirm ? 'more' : ids.length} dead letters, not ${confirm}; preview again`);
    const rows = await this.db.query<BulkJob & Record<string, unknown>>(
      `INSERT INTO bulk_jobs (action, filter, reason, total, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [action, JSON.stringify(openFilter), reason ?? null, ids.length, session.username],
    );
    const job = rows[0]!;
    await this.audit.record(session, `bulk-${action}`, `bulk-job:${job.id}`, { filter: openFilter, total: ids.length, reason: reason ?? null });
    void this.run(job.id, ids, action, reason, session);
    return job;
  }

  private async run(jobId: string, ids: readonly string[], action: 'replay' | 'discard', reason: string | undefined, session: Session): Promise<void> {
    const pauseMs = 1000 / this.config.bulkPerSecond;
    let done = 0;
    let failed = 0;
    for (const [i, id] of ids.entries()) {
      if (i % 10 === 0 && (await this.get(jobId)).status === 'cancelled') return;
      try {
        if (action === 'replay') await this.deadLetters.replay(id, session);
        else await this.deadLetters.discard(id, reason ?? '', session);
        done += 1;
      } catch (error) {
        failed += 1;
        this.logger.warn({ jobId, deadLetterId: id, err: (error as Error).message }, 'bulk item failed');
      }
      await this.db.query('UPDATE bulk_jobs SET done = $2, failed = $3 WHERE id = $1', [jobId, done, failed]);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    await this.db.query(`UPDATE bulk_jobs SET status = 'done', finished_at = now() WHERE id = $1 AND status = 'running'`, [jobId]);
  }

  async get(id: string): Promise<BulkJob> {
    const rows = await this.db.query<BulkJob & Record<string, unknown>>(`SELECT ${COLUMNS} FROM bulk_jobs WHERE id = $1`, [id]);
    if (rows[0] === undefined) throw new NotFoundException(`no bulk job ${id}`);
    return rows[0];
  }

  async cancel(id: string, session: Session): Promise<BulkJob> {
    await this.db.query(`UPDATE bulk_jobs SET status = 'cancelled', finished_at = now() WHERE id = $1 AND status = 'running'`, [id]);
    await this.audit.record(session, 'bulk-cancel', `bulk-job:${id}`);
    return this.get(id);
  }
}
