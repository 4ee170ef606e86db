import { EPISODE_PAGE_SQL, liabilityForMonth, loadEpisodeReportPage, loadMonthlyReports, monthsUpTo } from '@svu/report-store';
import { parseReportRules } from '@svu/reports';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { Database } from '../../apps/gateway/src/store/database';
import { createTestServices, type TestServices } from '../support/services';

/**
 * The month aggregates of the payment-liability summary (migration 023, docs/payment-liability.md):
 * kept by triggers on report_episodes, they must equal a recomputation from report_episodes after any
 * series of changes, and the liability computed from them must equal the liability computed from the
 * episodes' rows, whatever the rule set (a version changing in the middle of a month included).
 */
let services: TestServices;
let db: Database;
const q = async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> => db.query<R>(sql, params);

const MUNICIPALITIES = ['0680', '0617', '2480', '2401', '1480', '1280'];
const UNITS = ['SE2321000131-E1', 'SE2321000131-E2', 'SE2321000131-E3'];

/** Rules with a version of Jönköping's and of Västerbotten's rule set changing in the middle of a month. */
const RULES = parseReportRules(
  JSON.stringify({
    default: 'law',
    dayRates: { source: 'test', perYear: { '2026': 10000 } },
    counties: { '06': 'jonkoping', '24': 'vasterbotten', '14': 'vg' },
    ruleSets: {
      law: { title: 'law', versions: [{ from: '2018-01-01', model: 'per-patient', dayZero: 'sentAt', preconditions: ['ready-notice'], scope: 'all', graceDays: 3 }] },
      vg: { title: 'vg', versions: [{ from: '2018-01-01', model: 'no-figures', dayZero: 'sentAt', preconditions: [], scope: 'all' }] },
      jonkoping: {
        title: 'jonkoping',
        versions: [
          { from: '2018-03-01', to: '2026-03-14', model: 'average', dayZero: 'sentAt', preconditions: ['admission-notice', 'estimate', 'ready-notice', 'sip-called'], scope: 'exclude-outpatient-only', averageThresholdDays: 2, perPatientLimitDays: 7, longStaysLeaveAverage: true },
          { from: '2026-03-15', model: 'average', dayZero: 'readyAt', preconditions: ['estimate', 'ready-notice'], scope: 'all', averageThresholdDays: 1.5, perPatientLimitDays: 5, longStaysLeaveAverage: false },
        ],
      },
      vasterbotten: {
        title: 'vasterbotten',
        versions: [
          { from: '2022-01-01', to: '2026-04-09', model: 'streak', dayZero: 'readyAt', preconditions: [], scope: 'all', targetAverageDays: 1, failedMonthsInARow: 2, goodMonthsToRecover: 2, graceDays: 1 },
          { from: '2026-04-10', model: 'streak', dayZero: 'sentAt', preconditions: ['ready-notice'], scope: 'all', targetAverageDays: 2, failedMonthsInARow: 1, goodMonthsToRecover: 1, graceDays: 0 },
        ],
      },
    },
  }),
  'test rules',
);

/** A deterministic spread of episodes: municipality, unit, dates, waiting days (sometimes none), facts. */
const EPISODE = (from: number, to: number, salt: number) => `
  INSERT INTO report_episodes AS r (episode_id, registration_municipality, placing_municipality, municipality, hospital_unit, admitted_at, admitted_date,
    discharged_at, discharge_date, day0_sent, day0_ready, wait_sent, wait_ready, sip_required, outpatient_only, region_caused,
    pre_admission, pre_estimate, pre_ready, pre_sip, notifications, notifications_on_time)
  SELECT 'AGG-' || i, m, CASE WHEN (i * ${salt}) % 11 = 0 THEN '1280' END, coalesce(CASE WHEN (i * ${salt}) % 11 = 0 THEN '1280' END, m),
    CASE WHEN i % 13 = 0 THEN NULL ELSE ($1::text[])[1 + (i * ${salt}) % 3] END,
    d - interval '5 days', (d - interval '5 days')::date, CASE WHEN i % 17 = 0 THEN NULL ELSE d END, CASE WHEN i % 17 = 0 THEN NULL ELSE d::date END,
    NULL, NULL, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * ${salt}) % 12 END, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * ${salt} + 1) % 10 END,
    i % 4 = 0, (i * ${salt}) % 7 = 0, (i * ${salt}) % 10 = 0,
    (i * ${salt}) % 6 <> 0, (i * ${salt}) % 5 <> 0, (i * ${salt}) % 8 <> 0, (i * ${salt}) % 3 <> 0, i % 3, (i * ${salt}) % 2
  FROM generate_series(${from}, ${to}) AS i,
    LATERAL (SELECT ($2::text[])[1 + (i * ${salt}) % 6] AS m, timestamptz '2026-01-01 10:00Z' + ((i * ${salt} * 37) % 181) * interval '1 day' AS d) x
  ON CONFLICT (episode_id) DO UPDATE SET municipality = EXCLUDED.municipality, placing_municipality = EXCLUDED.placing_municipality,
    hospital_unit = EXCLUDED.hospital_unit, admitted_date = EXCLUDED.admitted_date, discharge_date = EXCLUDED.discharge_date, wait_sent = EXCLUDED.wait_sent,
    wait_ready = EXCLUDED.wait_ready, outpatient_only = EXCLUDED.outpatient_only, region_caused = EXCLUDED.region_caused, pre_admission = EXCLUDED.pre_admission,
    pre_estimate = EXCLUDED.pre_estimate, pre_ready = EXCLUDED.pre_ready, pre_sip = EXCLUDED.pre_sip, notifications = EXCLUDED.notifications,
    notifications_on_time = EXCLUDED.notifications_on_time`;

const write = (from: number, to: number, salt: number) => q(EPISODE(from, to, salt), [UNITS, MUNICIPALITIES]);

/** The aggregates recomputed from report_episodes as they stand (written independently of the triggers). */
const RECOMPUTED_MONTHS = `
  SELECT to_char(discharge_date, 'YYYY-MM') AS month, k.kind AS group_kind, k.grp, coalesce(wait_sent, -1) AS wait_sent,
    CASE WHEN k.kind = 'municipality' THEN coalesce(wait_ready, -1) ELSE -1 END AS wait_ready,
    CASE WHEN k.kind = 'municipality' THEN (CASE WHEN pre_admission THEN 1 ELSE 0 END + CASE WHEN pre_estimate THEN 2 ELSE 0 END + CASE WHEN pre_ready THEN 4 ELSE 0 END
      + CASE WHEN pre_sip THEN 8 ELSE 0 END + CASE WHEN outpatient_only THEN 16 ELSE 0 END + CASE WHEN region_caused THEN 32 ELSE 0 END) ELSE 0 END AS flags,
    count(*)::int AS episodes, count(placing_municipality)::int AS placed
  FROM report_episodes, LATERAL (VALUES ('municipality', municipality), ('hospital-unit', hospital_unit)) AS k(kind, grp)
  WHERE discharge_date IS NOT NULL AND k.grp IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`;
const STORED_MONTHS = `SELECT to_char(month, 'YYYY-MM') AS month, group_kind, grp, wait_sent, wait_ready, flags::int AS flags, episodes, placed FROM report_months ORDER BY 1, 2, 3, 4, 5, 6`;
const RECOMPUTED_NOTIFICATIONS = `
  SELECT to_char(admitted_date, 'YYYY-MM') AS month, k.kind AS group_kind, k.grp, count(*)::int AS episodes, sum(notifications)::int AS notifications, sum(notifications_on_time)::int AS on_time
  FROM report_episodes, LATERAL (VALUES ('municipality', municipality), ('hospital-unit', hospital_unit)) AS k(kind, grp)
  WHERE admitted_date IS NOT NULL AND k.grp IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
const STORED_NOTIFICATIONS = `SELECT to_char(month, 'YYYY-MM') AS month, group_kind, grp, episodes, notifications, on_time FROM report_notification_months ORDER BY 1, 2, 3`;

/** The monthly figures per group as the reports computed them from report_episodes before migration 023. */
const FROM_EPISODES = (key: 'municipality' | 'hospital_unit') => `SELECT ${key} AS grp,
    count(*) FILTER (WHERE discharge_date BETWEEN $1::date AND $2::date AND wait_sent IS NOT NULL)::int AS episodes,
    round(avg(wait_sent) FILTER (WHERE discharge_date BETWEEN $1::date AND $2::date), 2)::float8 AS average,
    coalesce(sum(notifications) FILTER (WHERE admitted_date BETWEEN $1::date AND $2::date), 0)::int AS notifications,
    coalesce(sum(notifications_on_time) FILTER (WHERE admitted_date BETWEEN $1::date AND $2::date), 0)::int AS on_time,
    count(*) FILTER (WHERE discharge_date BETWEEN $1::date AND $2::date AND placing_municipality IS NOT NULL)::int AS placed,
    count(*) FILTER (WHERE discharge_date BETWEEN $1::date AND $2::date AND wait_sent >= 8)::int AS long
  FROM report_episodes
  WHERE (discharge_date BETWEEN $1::date AND $2::date OR admitted_date BETWEEN $1::date AND $2::date) AND ${key} IS NOT NULL
  GROUP BY 1 ORDER BY 1`;

const MONTHS = monthsUpTo('2026-07', 7);
const monthEnd = (m: string) => new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)), 0)).toISOString().slice(0, 10);

async function expectAggregatesMatch(): Promise<void> {
  expect(await q(STORED_MONTHS)).toEqual(await q(RECOMPUTED_MONTHS));
  expect(await q(STORED_NOTIFICATIONS)).toEqual(await q(RECOMPUTED_NOTIFICATIONS));
  for (const month of MONTHS) {
    // Liability from the aggregate (whole months) and, where a version begins or ends within the month, the episodes' rows;
    // against liability from the episodes' rows alone.
    const fromMonths = await liabilityForMonth(q, RULES, month, MUNICIPALITIES);
    const fromEpisodes = await liabilityForMonth(q, RULES, month, MUNICIPALITIES, 'episodes');
    expect([...fromMonths.entries()]).toEqual([...fromEpisodes.entries()]);
    const reports = await loadMonthlyReports(q, RULES, month);
    for (const [kind, key] of [['municipality', 'municipality'], ['hospital-unit', 'hospital_unit']] as const) {
      const expected = await q<Record<string, unknown>>(FROM_EPISODES(key), [`${month}-01`, monthEnd(month)]);
      const got = reports
        .filter((r) => r.groupBy === kind)
        .map((r) => ({ grp: r.group, episodes: r.episodes, average: r.averageWaitingDays, notifications: r.notifications, on_time: r.notificationsOnTime, placed: r.placedByOtherMunicipality, long: r.waitingDistribution['8+'] }));
      expect(got).toEqual(expected.map((e) => ({ ...e, average: e['episodes'] === 0 ? null : e['average'] })));
    }
  }
}

beforeAll(async () => {
  services = await createTestServices('report_months');
  db = new Database(loadConfig({ DATABASE_URL: services.databaseUrl }));
  await db.migrate();
}, 60_000);

afterAll(async () => {
  await db?.onApplicationShutdown();
  await services?.cleanup();
}, 60_000);

it('the month aggregates equal a recomputation from report_episodes after a series of changes, and give the same liability', async () => {
  await write(1, 600, 1);
  await expectAggregatesMatch();
  // Recomputed in batches as the background job does (insert or update in one statement): episodes move between
  // months, municipalities, hospital units, waiting days and facts; new episodes come in the same statements.
  await write(1, 200, 7);
  await write(150, 700, 3);
  await expectAggregatesMatch();
  // One episode moving between months and municipalities: the old contribution leaves its group, the new one arrives.
  const [before] = await q<{ municipality: string; discharge_date: Date }>("SELECT municipality, discharge_date FROM report_episodes WHERE episode_id = 'AGG-5'");
  await q("UPDATE report_episodes SET municipality = '2401', discharge_date = '2026-06-30', discharged_at = '2026-06-30T10:00:00Z', admitted_date = '2026-03-31' WHERE episode_id = 'AGG-5'");
  expect(before!.municipality).not.toBe('2401');
  // An episode losing its discharge and day 0, placed by another municipality, deleted.
  await q("UPDATE report_episodes SET discharge_date = NULL, wait_sent = NULL, wait_ready = NULL WHERE episode_id IN ('AGG-6', 'AGG-7')");
  await q("UPDATE report_episodes SET placing_municipality = '0617', municipality = '0617' WHERE episode_id LIKE 'AGG-1_'");
  await q("DELETE FROM report_episodes WHERE episode_id LIKE 'AGG-2%'");
  // Nothing changed: no row of the aggregate moves.
  await q('UPDATE report_episodes SET refreshed_at = now()');
  await expectAggregatesMatch();
  // Every group that lost its last episode is gone: no row with zero episodes stays behind.
  expect(await q('SELECT 1 FROM report_months WHERE episodes = 0 UNION ALL SELECT 1 FROM report_notification_months WHERE episodes = 0')).toEqual([]);
}, 120_000);

it('a report reads the month aggregates, not report_episodes, for whole months; one page of episodes is an index scan', async () => {
  await db.transaction(async (tx) => {
    const tq = async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> => (await tx.query<R>(sql, params)).rows;
    // Scans of report_episodes by this connection (counted since its statistics were last reported: compared before and after).
    const scans = async () => (await tq<{ n: string }>("SELECT (seq_scan + coalesce(idx_scan, 0))::text AS n FROM pg_stat_xact_user_tables WHERE relname = 'report_episodes'"))[0]!.n;
    const before = await scans();
    // February: no version begins or ends within it or the months a streak looks back at.
    await liabilityForMonth(tq, RULES, '2026-02', MUNICIPALITIES);
    expect(await scans()).toBe(before);
    // April: Västerbotten's new version begins on the 10th: that part of the month is read from the episodes.
    await liabilityForMonth(tq, RULES, '2026-04', ['2480']);
    expect(Number(await scans())).toBeGreaterThan(Number(before));
    await tx.query('ANALYZE report_episodes');
    await tx.query('SET LOCAL enable_seqscan = off');
    const plan = (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${EPISODE_PAGE_SQL}`, ['2026-05-01', '2026-05-31', '0680', 'AGG-1', 11])).rows.map((r) => r['QUERY PLAN']).join('\n');
    // Both indexes by municipality and date, each bounded to the month: one page reads the municipality's month, not its year.
    expect(plan).toMatch(/Index Cond: \(\(municipality = '0680'::text\) AND \(discharge_date >= '2026-05-01'::date\) AND \(discharge_date <= '2026-05-31'::date\)/);
    expect(plan).toMatch(/Index Cond: \(\(municipality = '0680'::text\) AND \(admitted_date >= '2026-05-01'::date\) AND \(admitted_date <= '2026-05-31'::date\)/);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toContain('report_episodes_pkey');
  });
  // Pages: in episode-id order, each after the last of the page before, the total of the month on each.
  const all = await loadEpisodeReportPage(q, RULES, '2026-05', '0680', { limit: 5000 });
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await loadEpisodeReportPage(q, RULES, '2026-05', '0680', { limit: 7, ...(after === undefined ? {} : { after }) });
    expect(page.total).toBe(all.total);
    seen.push(...page.episodes.map((e) => e.episodeId));
    if (page.next === null) break;
    after = page.next;
  }
  expect(seen).toEqual(all.episodes.map((e) => e.episodeId));
  expect(seen.length).toBe(all.total);
  expect(all.total).toBeGreaterThan(7);
}, 60_000);
