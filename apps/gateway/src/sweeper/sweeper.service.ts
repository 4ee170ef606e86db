import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { CopiesRepository } from '../store/copies.repository';
import { DeadLettersRepository } from '../store/dead-letters.repository';
import { ProcessesRepository } from '../store/processes.repository';
import { Periodic } from '../common/clock/periodic';
import { REFUSED_AT_INGRESS } from '../store/records';
import { RecipientHealthStore } from '../egress';

const BATCH = 500;

/**
 * The other half of the transactional outbox: the store says what should be moving, and the sweeper
 * republishes whatever has stalled — a job lost between commit and publish, a process killed while
 * sending (its lease runs out), a retry dropped by a broker restart. Jobs are idempotent, so sending
 * one again is safe; rows are claimed with SKIP LOCKED, so several sweepers share the work.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SweeperService.name);
  private readonly periodic: Periodic;

  constructor(
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly health: RecipientHealthStore,
    private readonly copies: CopiesRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly processes: ProcessesRepository,
  ) {
    this.periodic = new Periodic('sweep', config.sweepEveryMs, () => this.sweep(), this.logger, () => this.broker.isConnected());
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onModuleDestroy(): void {
    this.periodic.stop();
  }

  /** One round; returns how many jobs it republished. */
  async sweep(): Promise<number> {
    const staleMs = this.config.staleAfterMs;
    // Copies not yet routed: their message's route job.
    const received = await this.copies.staleReceived(staleMs, BATCH);
    // A process that died while sending: its copies are open again (the lifecycle's take-over).
    const takenOver = await this.copies.takeOver(BATCH, staleMs * 2, this.config.takeoverAfterMs);
    if (takenOver.length > 0) this.logger.warn({ event: 'copies-taken-over', count: takenOver.length }, 'copies of a process that stopped were taken over');
    // Routed or retrying copies with no job moving them: a deliver job with their current attempt
    // count. Not those of a failing or paused recipient: they wait for its probe or its release.
    const waiting = await this.copies.staleWaiting(staleMs, BATCH);
    await this.health.count();
    await this.processes.forgetStopped();
    const names = this.broker.names;
    const messagePks = [...new Set(received)];
    if (messagePks.length > 0) await this.broker.publish(names.workExchange, 'route', encodeJob({ messagePks }));
    if (waiting.length > 0) {
      await this.broker.publish(names.workExchange, 'deliver', encodeJob({ copies: waiting.map((c) => ({ copyId: c.id, attempt: c.attempts })) }));
    }
    const count = messagePks.length + waiting.length;
    if (count > 0) this.logger.log({ routeJobs: messagePks.length, deliverJobs: waiting.length }, 'stalled work sent on again');
    await this.pruneRefusedBodies();
    return count;
  }

  /**
   * The bodies of messages refused at ingress are kept SVU_REFUSED_RETENTION (30 days by default);
   * then the body goes and the dead letter stays, with its reason, ids and problems (docs/senders.md).
   */
  async pruneRefusedBodies(): Promise<number> {
    const pruned = await this.deadLetters.pruneRefusedBodies(this.config.refusedRetentionMs, REFUSED_AT_INGRESS, BATCH);
    if (pruned > 0) this.logger.log({ count: pruned }, 'refused bodies past their retention removed');
    return pruned;
  }
}
