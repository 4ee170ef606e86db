/**
 * npm run bench:report-aggregate — the report queries alone over BENCH_EPISODES (default 300,000)
 * rows of the per-episode summary report_episodes, written straight into a fresh database in one
 * statement (the month aggregates of migration 023 filled by its triggers), shaped as bench:reports'
 * year (28 municipalities of Jönköping and Västerbotten, discharged over 2025, waiting days 0–6 and
 * every 50th 9 more, every 20th admission notice not delivered). No messages: the time of the
 * summary's upkeep is bench:reports'; this one measures what a report reads, in a minute rather than
 * bench:reports' 35 at the full volume. Prints each report function (best and median of BENCH_COUNT,
 * default 5) beside a count(*) of report_episodes, and a month's liability computed from the
 * episodes' rows (as before migration 023) beside the same from the aggregate.
 */
import { Pool } from 'pg';
import { liabilityForMonth, loadEpisodeReportPage, loadMonthlyReports, loadReportRules, monthsUpTo } from '@svu/report-store';
import { loadConfig } from '../apps/gateway/src/config/gateway-config';
import { Database } from '../apps/gateway/src/store/database';
import { createTestServices } from '../test/support/services';
import { fmt, machine } from './bench-util';

const EPISODES = Number(process.env['BENCH_EPISODES'] ?? 300_000);
const RUNS = Number(process.env['BENCH_COUNT'] ?? 5);
const MUNICIPALITIES = ['0604', '0617', '0642', '0643', '0662', '0665', '0680', '0682', '0683', '0684', '0685', '0686', '0687', '2401', '2403', '2404', '2409', '2417', '2418', '2421', '2422', '2425', '2460', '2462', '2463', '2480', '2481', '2482'];

const DELIVERY = `jsonb_build_object('messageId', 'x', 'recipientHsa', 'SE2120000006-K1', 'at', '2025-01-01T00:00:00Z', 'via', 'electronic')`;
const GENERATE = `
  INSERT INTO report_episodes (episode_id, registration_municipality, municipality, hospital_unit, admitted_at, admitted_date, discharged_at, discharge_date,
    ready, admission, estimate, sip, day0_sent, day0_ready, wait_sent, wait_ready, sip_required, outpatient_only, region_caused,
    pre_admission, pre_estimate, pre_ready, pre_sip, notifications, notifications_on_time)
  SELECT 'BE-' || i, m, m, 'SE2321000131-E000000000001', a, a::date, d, d::date,
    jsonb_build_object('messageId', 'BM-' || i || '-4', 'sentAt', '2025-01-01T00:00:00Z', 'readyAt', '2025-01-01T00:00:00Z', 'delivery', ${DELIVERY}),
    jsonb_build_object('messageId', 'BM-' || i || '-0', 'delivery', CASE WHEN i % 20 = 0 THEN NULL ELSE ${DELIVERY} END),
    jsonb_build_object('messageId', 'BM-' || i || '-1', 'delivery', ${DELIVERY}), jsonb_build_object('messageId', 'BM-' || i || '-3', 'delivery', ${DELIVERY}),
    (a + interval '3 days')::date, (a + interval '3 days')::date, w, w, true, false, false, i % 20 <> 0, true, true, true, 2, 2 - (i % 20 = 0)::int
  FROM generate_series(1, $1::int) i,
    LATERAL (SELECT ($2::text[])[1 + i % 28] AS m, timestamptz '2025-01-01 08:00Z' + (i::float8 / $1 * 362) * interval '1 day' AS a,
      (i % 7) + CASE WHEN i % 50 = 0 THEN 9 ELSE 0 END AS w) x,
    LATERAL (SELECT a + interval '3 days' + w * interval '1 day' + interval '2 hours' AS d) y`;

async function timed(name: string, work: () => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} best ${fmt(times[0]!, 0).padStart(6)} ms   median ${fmt(times[Math.floor(times.length / 2)]!, 0).padStart(6)} ms`);
}

async function main(): Promise<void> {
  const services = await createTestServices('bench_report_aggregate');
  const db = new Database(loadConfig({ DATABASE_URL: services.databaseUrl }));
  const pool = new Pool({ connectionString: services.databaseUrl, max: 1 });
  try {
    await db.migrate();
    console.log(`# bench:report-aggregate — ${machine()}`);
    const start = Date.now();
    await pool.query(GENERATE, [EPISODES, MUNICIPALITIES]);
    await pool.query('ANALYZE');
    const [{ n }] = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM report_months')).rows as [{ n: number }];
    console.log(`${fmt(EPISODES)} summary rows (aggregates by their triggers) in ${fmt((Date.now() - start) / 1000, 1)} s; report_months: ${fmt(n)} rows\n`);
    const q = async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> => (await pool.query(sql, params)).rows as R[];
    const rules = loadReportRules('config/report-rules.json');
    await timed('baseline: SELECT count(*) FROM report_episodes', () => q('SELECT count(*) FROM report_episodes'));
    await timed('monthly, all municipalities and units', () => loadMonthlyReports(q, rules, '2025-06'));
    await timed('monthly, one Jönköping municipality', () => loadMonthlyReports(q, rules, '2025-06', { municipality: '0680' }));
    await timed('monthly, one Västerbotten municipality (streak)', () => loadMonthlyReports(q, rules, '2025-12', { municipality: '2480' }));
    await timed('series, 12 months, Västerbotten', async () => {
      for (const m of monthsUpTo('2025-12', 12)) await loadMonthlyReports(q, rules, m, { municipality: '2480' });
    });
    await timed('episodes of a month, one municipality (page of 1,000)', () => loadEpisodeReportPage(q, rules, '2025-06', '0680'));
    await timed('episodes of a month, all (page of 1,000)', () => loadEpisodeReportPage(q, rules, '2025-06'));
    await timed('liability, all, from report_episodes (before 023)', () => liabilityForMonth(q, rules, '2025-06', MUNICIPALITIES, 'episodes'));
    await timed('liability, all, from the month aggregate', () => liabilityForMonth(q, rules, '2025-06', MUNICIPALITIES));
  } finally {
    await pool.end();
    await db.onApplicationShutdown();
    await services.cleanup();
  }
}

void main();
