import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MetricsService, StoreGauges } from '../../apps/gateway/src/common/metrics.service';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import type { Database } from '../../apps/gateway/src/store/database';
import { StoreCountsRepository } from '../../apps/gateway/src/store/store-counts.repository';

/**
 * deploy/prometheus/alerts.yml checked and unit-tested with promtool (Debian package `prometheus`,
 * which .ci/run installs), and every metric that the alerts and the Grafana dashboard use is one the
 * gateway exports.
 */
const DIR = join(__dirname, '../../deploy');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const havePromtool = promtool.status === 0;
if (!havePromtool && process.env['CI'] !== undefined) throw new Error('promtool is missing: .ci/run installs the Debian package prometheus');

const PROMQL_FUNCTIONS = new Set(['sum', 'max', 'min', 'avg', 'rate', 'increase', 'delta', 'deriv', 'absent', 'time', 'hour', 'day_of_week', 'histogram_quantile', 'by', 'on', 'and', 'or', 'unless', 'le', 'without']);

async function exported(): Promise<Set<string>> {
  const metrics = new MetricsService();
  const db = { query: (sql: string) => Promise.resolve(sql.includes('FROM recipient_health') ? [] : [{ n: '0' }]) } as unknown as Database;
  await new StoreGauges(new StoreCountsRepository(db), metrics, loadConfig({}), { now: () => new Date() }).refresh();
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers not followed by `(` and not inside braces or brackets. */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((n) => !PROMQL_FUNCTIONS.has(n) && /_/.test(n) && !/^(state|reason|recipient|dialect|transport|kind|trigger|type)$/.test(n));
}

(havePromtool ? describe : describe.skip)('promtool', () => {
  it('check rules passes', () => {
    const run = spawnSync('promtool', ['check', 'rules', join(DIR, 'prometheus/alerts.yml')], { encoding: 'utf8' });
    expect(run.stderr + run.stdout).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  });

  it('test rules passes (deploy/prometheus/alerts.test.yml)', () => {
    const run = spawnSync('promtool', ['test', 'rules', join(DIR, 'prometheus/alerts.test.yml')], { encoding: 'utf8', cwd: join(DIR, 'prometheus') });
    expect(`${run.stdout}${run.stderr}`).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  });
});

describe('alerts and dashboard', () => {
  const rules = (parse(readFileSync(join(DIR, 'prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);

  it('has the alerts the operations team needs', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['SvuRecipientFailing', 'SvuRecipientOldestWaiting', 'SvuDeadlineAtRisk', 'SvuDocumentsWaitingForDispatch', 'SvuDeadLettersGrowing', 'SvuStoreCountsStale', 'SvuNoMessagesDuringDaytime']),
    );
  });

  it('uses only metrics the gateway exports', async () => {
    const known = await exported();
    for (const name of ['svu_recipient_backlog', 'svu_recipient_state', 'svu_recipient_oldest_waiting_seconds']) expect(known).toContain(name);
    const dashboard = JSON.parse(readFileSync(join(DIR, 'grafana/svu-gateway.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const exprs = [...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
    const used = new Set(exprs.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(`${name}${known.has(name) ? '' : ' (not exported)'}`).toBe(name);
  });
});
