import type { Clock } from './clock/clock';
import { loadConfig } from '../config/gateway-config';
import type { Database } from '../store/database';
import { StoreCountsRepository } from '../store/store-counts.repository';
import { GAUGES_NAMED_LIKE_COUNTERS, MetricsService, OPEN_STATES, StoreGauges } from './metrics.service';

/** A store that answers the gauges' queries from fixed rows and counts the queries it gets. */
function fakeStore() {
  const queries: string[] = [];
  const db = {
    query: (sql: string) => {
      queries.push(sql);
      if (sql.includes('FROM copies WHERE state = ANY')) return Promise.resolve([{ state: 'retrying', n: '7' }]);
      if (sql.includes('FROM dead_letters')) return Promise.resolve([{ reason: 'invalid-message', n: '3' }]);
      if (sql.includes('fallback_documents')) return Promise.resolve([{ n: '2' }]);
      if (sql.includes('FROM recipient_health')) {
        return Promise.resolve([{ recipient_hsa: 'SE2120001637-K000000001480', failing: true, paused: false, backlog: 4, oldest_seconds: 90 }]);
      }
      return Promise.resolve([{ n: '1' }]);
    },
  } as unknown as Database;
  return { db, queries };
}

const clock: Clock = { now: () => new Date('2026-03-01T10:00:00Z') };

async function allMetrics() {
  const metrics = new MetricsService();
  const { db, queries } = fakeStore();
  const gauges = new StoreGauges(new StoreCountsRepository(db), metrics, loadConfig({}), clock);
  await gauges.refresh();
  return { metrics, queries, json: await metrics.registry.getMetricsAsJSON() };
}

describe('metric names', () => {
  it('follow Prometheus conventions: counters end in _total, nothing else does, base units, no doubled prefix', async () => {
    const { json } = await allMetrics();
    expect(json.length).toBeGreaterThan(10);
    for (const m of json) {
      const name = m.name;
      const type = String(m.type);
      // Every metric, prom-client's default process metrics included: only counters end in _total.
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(`${type} ${name}`).not.toMatch(/_total$/);
      if (/_seconds(_total)?$/.test(name) || /_bytes$/.test(name)) expect(['counter', 'gauge', 'histogram']).toContain(type);
      expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
      // No doubled segment (svu_process_process_…) and no non-base units.
      const parts = name.split('_');
      for (let i = 1; i < parts.length; i++) expect(`${name}: ${parts[i]}`).not.toBe(`${name}: ${parts[i - 1]}`);
      expect(name).not.toMatch(/_(ms|milliseconds|minutes|hours|kilobytes|megabytes|mib)(_|$)/);
      expect(name).not.toMatch(/^svu_(process|nodejs)_/);
    }
    const names = json.map((m) => m.name);
    // The default metrics are among those checked (not registered elsewhere and so missed).
    expect(names).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'svu_delivery_latency_seconds',
      'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles', 'nodejs_version_info']));
    expect(names.filter((n) => /^(process|nodejs)_/.test(n)).length).toBeGreaterThan(20);
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) expect(names).not.toContain(name);
  });

  it('svu_messages_total is a counter that ingress increments', async () => {
    const { metrics } = await allMetrics();
    metrics.messages.inc({ dialect: 'lifecare', type: 'admission' });
    metrics.messages.inc({ dialect: 'lifecare', type: 'admission' });
    const json = await metrics.registry.getSingleMetric('svu_messages_total')!.get();
    expect(String(json.type)).toBe('counter');
    expect(json.values).toEqual([{ labels: { dialect: 'lifecare', type: 'admission' }, value: 2 }]);
  });
});

describe('store-derived gauges', () => {
  it('are counted by the refresher, and a scrape runs no query', async () => {
    const { metrics, queries } = await allMetrics();
    const counted = queries.length;
    expect(counted).toBe(5);
    const text = await metrics.registry.metrics();
    await metrics.registry.metrics();
    expect(queries.length).toBe(counted);
    expect(text).toContain('svu_copies{state="retrying"} 7');
    for (const state of OPEN_STATES.filter((s) => s !== 'retrying')) expect(text).toContain(`svu_copies{state="${state}"} 0`);
    expect(text).toContain('svu_dead_letters{reason="invalid-message"} 3');
    expect(text).toContain('svu_dead_letters{reason="delivery-failed"} 0');
    expect(text).toContain('svu_manual_dispatch_waiting 2');
    expect(text).toContain('svu_copies_at_risk 1');
    expect(text).toContain(`svu_store_counts_timestamp_seconds ${clock.now().getTime() / 1000}`);
    // Per recipient, from recipient_health (one row each, kept by the sweeper).
    expect(text).toContain('svu_recipient_backlog{recipient="SE2120001637-K000000001480"} 4');
    expect(text).toContain('svu_recipient_state{recipient="SE2120001637-K000000001480",state="failing"} 1');
    expect(text).toContain('svu_recipient_state{recipient="SE2120001637-K000000001480",state="healthy"} 0');
    expect(text).toContain('svu_recipient_oldest_waiting_seconds{recipient="SE2120001637-K000000001480"} 90');
  });

  it('count only open work (partial indexes), never the whole history', async () => {
    const { queries } = await allMetrics();
    // recipient_health has one row per recipient, not one per message: it is read whole.
    for (const sql of queries.filter((q) => !q.includes('FROM recipient_health'))) expect(sql).toMatch(/WHERE .*(state = ANY|resolved_at IS NULL|deadline_checked_at IS NULL|status = 'waiting')/s);
  });

  it('are not in the registry of a process without the deadlines service', async () => {
    const names = (await new MetricsService().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).not.toContain('svu_copies');
    expect(names).toContain('svu_messages_total');
  });
});
