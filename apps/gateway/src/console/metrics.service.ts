import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOCK, type Clock } from '../clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { Database } from '../store/database';

/**
 * Prometheus metrics. Counts that live in the store are read from it at scrape time (so every process
 * reports the same totals); latency and fallbacks are observed where they happen. Labels carry codes
 * only, never personal data.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly deliveryLatency = new Histogram({
    name: 'svu_delivery_latency_seconds',
    help: 'Time from a message being stored to a copy of it being delivered',
    labelNames: ['transport'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86_400],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({ name: 'svu_fallback_documents_total', help: 'Fallback documents produced by this process', labelNames: ['kind', 'trigger'], registers: [this.registry] });

  constructor(
    database: Database,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(CLOCK) clock: Clock,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'svu_process_' });
    const db = database;
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void>) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          await collect(this);
        },
      });
    gauge('svu_messages', 'Messages stored, by dialect received in and type', ['dialect', 'type'], async (g) => {
      g.reset();
      for (const r of await db.query<{ dialect: string; type: string; n: string }>('SELECT dialect, type, count(*) AS n FROM messages GROUP BY dialect, type')) {
        g.set({ dialect: r.dialect, type: r.type }, Number(r.n));
      }
    });
    gauge('svu_copies', 'Copies by state', ['state'], async (g) => {
      g.reset();
      for (const r of await db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM copies GROUP BY state')) g.set({ state: r.state }, Number(r.n));
    });
    gauge('svu_dead_letters', 'Dead letters not yet resolved, by reason', ['reason'], async (g) => {
      g.reset();
      for (const r of await db.query<{ reason: string; n: string }>('SELECT reason, count(*) AS n FROM dead_letters WHERE resolved_at IS NULL GROUP BY reason')) {
        g.set({ reason: r.reason }, Number(r.n));
      }
    });
    gauge('svu_copies_at_risk', 'Admission copies not delivered whose deadline is within the fallback margin or past', [], async (g) => {
      const rows = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM copies WHERE type = 'admission' AND notify_by IS NOT NULL AND delivered_at IS NULL
           AND manual_delivered_at IS NULL AND state <> 'cancelled' AND notify_by <= $1::timestamptz + $2 * interval '1 millisecond'`,
        [clock.now(), config.fallbackMarginMs],
      );
      g.set(Number(rows[0]!.n));
    });
    // Per recipient, from recipient_health (one row each, counted by the sweeper), never from the copies.
    const recipients = async () =>
      db.query<{ recipient_hsa: string; failing: boolean; paused: boolean; backlog: number; oldest_seconds: number | null }>(
        `SELECT recipient_hsa, failing, paused_at IS NOT NULL AS paused, backlog,
           extract(epoch FROM now() - oldest_waiting_at)::float8 AS oldest_seconds FROM recipient_health`,
      );
    gauge('svu_recipient_backlog', 'Copies on their way to a recipient (routed, retrying, sending), as of the last count', ['recipient'], async (g) => {
      g.reset();
      for (const r of await recipients()) g.set({ recipient: r.recipient_hsa }, r.backlog);
    });
    gauge('svu_recipient_state', 'A recipient\'s state: 1 for the state it is in (healthy, failing, paused), 0 for the others', ['recipient', 'state'], async (g) => {
      g.reset();
      for (const r of await recipients()) {
        const current = r.paused ? 'paused' : r.failing ? 'failing' : 'healthy';
        for (const state of ['healthy', 'failing', 'paused']) g.set({ recipient: r.recipient_hsa, state }, state === current ? 1 : 0);
      }
    });
    gauge('svu_recipient_oldest_waiting_seconds', 'Age of the oldest copy waiting for a recipient (0 when none waits)', ['recipient'], async (g) => {
      g.reset();
      for (const r of await recipients()) g.set({ recipient: r.recipient_hsa }, Math.max(0, r.oldest_seconds ?? 0));
    });
    gauge('svu_manual_dispatch_waiting', 'Fallback documents waiting to be sent by hand', [], async (g) => {
      g.set(Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM fallback_documents WHERE status = 'waiting'"))[0]!.n));
    });
  }
}
