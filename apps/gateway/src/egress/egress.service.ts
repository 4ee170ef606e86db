import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';
import type { AttemptOutcome } from '@svu/delivery';
import type { DirectoryUnit } from '@svu/directory';
import { Broker } from '../broker/broker';
import { CLOCK, WALL_CLOCK, type Clock } from '../common/clock/clock';
import { Periodic } from '../common/clock/periodic';
import { MetricsService } from '../common/metrics.service';
import { encodeJob, type CopyRef } from '../broker/jobs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database, type Queryable } from '../store/database';
import { CopiesRepository, type ClaimedCopy } from '../store/copies.repository';
import { GroupCommit } from '../store/group-commit';
import { ProcessesRepository } from '../store/processes.repository';
import { insertDeadLetter } from '../store/records';
import { insertDeviation } from '../store/deviations.repository';
import { RecipientHealthStore } from './recipient-health.store';
import { Transports } from './transports';
import { acceptsConnections } from './reachability';
import { KeyedLimiter } from './keyed-limiter';
import { DirectoryService } from '../directory/directory.service';

/** How often a chunk claims again the copies that turned out claimable just after its claim. */
const RECLAIM_TRIES = 4;

/** Copies claimed and sent at a time by one batch of deliver jobs. */
const SEND_CHUNK = 250;

/** A copy delivered, to be recorded before `recordBy` (its chunk's lease less a delivery timeout). */
interface Delivered {
  readonly copy: ClaimedCopy;
  readonly recordBy: number;
}

/**
 * How long a delivered copy may wait for others to be recorded with it. Answers come one by one as
 * the in-flight bounds let copies go; without the wait each recording took the few that had come
 * while the previous one ran (docs/benchmarks.md, bench:pipeline, counts the recordings with and
 * without it). The copy keeps its in-flight turn meanwhile.
 */
const RECORD_LINGER_MS = 3;

/** How often an egress process checks whether recipients that refused connections accept them again. */
const REACH_EVERY_MS = 2_000;

/** Longest wait between two attempts to record an outcome while the store is unreachable. */
const MAX_RECORD_WAIT_MS = 2_000;

/**
 * Egress: claims a copy in the store (only when every earlier copy of its episode to the same
 * recipient is settled, which keeps per-episode order with any number of processes, and only while
 * its recipient is neither failing nor paused), delivers it, and records the outcome. A copy that
 * settles releases the copy it held back at once. A retryable failure marks the recipient failing:
 * its copies then wait, and one probe at a time tries it (docs/recovery.md); the first success
 * releases its whole backlog. Each copy keeps its retry budget; after it, or at once for a permanent
 * failure, the copy is dead-lettered.
 */
@Injectable()
export class EgressService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EgressService.name);
  /** Names this process in the leases of the copies it sends, and in its heartbeat. */
  readonly processId = randomUUID();
  /** Recipients failing or paused as last read (refreshed with every heartbeat): a success to one of them is news. */
  private held = new Set<string>();
  private readonly heartbeat: Periodic;
  private readonly probes: Periodic;
  /** Copies on their way to each HTTP recipient from this process (SVU_RECIPIENT_IN_FLIGHT). */
  private readonly httpInFlight: KeyedLimiter;
  /** Copies on their way to each AMQP recipient from this process (SVU_AMQP_IN_FLIGHT). */
  private readonly amqpInFlight: KeyedLimiter;
  /** When this process last checked unreachable recipients for connections. */
  private reachCheckedAt = -Infinity;
  /** Copies released by settled copies, waiting for the next claim (claimReleased). */
  private readonly released = new GroupCommit<CopyRef, void>((refs) => this.claimReleased(refs), { maxBatch: 4 * SEND_CHUNK, concurrency: 1 });
  /**
   * Copies delivered, waiting to be recorded: the answers of all of this process's chunks that come
   * within RECORD_LINGER_MS of each other, or while a recording runs, are recorded together.
   */
  private readonly delivered = new GroupCommit<Delivered, void>((items) => this.recordDeliveredGroup(items, false), { maxBatch: 500, concurrency: 2, lingerMs: RECORD_LINGER_MS });
  /** The heartbeat's own connection: a pool busy with a burst of failures must not make this process look dead. */
  private beatClient: Client | undefined;

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly transports: Transports,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WALL_CLOCK) private readonly wallClock: Clock,
    private readonly metrics: MetricsService,
    private readonly health: RecipientHealthStore,
    private readonly directory: DirectoryService,
    private readonly copies: CopiesRepository,
    private readonly processes: ProcessesRepository,
  ) {
    this.httpInFlight = new KeyedLimiter(config.recipientInFlight);
    this.amqpInFlight = new KeyedLimiter(config.amqpInFlight);
    this.heartbeat = new Periodic('heartbeat', config.heartbeatEveryMs, () => this.beat(), this.logger);
    this.probes = new Periodic('probe', config.heartbeatEveryMs, () => this.probeDue(), this.logger, () => this.broker.isConnected());
  }

  /**
   * Where a copy goes now: the directory's transport for its recipient when it is still of the same
   * kind and dialect as when the copy was routed (a corrected URL, credential or certificate applies
   * to copies already waiting), else the transport the copy was routed with.
   */
  private transportOf(copy: ClaimedCopy): DirectoryUnit['transport'] {
    const unit = this.directory.lookup(copy.recipient_hsa);
    return unit !== undefined && unit.transport.kind === copy.transport.kind && unit.dialect === copy.dialect ? unit.transport : copy.transport;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Alive before the first claim, so that no sweeper takes this process for dead.
    await this.db.whenReachable('heartbeat', () => this.beat());
    this.heartbeat.start();
    this.probes.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.heartbeat.stop();
    this.probes.stop();
    await this.beatClient?.end().catch(() => undefined);
  }

  /** Says this process is alive (the sweeper takes over the copies of one that stopped saying so), and reads which recipients are held. */
  async beat(): Promise<void> {
    await this.onBeatConnection((connection) => this.processes.beat(connection, this.processId));
    this.held = await this.health.held();
  }

  private async onBeatConnection(work: (connection: Client) => Promise<void>): Promise<void> {
    if (this.beatClient === undefined) {
      const client = new Client({ connectionString: this.config.databaseUrl, connectionTimeoutMillis: 5_000, application_name: 'svu egress heartbeat' });
      client.on('error', () => {
        if (this.beatClient === client) this.beatClient = undefined;
      });
      await client.connect();
      this.beatClient = client;
    }
    const client = this.beatClient;
    try {
      await work(client);
    } catch (error) {
      // A broken connection is replaced at the next beat.
      this.beatClient = undefined;
      void client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Probes each failing recipient whose probe is due, with one copy; the outcome decides its health. */
  async probeDue(): Promise<void> {
    await this.expireWaiting();
    await this.checkReachability();
    // Held for longer than one attempt and its recording; the outcome sets the real next probe time.
    const recipients = await this.health.dueProbes(this.config.deliveryTimeoutMs * 2 + 1_000);
    await Promise.all(
      recipients.map(async (recipientHsa) => {
        const copy = await this.health.probeCopy(recipientHsa);
        if (copy === undefined) return;
        this.logger.log({ recipient: recipientHsa, copyId: copy.copyId }, 'probing a failing recipient');
        await this.processChunk([copy], true);
      }),
    );
  }

  /**
   * A recipient that refused connections is probed on a backoff of up to SVU_PROBE_MAX (30 s), so a
   * probe could come that long after it is back. Between probes, every REACH_EVERY_MS, each such
   * recipient's address is tried with a bare TCP connection (nothing is sent); when it accepts, its
   * probe is brought forward to now, and the backlog follows the probe's success within seconds.
   */
  private async checkReachability(): Promise<void> {
    const now = performance.now();
    if (now - this.reachCheckedAt < REACH_EVERY_MS) return;
    this.reachCheckedAt = now;
    const candidates = await this.health.unreachable(REACH_EVERY_MS);
    await Promise.all(
      candidates.map(async ({ recipientHsa }) => {
        const transport = this.directory.lookup(recipientHsa)?.transport;
        if (transport?.kind !== 'http') return;
        if (!(await acceptsConnections(transport.url, Math.min(1_000, this.config.deliveryTimeoutMs)))) return;
        const decision = await this.health.apply(recipientHsa, { kind: 'reachable' });
        if (decision.probeNow === true) {
          this.logger.log({ recipient: recipientHsa }, 'recipient accepts connections again: probing it now');
        }
      }),
    );
  }

  /**
   * The retry budget keeps running for each copy while its recipient is failing and only one copy at
   * a time is tried: those past it are dead-lettered here (and then fall back like any other).
   */
  private async expireWaiting(): Promise<void> {
    if (this.held.size === 0) return;
    const dead = await this.copies.expireWaiting(this.config.retry.budgetMs, this.clock.now());
    for (const copy of dead) {
      this.logger.warn({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, outcome: 'dead-lettered' }, 'copy dead-lettered: retry budget spent while its recipient was failing');
    }
  }

  /**
   * Deliver jobs: claim what can go now, deliver it, record the outcomes; jobs for copies that moved
   * on are dropped. A batch of jobs can name thousands of copies (the sweeper's jobs after an outage
   * name up to 500 each); they are claimed and sent a chunk at a time, so that a process never has
   * more than a chunk per batch on the wire (more would only queue in the HTTP client until the
   * attempts time out, to be sent again to recipients that may have had them), and a claim's lease
   * starts when its copies are about to go.
   */
  async processAll(refs: readonly CopyRef[]): Promise<void> {
    const unique = [...new Map(refs.map((r) => [r.copyId, r])).values()];
    for (let i = 0; i < unique.length; i += SEND_CHUNK) await this.processChunk(unique.slice(i, i + SEND_CHUNK), false);
  }

  private async processChunk(refs: readonly CopyRef[], probe: boolean): Promise<void> {
    const claim = await this.claimChunk(refs, probe);
    await this.deliverClaimed(claim, probe);
  }

  /**
   * Claims what of `refs` can go now. A copy the claim missed because its predecessor settled just
   * after the claim began is claimed again (a few tries, then a deliver job takes it).
   */
  private async claimChunk(refs: readonly CopyRef[], probe: boolean): Promise<{ claimed: ClaimedCopy[]; claimedAt: number }> {
    // Durations within this process (the lease, how long to keep recording) go by the monotonic timer.
    const claimedAt = performance.now();
    const claimed: ClaimedCopy[] = [];
    let unique = refs;
    for (let tries = 0; unique.length > 0; tries++) {
      const got = await this.claim(unique, probe);
      claimed.push(...got);
      const claimedIds = new Set(got.map((c) => c.id));
      const claimable = await this.noteHeldBack(unique.filter((r) => !claimedIds.has(r.copyId)), probe);
      if (claimable.length === 0) break;
      if (tries >= RECLAIM_TRIES) {
        // Still contended: a deliver job tries again (the sweeper, should that be lost too).
        this.handOver(claimable);
        break;
      }
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** tries));
      unique = claimable;
    }
    return { claimed, claimedAt };
  }

  /**
   * Delivers claimed copies and records their outcomes. What the recipients answered is known only
   * here, so it is recorded as soon as each answer comes (answers arriving together share one
   * transaction, with those of the process's other chunks: see `delivered`), not after the slowest
   * copy of the batch, and even if the store is gone for a while (a database restart): retried until
   * it lands or the lease is nearly over. Otherwise the copies would stay 'sending' until the sweeper
   * opened them again when their lease ran out, and a recipient that had them would get them twice.
   */
  private async deliverClaimed({ claimed, claimedAt }: { claimed: readonly ClaimedCopy[]; claimedAt: number }, probe: boolean): Promise<void> {
    if (claimed.length === 0) return;
    const recordBy = claimedAt + this.leaseMs - this.config.deliveryTimeoutMs;
    // A probe's chunk records on its own: its success is what makes a failing recipient healthy.
    const probeDelivered = probe ? new GroupCommit<Delivered, void>((items) => this.recordDeliveredGroup(items, true)) : undefined;
    const delivered = probeDelivered ?? this.delivered;
    await Promise.all(
      claimed.map(async (copy) => {
        const deliverAndRecord = async () => {
          const outcome = await this.attempt(copy, probe, recordBy);
          if (outcome.kind === 'delivered') await delivered.add({ copy, recordBy });
          else if (outcome.kind === 'not-sent') await this.persistently('not sent', recordBy, () => this.recordNotSent(copy, outcome.reason));
          else await this.persistently('failure', recordBy, () => this.recordFailure(copy, outcome, probe));
        };
        // A recipient takes a limited number at a time, each holding its turn until its outcome is
        // recorded: copies sent or answered but not yet recorded (what a process killed at that moment
        // leaves unknown, and sends again after the takeover) are at most SVU_RECIPIENT_IN_FLIGHT per
        // HTTP recipient and process. The broker confirms in milliseconds, so an AMQP recipient's bound
        // (SVU_AMQP_IN_FLIGHT) is wider: a narrow one would tie its throughput to the store's commit time.
        const kind = this.transportOf(copy).kind;
        if (kind === 'none') await deliverAndRecord();
        else await (kind === 'amqp' ? this.amqpInFlight : this.httpInFlight).run(copy.recipient_hsa, deliverAndRecord);
      }),
    );
  }

  /** Records delivered copies together, retried until the earliest of their chunks' deadlines. */
  private async recordDeliveredGroup(items: readonly Delivered[], probe: boolean): Promise<void[]> {
    const recordBy = Math.min(...items.map((i) => i.recordBy));
    await this.persistently('delivered', recordBy, () => this.recordDelivered(items.map((i) => i.copy), probe));
    return items.map(() => undefined);
  }

  /**
   * One attempt, in its turn among the copies on their way to its recipient (at most
   * SVU_RECIPIENT_IN_FLIGHT from this process, so that a burst does not flood a recipient into timeouts,
   * each a possible repeat). A copy whose turn comes after its recipient started failing is not sent: it
   * waits with the backlog for the probe. Nor is one whose turn comes so late that its outcome could not
   * be recorded within its lease (the sweeper would send it again).
   */
  private async attempt(copy: ClaimedCopy, probe: boolean, recordBy: number): Promise<AttemptOutcome | { kind: 'not-sent'; reason: string }> {
    if (!probe && this.held.has(copy.recipient_hsa)) return { kind: 'not-sent', reason: 'not sent: its recipient started failing while it waited its turn' };
    if (performance.now() + this.config.deliveryTimeoutMs > recordBy) return { kind: 'not-sent', reason: 'not sent: its turn came too late in its lease' };
    return this.transports.deliver(this.transportOf(copy), {
      copyId: copy.id,
      messageId: copy.message_id,
      recipientHsa: copy.recipient_hsa,
      dialect: copy.dialect,
      payload: copy.payload,
    });
  }

  /**
   * A claimed copy that was not sent goes back to waiting with its attempts as they were, and a deliver
   * job names it at once: it is claimed again if its recipient is deliverable by then (resumed or
   * recovered while the copy was on its way back, after the release read the backlog), and otherwise
   * marked as waiting, for the probe or the next release.
   */
  private async recordNotSent(copy: ClaimedCopy, reason: string): Promise<void> {
    const back = await this.db.transaction((tx) => this.copies.retry(tx, copy.id, copy.attempts, reason));
    if (back) this.handOver([{ copyId: copy.id, attempt: copy.attempts }]);
  }

  /**
   * How long a claimed copy is this process's to deliver at most. The sweeper takes it over sooner
   * when this process stops sending heartbeats (it died); the lease is the backstop. It outlasts a
   * delivery attempt and the time to record its outcome through a short store outage, so that a live
   * process is not overtaken.
   */
  private get leaseMs(): number {
    return this.config.deliveryTimeoutMs * 3 + this.config.staleAfterMs * 2;
  }

  private async persistently(what: string, until: number, record: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await record();
        return;
      } catch (error) {
        const waitMs = Math.min(MAX_RECORD_WAIT_MS, 100 * 2 ** attempt);
        if (performance.now() + waitMs > until) throw error;
        this.logger.warn({ outcome: what, err: (error as Error).message, retryInMs: waitMs }, 'outcome not recorded yet; trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /**
   * Claims copies whose attempt count matches their job, whose earlier copies to the same recipient
   * in the episode are all settled and whose recipient is not held. Rows another process holds are
   * skipped, not waited for.
   */
  private async claim(refs: readonly CopyRef[], probe: boolean): Promise<ClaimedCopy[]> {
    // One statement claims the copies and writes their 'sending' event: one round trip per chunk.
    return this.copies.claim(refs, this.leaseMs, probe, this.processId);
  }

  /**
   * Jobs not claimed are dropped: a copy waiting for an earlier copy of its episode is released when
   * that one settles, a copy of a failing or paused recipient when the recipient is deliverable again,
   * and the others have moved on. Those still waiting are marked as looked at, so that the sweeper
   * (the backstop should a release be lost) leaves them alone for SVU_STALE_AFTER.
   */
  private async noteHeldBack(refs: readonly CopyRef[], probe: boolean): Promise<CopyRef[]> {
    const rows = await this.copies.touchWaiting(refs.map((r) => r.copyId), probe);
    return rows.map((r) => ({ copyId: r.id, attempt: r.attempts }));
  }

  private handOver(refs: readonly CopyRef[]): void {
    void this.broker
      .publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies: refs }))
      .catch((e: Error) => this.logger.warn({ count: refs.length, err: e.message }, 'release not sent; the sweeper will'));
  }

  /** Releases what the copies `settledIds` held back, read after the commit that settled them (see NEXT_AFTER_SETTLED); `already` were released from the settling statement. */
  private async releaseAfterCommit(settledIds: readonly string[], already: ReadonlySet<string> = new Set()): Promise<void> {
    const next = await this.copies.nextAfterCommit(settledIds);
    this.releaseWaiting(next.filter((r) => !already.has(r.id)).map((r) => ({ copyId: r.id, attempt: r.attempts })));
  }

  /**
   * Sends the copies that were waiting for copies now settled, at once and from this process (no
   * broker round trip per step of an episode's chain). Should that fail, a deliver job takes them;
   * should this process die first, the sweeper does.
   */
  private releaseWaiting(refs: readonly CopyRef[]): void {
    // claimReleased hands what it could not send to a deliver job and does not throw; a rejection here would be a bug, logged.
    for (const ref of refs) void this.released.add(ref).catch((error: Error) => this.logger.warn({ copyId: ref.copyId, err: error.message }, 'released copy not sent here; the sweeper sends it on'));
  }

  /**
   * Claims released copies and sends them on. The copies released while a claim runs are claimed
   * together by the next one, so that a steady stream of settled copies is claimed, sent and recorded
   * in a few large statements rather than many small ones (each recording releases a handful; claimed
   * on their own, every handful would be recorded on its own again, and so on down the chains). Only
   * the claim is waited for; the copies then go while the next claim gathers.
   */
  private async claimReleased(refs: readonly CopyRef[]): Promise<void[]> {
    const unique = [...new Map(refs.map((r) => [r.copyId, r])).values()];
    for (let i = 0; i < unique.length; i += SEND_CHUNK) {
      const chunk = unique.slice(i, i + SEND_CHUNK);
      const handOver = (error: Error) => {
        this.logger.warn({ count: chunk.length, err: error.message }, 'released copies not sent here; handing them to a deliver job');
        this.handOver(chunk);
      };
      try {
        const claim = await this.claimChunk(chunk, false);
        void this.deliverClaimed(claim, false).catch(handOver);
      } catch (error) {
        handOver(error as Error);
      }
    }
    return refs.map(() => undefined);
  }

  private async recordDelivered(copies: readonly ClaimedCopy[], probe: boolean): Promise<void> {
    const ids = copies.map((c) => c.id);
    // One statement (so one implicit transaction and one round trip) for the state, its events and the
    // copies each one held back. Copies already recorded as delivered are left alone, so that recording
    // again after a commit whose answer was lost (see persistently) neither counts the attempt twice
    // nor repeats the event.
    const next = await this.copies.delivered(ids, this.clock.now());
    this.releaseWaiting(next.map((r) => ({ copyId: r.id, attempt: r.attempts })));
    // Read again now that the commit is visible: a copy routed while the statement ran is released too.
    // Not awaited: the chunk's next answers are recorded meanwhile.
    void this.releaseAfterCommit(ids, new Set(next.map((r) => r.id))).catch((error: Error) =>
      this.logger.warn({ count: ids.length, err: error.message }, 'copies held back not read after the commit; the sweeper sends them on'),
    );
    const now = this.clock.now().getTime();
    for (const copy of copies) {
      this.metrics.deliveryLatency.observe({ transport: copy.transport.kind }, Math.max(0, (now - copy.received_at.getTime()) / 1000));
      this.logger.log({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts: copy.attempts + 1, outcome: 'delivered' }, 'copy delivered');
    }
    // A success to a recipient held as failing (a probe, or a copy on its way when it started failing)
    // makes it healthy and releases its backlog. Others cost nothing here: no write on the hot path.
    const recipients = new Set(copies.filter((c) => probe || this.held.has(c.recipient_hsa)).map((c) => c.recipient_hsa));
    for (const recipientHsa of recipients) await this.recovered(recipientHsa);
  }

  private async recovered(recipientHsa: string): Promise<void> {
    const decision = await this.health.apply(recipientHsa, { kind: 'success' });
    if (decision.release) await this.health.release(recipientHsa);
    if (decision.next.pausedAt === null && !decision.next.failing) this.held.delete(recipientHsa);
  }

  /**
   * A retryable failure to a recipient. The copies in flight when a recipient goes down all fail
   * together: while it is already known to be failing, theirs only update the last error (one short
   * statement), instead of each taking the state machine's read-decide-write turn on the recipient's row.
   */
  private async noteFailure(tx: Queryable, recipientHsa: string, error: string, probe: boolean): Promise<void> {
    if (!probe && this.held.has(recipientHsa) && (await this.health.noteFailureWhileFailing(tx, recipientHsa, error))) return;
    await this.health.apply(recipientHsa, { kind: 'failure', error, probe }, tx);
  }

  private async recordFailure(copy: ClaimedCopy, outcome: Exclude<AttemptOutcome, { kind: 'delivered' }>, probe: boolean): Promise<void> {
    const attempts = copy.attempts + 1;
    // Retried (by the recipient's probe, or with its backlog when it recovers) until the budget is spent.
    // first_attempt_at is the store's wall time (PostgreSQL's now() at the claim), so the budget is read
    // on the wall clock, not on the message clock that tests move through days of deadlines.
    const retry = outcome.kind === 'retry' && this.wallClock.now().getTime() < copy.first_attempt_at.getTime() + this.config.retry.budgetMs;
    if (retry) {
      // The recipient is failing now (or still): this copy waits with the rest of its backlog for the
      // probe, instead of trying again on its own timer.
      await this.db.transaction(async (tx) => {
        await this.copies.retry(tx, copy.id, attempts, outcome.error, outcome.attempt);
        await this.noteFailure(tx, copy.recipient_hsa, outcome.error, probe);
      });
      this.held.add(copy.recipient_hsa);
      this.logger.warn({ messageId: copy.message_id, copyId: copy.id, recipient: copy.recipient_hsa, attempts, err: outcome.error, probe }, 'delivery failed; will retry');
      return;
    }
    const settled = await this.db.transaction(async (tx) => {
      // Not this attempt's to settle any more when the sweeper has taken its lease over: the copy is sent again.
      if (!(await this.copies.fail(tx, copy.id, attempts, outcome.error, outcome.attempt))) {
        if (outcome.kind === 'retry') await this.noteFailure(tx, copy.recipient_hsa, outcome.error, probe);
        return false;
      }
      await insertDeadLetter(tx, {
        reason: 'delivery-failed',
        messagePk: copy.message_pk,
        copyId: copy.id,
        messageId: copy.message_id,
        episodeId: copy.episode_id,
        type: copy.type,
        dialect: copy.dialect,
        recipientHsa: copy.recipient_hsa,
        lastError: outcome.error,
      });
      await insertDeviation(tx, 'dead-lettered', { messageId: copy.message_id, copyId: copy.id, unitHsa: copy.recipient_hsa, detail: outcome.error, at: this.clock.now() });
      // A retryable failure past the budget still says the recipient is failing.
      if (outcome.kind === 'retry') await this.noteFailure(tx, copy.recipient_hsa, outcome.error, probe);
      return true;
    });
    this.logger.warn({ messageId: copy.message_id, copyId: copy.id, attempts, err: outcome.error, outcome: 'dead-lettered' }, 'copy dead-lettered');
    // What it held back, read after the commit (see NEXT_AFTER_SETTLED).
    if (settled) {
      await this.releaseAfterCommit([copy.id]).catch((error: Error) =>
        this.logger.warn({ copyId: copy.id, err: error.message }, 'copies held back not read after the commit; the sweeper sends them on'),
      );
    }
    // A recipient that refuses a message (HTTP 4xx) has answered: it is up.
    if (outcome.kind === 'permanent' && copy.transport.kind !== 'none' && (probe || this.held.has(copy.recipient_hsa))) await this.recovered(copy.recipient_hsa);
  }
}
