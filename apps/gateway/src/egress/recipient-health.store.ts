import { Inject, Injectable, Logger } from '@nestjs/common';
import { decide, neverReached, stateOf, type HealthDecision, type HealthEvent, type RecipientHealth, type RecipientState } from '@svu/delivery';
import { Broker } from '../broker/broker';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database, type Queryable } from '../store/database';
import { RecipientHealthRepository, type HealthRow } from '../store/recipient-health.repository';

/** Copies named by one released deliver job. */
const RELEASE_JOB = 500;

/** One recipient as operators see it. */
export interface RecipientStatus {
  readonly hsaId: string;
  readonly state: RecipientState;
  readonly failingSince: Date | null;
  readonly lastError: string | null;
  readonly lastFailureAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly nextProbeAt: Date | null;
  readonly pausedAt: Date | null;
  readonly pausedBy: string | null;
  readonly pauseReason: string | null;
  /** Copies on their way to it (routed, retrying, sending), as of the last count. */
  readonly backlog: number;
  readonly oldestWaitingAt: Date | null;
  readonly countedAt: Date | null;
}

function healthOf(row: HealthRow): RecipientHealth {
  return {
    failing: row.failing,
    failingSince: row.failing_since,
    lastError: row.last_error,
    lastFailureAt: row.last_failure_at,
    lastSuccessAt: row.last_success_at,
    probeAt: row.probe_at,
    failedProbes: row.failed_probes,
    pausedAt: row.paused_at,
    pausedBy: row.paused_by,
    pauseReason: row.paused_reason,
  };
}

/**
 * Recipient health in the store (docs/recovery.md): every transition is read, decided by the pure
 * state machine in @svu/delivery and written under the row's lock, so egress processes agree.
 * Transitions to failing and back are logged at warn with a stable `event` field for alerting.
 */
@Injectable()
export class RecipientHealthStore {
  private readonly logger = new Logger(RecipientHealthStore.name);

  constructor(
    private readonly db: Database,
    private readonly rows: RecipientHealthRepository,
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Applies an event to a recipient's health, in `tx` when given (the failure's own transaction). */
  async apply(recipientHsa: string, event: HealthEvent, tx?: Queryable): Promise<HealthDecision> {
    const run = async (q: Queryable) => {
      const row = await this.rows.lock(q, recipientHsa);
      const decision = decide(healthOf(row), event, row.now, this.config.probe);
      if (decision.refused === undefined) await this.rows.write(q, recipientHsa, decision.next);
      return decision;
    };
    const decision = tx === undefined ? await this.db.transaction(run) : await run(tx);
    if (decision.transition === 'started-failing') {
      this.logger.warn({ event: 'recipient-failing', recipient: recipientHsa, err: decision.next.lastError }, 'recipient failing: its copies wait for a probe');
    } else if (decision.transition === 'recovered') {
      this.logger.warn({ event: 'recipient-recovered', recipient: recipientHsa }, 'recipient recovered: its backlog is released');
    }
    return decision;
  }

  /** Recipients whose copies may not be tried one by one now (failing or paused). */
  async held(): Promise<Set<string>> {
    return this.rows.held();
  }

  /** Updates only the last error of a recipient already failing; false when it is not failing. */
  noteFailureWhileFailing(tx: Queryable, recipientHsa: string, error: string): Promise<boolean> {
    return this.rows.noteFailureWhileFailing(tx, recipientHsa, error);
  }

  /**
   * Takes the probes that are due (failing, not paused, probe time passed): their time moves on by
   * `holdMs`, so that no other process probes the same recipient meanwhile; the probe's outcome sets it.
   */
  async dueProbes(holdMs: number): Promise<string[]> {
    return this.rows.takeDueProbes(holdMs);
  }

  /**
   * Failing recipients, not paused, whose last attempt never reached them (nothing listened: see
   * neverReached) and whose probe is more than `aheadMs` away: worth a connection check meanwhile.
   */
  async unreachable(aheadMs: number): Promise<Array<{ recipientHsa: string; lastError: string | null }>> {
    const rows = await this.rows.failingBetweenProbes(aheadMs);
    return rows.filter((r) => neverReached(r.last_error)).map((r) => ({ recipientHsa: r.recipient_hsa, lastError: r.last_error }));
  }

  /**
   * The copy to probe a recipient with: of the copies that could go now (no earlier copy of their
   * episode to it still open), the one whose last attempt lies furthest back, never-tried first, then
   * the oldest — so one copy the recipient keeps refusing cannot hold the others back for a day.
   */
  async probeCopy(recipientHsa: string): Promise<CopyRef | undefined> {
    const copy = await this.rows.probeCopy(recipientHsa);
    return copy === undefined ? undefined : { copyId: copy.id, attempt: copy.attempts };
  }

  /**
   * Releases a recipient's backlog: a deliver job for the first waiting copy of each of its episodes
   * (in id order); each later copy follows the moment the one before it settles. Returns how many.
   */
  async release(recipientHsa: string): Promise<number> {
    const rows = await this.rows.heads(recipientHsa);
    for (let i = 0; i < rows.length; i += RELEASE_JOB) {
      const copies = rows.slice(i, i + RELEASE_JOB).map((r) => ({ copyId: r.id, attempt: r.attempts }));
      await this.broker.publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies }));
    }
    if (rows.length > 0) this.logger.log({ recipient: recipientHsa, episodes: rows.length }, 'backlog released');
    return rows.length;
  }

  /**
   * Counts each recipient's backlog and its oldest waiting copy into recipient_health, one process at
   * a time (a transaction-scoped advisory lock); the metrics and the console read those rows.
   */
  async count(): Promise<boolean> {
    return this.rows.count();
  }

  /** Every recipient with a health row, by HSA id. */
  async list(): Promise<RecipientStatus[]> {
    return (await this.rows.list()).map((row) => statusOf(row));
  }

  async get(recipientHsa: string): Promise<RecipientStatus | undefined> {
    const row = await this.rows.get(recipientHsa);
    return row === undefined ? undefined : statusOf(row);
  }
}

export function statusOf(row: HealthRow): RecipientStatus {
  return {
    hsaId: row.recipient_hsa,
    state: stateOf(healthOf(row)),
    failingSince: row.failing_since,
    lastError: row.last_error,
    lastFailureAt: row.last_failure_at,
    lastSuccessAt: row.last_success_at,
    nextProbeAt: row.failing && row.paused_at === null ? row.probe_at : null,
    pausedAt: row.paused_at,
    pausedBy: row.paused_by,
    pauseReason: row.paused_reason,
    backlog: row.backlog,
    oldestWaitingAt: row.oldest_waiting_at,
    countedAt: row.counted_at,
  };
}

/** A recipient that has never had a health row: healthy, nothing counted yet. */
export function healthyStatus(hsaId: string): RecipientStatus {
  return {
    hsaId,
    state: 'healthy',
    failingSince: null,
    lastError: null,
    lastFailureAt: null,
    lastSuccessAt: null,
    nextProbeAt: null,
    pausedAt: null,
    pausedBy: null,
    pauseReason: null,
    backlog: 0,
    oldestWaitingAt: null,
    countedAt: null,
  };
}
