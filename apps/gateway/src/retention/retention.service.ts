import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { MetricsService } from '../common/metrics.service';
import { Database, type Queryable } from '../store/database';
import { withoutPersonalData } from './strip';

/** Any arbitrary but fixed number: the advisory lock one pruning batch holds (docs/retention.md). */
const RETENTION_LOCK = 4_172_011;

export const RETENTION_KINDS = ['payloads', 'dead-letters', 'documents', 'audit'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

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
        const [lock] = (await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [RETENTION_LOCK])).rows;
        if (lock?.ok !== true) return undefined;
        const n = await this.pruneBatch(tx, kind, cutoff);
        if (n > 0) {
          if (runId === undefined) {
            const [row] = (await tx.query<{ id: string }>('INSERT INTO retention_runs (kind, count, cutoff, at) VALUES ($1, $2, $3, $4) RETURNING id', [kind, n, cutoff, this.clock.now()])).rows;
            return { n, runId: row!.id };
          }
          await tx.query('UPDATE retention_runs SET count = count + $2, at = $3 WHERE id = $1', [runId, n, this.clock.now()]);
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
        const rows = (
          await tx.query<{ id: string; message_id: string; canonical: Record<string, unknown> }>(
            `SELECT m.id, m.message_id, m.canonical FROM messages m
              WHERE m.payload_pruned_at IS NULL AND m.received_at < $1
                AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.message_id = m.message_id AND c.state = ANY($3::text[]))
                AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.message_id = m.message_id AND d.resolved_at IS NULL)
              ORDER BY m.received_at, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
            [cutoff, limit, OPEN],
          )
        ).rows;
        if (rows.length === 0) return 0;
        await tx.query(
          `UPDATE messages m SET payload = '\\x'::bytea, canonical = u.canonical, payload_pruned_at = now()
             FROM unnest($1::bigint[], $2::jsonb[]) AS u(id, canonical) WHERE m.id = u.id`,
          [rows.map((r) => r.id), rows.map((r) => JSON.stringify(withoutPersonalData(r.canonical)))],
        );
        await tx.query('UPDATE copies SET payload = NULL WHERE message_id = ANY($1::text[]) AND payload IS NOT NULL', [rows.map((r) => r.message_id)]);
        return rows.length;
      }
      case 'dead-letters':
        return (
          await tx.query(
            `DELETE FROM dead_letters WHERE id IN (
               SELECT id FROM dead_letters WHERE resolved_at IS NOT NULL AND resolved_at < $1 ORDER BY resolved_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
            [cutoff, limit],
          )
        ).rowCount ?? 0;
      case 'documents':
        return (
          await tx.query(
            `UPDATE fallback_documents SET pdf = NULL, pdf_pruned_at = now() WHERE id IN (
               SELECT id FROM fallback_documents WHERE status = 'sent' AND pdf IS NOT NULL AND sent_at < $1 ORDER BY sent_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
            [cutoff, limit],
          )
        ).rowCount ?? 0;
      case 'audit':
        // The audit log refuses deletes except of entries older than the cutoff this transaction names.
        await tx.query("SELECT set_config('svu.retention_audit_cutoff', $1, true)", [cutoff.toISOString()]);
        return (
          await tx.query('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at, id LIMIT $2 FOR UPDATE SKIP LOCKED)', [cutoff, limit])
        ).rowCount ?? 0;
    }
  }
}

/** The latest records of what the retention job pruned, newest first (for the console and the API). */
export async function retentionHistory(db: Database, limit = 100): Promise<Array<{ kind: RetentionKind; count: number; cutoff: string; at: string }>> {
  const rows = await db.query<{ kind: RetentionKind; count: number; cutoff: Date; at: Date }>('SELECT kind, count, cutoff, at FROM retention_runs ORDER BY at DESC, id DESC LIMIT $1', [limit]);
  return rows.map((r) => ({ kind: r.kind, count: r.count, cutoff: r.cutoff.toISOString(), at: r.at.toISOString() }));
}
