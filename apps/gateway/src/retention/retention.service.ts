import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { MetricsService } from '../common/metrics.service';
import { CopiesRepository } from '../store/copies.repository';
import { Database, type Queryable } from '../store/database';
import { RETENTION_KINDS, RetentionRepository, type RetentionKind } from '../store/retention.repository';
import { withoutPersonalData } from './strip';

export { RETENTION_KINDS, type RetentionKind };

export interface PruneResult {
  readonly kind: RetentionKind;
  readonly count: number;
  readonly cutoff: Date;
}

/** How long each kind is kept, in milliseconds. */
export function keptMs(config: Pick<GatewayConfig, 'retention'>): Record<RetentionKind, number> {
  const r = config.retention;
  return { payloads: r.payloadsMs, 'dead-letters': r.deadLettersMs, documents: r.documentsMs, audit: r.auditMs };
}

/** Copy states in which a copy may still be sent: its message's payload is still needed. */
const OPEN = ['received', 'routed', 'sending', 'retrying'];

/**
 * The retention job (docs/retention.md), run by processes with the `deadlines` service every
 * SVU_RETENTION_EVERY. Per kind it prunes what is older than its cutoff in batches of
 * SVU_RETENTION_BATCH, each batch one transaction that holds a transaction-level advisory lock (a
 * process that finds the lock taken leaves the round to the one holding it) and takes its rows with
 * SKIP LOCKED; what a batch pruned is added to that run's row of `retention_runs` in the same
 * transaction, so the record is exact even when a process dies in the middle.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly db: Database,
    private readonly store: RetentionRepository,
    private readonly copies: CopiesRepository,
    private readonly metrics: MetricsService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.periodic = new Periodic('retention', config.retention.everyMs, () => this.pruneAll(), this.logger);
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  keptMs(): Record<RetentionKind, number> {
    return keptMs(this.config);
  }

  /** One round over every kind; stops early (and prunes nothing more) while another process holds the lock. */
  async pruneAll(): Promise<PruneResult[]> {
    const now = this.clock.now().getTime();
    const results: PruneResult[] = [];
    for (const kind of RETENTION_KINDS) {
      const cutoff = new Date(now - this.keptMs()[kind]);
      const { count, busy } = await this.pruneKind(kind, cutoff);
      results.push({ kind, count, cutoff });
      if (count > 0) {
        this.metrics.pruned.inc({ kind }, count);
        this.logger.log({ kind, count, cutoff: cutoff.toISOString() }, 'retention pruned');
      }
      if (busy) break;
    }
    return results;
  }

  private async pruneKind(kind: RetentionKind, cutoff: Date): Promise<{ count: number; busy: boolean }> {
    let count = 0;
    let runId: string | undefined;
    for (;;) {
      const batch = await this.db.transaction(async (tx) => {
        if (!(await this.store.tryLock(tx))) return undefined;
        const n = await this.pruneBatch(tx, kind, cutoff);
        if (n > 0) {
          if (runId === undefined) return { n, runId: await this.store.recordRun(tx, kind, n, cutoff, this.clock.now()) };
          await this.store.addToRun(tx, runId, n, this.clock.now());
        }
        return { n, runId };
      });
      if (batch === undefined) return { count, busy: true };
      count += batch.n;
      runId = batch.runId;
      if (batch.n < this.config.retention.batchSize) return { count, busy: false };
    }
  }

  private async pruneBatch(tx: Queryable, kind: RetentionKind, cutoff: Date): Promise<number> {
    const limit = this.config.retention.batchSize;
    switch (kind) {
      case 'payloads': {
        // Messages received before the cutoff none of whose copies may still be sent and that no
        // unresolved dead letter needs (it may be replayed).
        const rows = await this.store.prunablePayloads(tx, cutoff, limit, OPEN);
        if (rows.length === 0) return 0;
        await this.store.prunePayloads(tx, rows.map((r) => ({ id: r.id, canonical: withoutPersonalData(r.canonical) })));
        await this.copies.clearPayloads(tx, rows.map((r) => r.message_id));
        return rows.length;
      }
      case 'dead-letters':
        return this.store.deleteDeadLetters(tx, cutoff, limit);
      case 'documents':
        return this.store.pruneDocuments(tx, cutoff, limit);
      case 'audit':
        // The audit log refuses deletes except of entries older than the cutoff this transaction names.
        return this.store.deleteAudit(tx, cutoff, limit);
    }
  }
}

/** The latest records of what the retention job pruned, newest first (for the console and the API). */
export async function retentionHistory(store: RetentionRepository, limit = 100): Promise<Array<{ kind: RetentionKind; count: number; cutoff: string; at: string }>> {
  const rows = await store.history(limit);
  return rows.map((r) => ({ kind: r.kind, count: r.count, cutoff: r.cutoff.toISOString(), at: r.at.toISOString() }));
}
