import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOCK, type Clock } from './clock/clock';
import { Periodic } from './clock/periodic';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { DEAD_LETTER_REASONS } from '../store/records';
import { OPEN_STATES, StoreCountsRepository } from '../store/store-counts.repository';

/**
 * Prometheus metrics of this process, named by Prometheus conventions (docs/observability.md):
 * counters end in `_total`, times are in seconds, the Node process metrics keep their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`). Counters count what this process did;
 * sum them over processes. Labels carry codes only, never personal data.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly messages = new Counter({
    name: 'svu_messages_total',
    help: 'Messages stored by this process (not duplicates), by dialect received in and type',
    labelNames: ['dialect', 'type'],
    registers: [this.registry],
  });
  readonly invalidMessages = new Counter({
    name: 'svu_messages_invalid_total',
    help: 'Messages refused as invalid by this process and kept as dead letters, by dialect',
    labelNames: ['dialect'],
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'svu_delivery_latency_seconds',
    help: 'Time from a message being stored to a copy of it being delivered',
    labelNames: ['transport'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86_400],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({ name: 'svu_fallback_documents_total', help: 'Fallback documents produced by this process', labelNames: ['kind', 'trigger'], registers: [this.registry] });
  readonly pruned = new Counter({ name: 'svu_retention_pruned_total', help: 'Rows pruned or payloads cleared by the retention job of this process, by kind', labelNames: ['kind'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client also exports nodejs_active_{handles,requests,resources}_total: gauges named like
    // counters (a rate() over them means nothing). The same figure is sum() of the per-type gauges
    // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources, which stay.
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);
  }
}

/** Default metrics of prom-client that break the naming conventions, left out. */
export const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/** Copy states that are still moving (the store counts them); settled states are counted by the counters and the delivery histogram. */
export { OPEN_STATES };

/**
 * The gauges derived from the store (open copies by state, unresolved dead letters, copies at risk,
 * documents waiting for manual dispatch). Exported only by processes that run the `deadlines` service,
 * from counts taken every SVU_STORE_METRICS_EVERY (15 s) by a timer, never at scrape time: a scrape
 * costs no query, and the queries read only partial indexes of open work (not the history, which only
 * grows). With several deadlines processes each exports the same store-wide value: aggregate with
 * `max`, not `sum` (deploy/prometheus/alerts.yml does).
 */
@Injectable()
export class StoreGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StoreGauges.name);
  private readonly refresher: Periodic;
  private readonly copies: Gauge;
  private readonly deadLetters: Gauge;
  private readonly atRisk: Gauge;
  private readonly waiting: Gauge;
  private readonly countedAt: Gauge;
  private readonly recipientBacklog: Gauge;
  private readonly recipientState: Gauge;
  private readonly recipientOldest: Gauge;

  constructor(
    private readonly counts: StoreCountsRepository,
    metrics: MetricsService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    const registers = [metrics.registry];
    this.copies = new Gauge({ name: 'svu_copies', help: 'Copies still moving (not yet settled), by state', labelNames: ['state'], registers });
    this.deadLetters = new Gauge({ name: 'svu_dead_letters', help: 'Dead letters not yet resolved, by reason', labelNames: ['reason'], registers });
    this.atRisk = new Gauge({ name: 'svu_copies_at_risk', help: 'Admission copies not delivered whose deadline is within the fallback margin and not yet judged', registers });
    this.waiting = new Gauge({ name: 'svu_manual_dispatch_waiting', help: 'Fallback documents waiting to be sent by hand', registers });
    this.countedAt = new Gauge({ name: 'svu_store_counts_timestamp_seconds', help: 'When the store-derived gauges were last counted (Unix time)', registers });
    // Per recipient, from recipient_health (one row each, recounted by the sweeper), never from the copies.
    this.recipientBacklog = new Gauge({ name: 'svu_recipient_backlog', help: 'Copies on their way to a recipient (routed, retrying, sending), as of the last count', labelNames: ['recipient'], registers });
    this.recipientState = new Gauge({ name: 'svu_recipient_state', help: "A recipient's state: 1 for the state it is in (healthy, failing, paused), 0 for the others", labelNames: ['recipient', 'state'], registers });
    this.recipientOldest = new Gauge({ name: 'svu_recipient_oldest_waiting_seconds', help: 'Age of the oldest copy waiting for a recipient (0 when none waits)', labelNames: ['recipient'], registers });
    this.refresher = new Periodic('store counts for metrics', config.storeMetricsEveryMs, () => this.refresh(), this.logger);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh().catch((error: Error) => this.logger.warn({ err: error.message }, 'store counts for metrics failed; the next round tries again'));
    this.refresher.start();
  }

  onApplicationShutdown(): void {
    this.refresher.stop();
  }

  /** Counts open work in the store and sets the gauges (every label present, zero when none). */
  async refresh(): Promise<void> {
    const now = this.clock.now();
    const { copies, deadLetters, atRisk, waiting, recipients } = await this.counts.gauges(now, this.config.fallbackMarginMs);
    this.recipientBacklog.reset();
    this.recipientState.reset();
    this.recipientOldest.reset();
    for (const r of recipients) {
      const current = r.paused ? 'paused' : r.failing ? 'failing' : 'healthy';
      this.recipientBacklog.set({ recipient: r.recipient_hsa }, r.backlog);
      for (const state of ['healthy', 'failing', 'paused']) this.recipientState.set({ recipient: r.recipient_hsa, state }, state === current ? 1 : 0);
      this.recipientOldest.set({ recipient: r.recipient_hsa }, Math.max(0, r.oldest_seconds ?? 0));
    }
    const byState = new Map(copies.map((r) => [r.state, Number(r.n)]));
    for (const state of OPEN_STATES) this.copies.set({ state }, byState.get(state) ?? 0);
    // Every reason has a series, 0 when there is none, so that an alert on growth has a value to start from.
    const byReason = new Map(deadLetters.map((r) => [r.reason, Number(r.n)]));
    this.deadLetters.reset();
    for (const reason of new Set<string>([...DEAD_LETTER_REASONS, ...byReason.keys()])) this.deadLetters.set({ reason }, byReason.get(reason) ?? 0);
    this.atRisk.set(atRisk);
    this.waiting.set(waiting);
    this.countedAt.set(now.getTime() / 1000);
  }
}
