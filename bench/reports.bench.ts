/**
 * npm run bench:reports — follow-up reports over a region's year: BENCH_EPISODES episodes (default
 * 300,000) of 12 messages each (3.6 million messages) in Jönköping's and Västerbotten's 28
 * municipalities, discharged over 2025, generated straight into the store with SQL (generate_series).
 * Prints the one-time build of the per-episode summary, then the time of each report beside a
 * same-run baseline: a plain count(*) over the same messages, then a report right after a burst of
 * changes to 1,000 episodes and how long the background job takes to have them all in the summary.
 * Target: every report under 2 s, whatever changed just before.
 */
import { Pool } from 'pg';
import { drainAllReportSummary, type Transact } from '@svu/report-store';
import { gatewayEnv, startInProcess, writeDirectory } from '../test/support/gateway-harness';
import { OPERATOR, signIn, writeUsers } from '../test/support/console-users';
import { createTestServices } from '../test/support/services';
import { fmt, machine } from './bench-util';

const EPISODES = Number(process.env['BENCH_EPISODES'] ?? 300_000);
const RUNS = Number(process.env['BENCH_COUNT'] ?? 5);
const TARGET_MS = 2000;

const MUNICIPALITIES = ['0604', '0617', '0642', '0643', '0662', '0665', '0680', '0682', '0683', '0684', '0685', '0686', '0687', '2401', '2403', '2404', '2409', '2417', '2418', '2421', '2422', '2425', '2460', '2462', '2463', '2480', '2481', '2482'];

/** Every episode: admission (to the municipality and the vårdcentral), estimate, care contact, SIP, ready, discharged and six free-text messages. */
const GENERATE = `
  WITH e AS (
    SELECT i, 'BE-' || i AS episode_id, ($2::text[])[1 + i % array_length($2::text[], 1)] AS municipality,
           timestamptz '2025-01-01 08:00Z' + (i::float8 / $1 * 362) * interval '1 day' AS admitted
    FROM generate_series(1, $1) AS i),
  k AS (SELECT e.*, k, admitted + interval '3 days' AS ready, admitted + interval '3 days' + ((i % 7) + CASE WHEN i % 50 = 0 THEN 9 ELSE 0 END) * interval '1 day' + interval '2 hours' AS home
        FROM e, generate_series(0, 11) AS k)
  INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, received_at, sent_at, payload, canonical, notify_by)
  SELECT 'BM-' || i || '-' || k, t.type, episode_id, 'SE2321000131-E000000000001', 'canonical', 'http', t.at, t.at, '\\x00'::bytea,
    jsonb_build_object('messageId', 'BM-' || i || '-' || k, 'type', t.type, 'episodeId', episode_id, 'sentAt', to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'sender', jsonb_build_object('hsaId', 'SE2321000131-E000000000001', 'name', 'Medicin 1'),
      'recipients', CASE WHEN k = 0 THEN '[{"hsaId":"SE2120000006-K1","role":"municipal-health-care"},{"hsaId":"SE2321000131-P1","role":"primary-care"}]'::jsonb
                         ELSE '[{"hsaId":"SE2120000006-K1","role":"municipal-health-care"}]'::jsonb END,
      'patient', jsonb_build_object('idType', 'reservnummer', 'id', 'BENCH', 'protectedIdentity', true, 'municipality', municipality),
      'body', t.body),
    CASE WHEN k = 0 THEN t.at + interval '24 hours' END
  FROM k, LATERAL (SELECT
      (ARRAY['admission','discharge-estimate','care-contact','sip-invitation','ready-for-discharge','discharged'])[least(k, 6) + 1] AS type0) ty,
    LATERAL (SELECT CASE WHEN k >= 6 THEN 'message' ELSE ty.type0 END AS type,
      CASE k WHEN 0 THEN admitted WHEN 1 THEN admitted + interval '1 hour' WHEN 2 THEN admitted + interval '1 day' WHEN 3 THEN admitted + interval '2 days'
             WHEN 4 THEN ready WHEN 5 THEN home ELSE admitted + k * interval '2 hours' END AS at,
      CASE k WHEN 0 THEN jsonb_build_object('admittedAt', to_char(admitted AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'careType', 'somatic', 'reason', 'Fall', 'needs', '["home-care"]'::jsonb)
             WHEN 1 THEN jsonb_build_object('estimatedDischargeDate', to_char(admitted + interval '5 days', 'YYYY-MM-DD'))
             WHEN 2 THEN '{"name":"Vårdsamordnare","phone":"010-1234567"}'::jsonb
             WHEN 3 THEN jsonb_build_object('startsAt', to_char((admitted + interval '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'form', 'video')
             WHEN 4 THEN jsonb_build_object('readyAt', to_char(ready AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'destination', 'home')
             WHEN 5 THEN jsonb_build_object('dischargedAt', to_char(home AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'destination', 'home')
             ELSE '{"subject":"Fråga","text":"Text"}'::jsonb END AS body) t`;

/** One delivered copy per message to the municipality (every 20th admission notice never delivered), one to the vårdcentral for admissions. */
const COPIES = `
  INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, state, delivered_at, notify_by)
  SELECT m.id, m.message_id, m.episode_id, m.type, r.hsa, r.role, CASE WHEN r.undelivered THEN 'retrying' ELSE 'delivered' END,
         CASE WHEN r.undelivered THEN NULL ELSE m.sent_at + interval '1 minute' END, m.notify_by
  FROM messages m, LATERAL (VALUES ('SE2120000006-K1', 'municipal-health-care', m.type = 'admission' AND m.id % 20 = 0),
                                   ('SE2321000131-P1', 'primary-care', false)) AS r(hsa, role, undelivered)
  WHERE r.role = 'municipal-health-care' OR m.type = 'admission'`;

const DAY_ZERO = `
  INSERT INTO day_zero (episode_id, message_id, day_zero, sent_at, recorded_at)
  SELECT episode_id, message_id, (sent_at AT TIME ZONE 'Europe/Stockholm')::date, sent_at, sent_at FROM messages WHERE type = 'ready-for-discharge'`;

async function timedMs(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function best(work: () => Promise<unknown>): Promise<{ best: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timedMs(work));
  times.sort((a, b) => a - b);
  return { best: times[0]!, median: times[Math.floor(times.length / 2)]! };
}

async function main(): Promise<void> {
  const services = await createTestServices('bench_reports');
  try {
    // BENCH_DATABASE_URL: a database a run before generated and kept (BENCH_KEEP_DB=1), to time the reports again.
    const reuse = process.env['BENCH_DATABASE_URL'];
    const db = reuse ?? services.databaseUrl;
    const env = gatewayEnv(services, writeDirectory([]), { SVU_USERS: writeUsers(), LOG_LEVEL: 'error', SVU_SERVICES: 'console', DATABASE_URL: db });
    // Started once for the migrations, stopped while the data is generated and the summary built (its
    // background job would build it meanwhile), started again for the reports.
    await (await startInProcess(env)).app.close();
    console.log(`# bench:reports — ${machine()}`);
    // Its own pool: the generation's statements take minutes, beyond the test harness's bounded queries.
    const pool = new Pool({ connectionString: db, max: 2 });
    const sql = async (text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as unknown[];
    const generate = reuse !== undefined ? 0 : await timedMs(async () => {
      await sql(GENERATE, [EPISODES, MUNICIPALITIES]);
      await sql(COPIES);
      await sql(DAY_ZERO);
      await sql('ANALYZE');
    });
    const [{ n }] = (await sql('SELECT count(*)::int AS n FROM messages')) as [{ n: number }];
    console.log(`${fmt(EPISODES)} episodes, ${fmt(n)} messages over 2025 in ${MUNICIPALITIES.length} municipalities (generated in ${fmt(generate / 1000, 1)} s)\n`);
    const transact: Transact = async (work) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(async (text, params = []) => (await client.query(text, params)).rows);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    };
    // The one-time build after the upgrade: every episode is pending (the generation went through the
    // write path's triggers), computed here as the background job does it, in larger batches.
    let built = 0;
    const build = await timedMs(async () => (built = await drainAllReportSummary(transact, 5000)));
    console.log(`one-time summary build (after the upgrade, background job): ${fmt(build / 1000, 1)} s for ${fmt(built)} episodes (${fmt(build / Math.max(built, 1), 2)} ms each)\n`);
    const gateway = await startInProcess(env);
    const token = await signIn(gateway.url, OPERATOR);
    const get = (path: string) => async () => {
      const res = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    };
    const line = (name: string, t: { best: number; median: number }, base: number) =>
      console.log(`${name.padEnd(46)} best ${fmt(t.best, 0).padStart(6)} ms   median ${fmt(t.median, 0).padStart(6)} ms   ${fmt(t.median / base, 1).padStart(5)} × baseline`);
    const baseline = await best(() => sql('SELECT count(*) FROM messages'));
    console.log(`${'baseline: SELECT count(*) FROM messages'.padEnd(46)} best ${fmt(baseline.best, 0).padStart(6)} ms   median ${fmt(baseline.median, 0).padStart(6)} ms`);
    const cases: Array<[string, string]> = [
      ['monthly, all municipalities and units (JSON)', '/api/reports/monthly?month=2025-06'],
      ['monthly, all (CSV)', '/api/reports/monthly?month=2025-06&format=csv'],
      ['monthly, one Jönköping municipality', '/api/reports/monthly?month=2025-06&municipality=0680'],
      ['monthly, one Västerbotten municipality (streak)', '/api/reports/monthly?month=2025-12&municipality=2480'],
      ['episodes of a month, one municipality', '/api/reports/episodes?month=2025-06&municipality=0680'],
      ['series, 12 months, Västerbotten', '/api/reports/series?municipality=2480&month=2025-12&months=12'],
    ];
    let worst = 0;
    for (const [name, path] of cases) {
      const t = await best(get(path));
      worst = Math.max(worst, t.median);
      line(name, t, baseline.median);
    }
    // A burst: 1,000 episodes change at once (a new message each, delivered, and their admission
    // notice delivered again later), as the write path does it; the report asked right after.
    const burst = async (episodes: number, offset: number) => {
      await sql(`INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, received_at, sent_at, payload, canonical)
        SELECT 'BX-' || i || '-' || $2::int, 'message', 'BE-' || i, 'SE2321000131-E000000000001', 'canonical', 'http', now(), now(), '\\x00'::bytea,
          jsonb_build_object('messageId', 'BX-' || i || '-' || $2::int, 'type', 'message', 'episodeId', 'BE-' || i, 'recipients', '[]'::jsonb, 'body', '{}'::jsonb)
        FROM generate_series($2::int + 1, $2::int + $1::int) AS i`, [episodes, offset]);
      await sql(`UPDATE copies SET delivered_at = delivered_at + interval '1 second' WHERE message_id IN (SELECT 'BM-' || i || '-0' FROM generate_series($2::int + 1, $2::int + $1::int) AS i)`, [episodes, offset]);
    };
    const pendingOf = async () => ((await sql('SELECT count(DISTINCT episode_id)::int AS n FROM report_pending')) as [{ n: number }])[0].n;
    await burst(1000, 0);
    const before = await pendingOf();
    let pendingHeader = '';
    const afterBurst = await timedMs(async () => {
      const res = await fetch(`${gateway.url}/api/reports/monthly?month=2025-06`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      pendingHeader = res.headers.get('x-summary-pending-episodes') ?? '?';
    });
    console.log(`${'monthly, all, right after 1,000 episodes changed'.padEnd(46)} ${fmt(afterBurst, 0).padStart(11)} ms   (${fmt(before)} episodes pending before, ${pendingHeader} after)`);
    worst = Math.max(worst, afterBurst);
    const caughtUp = await timedMs(async () => {
      while ((await pendingOf()) > 0) await new Promise((r) => setTimeout(r, 50));
    });
    console.log(`${'background job: the burst in the summary after'.padEnd(46)} ${fmt(afterBurst + caughtUp, 0).padStart(11)} ms   (${fmt((afterBurst + caughtUp) / 1000, 2)} ms per episode)`);
    await burst(100, 1000);
    const small = await timedMs(get('/api/reports/monthly?month=2025-06'));
    console.log(`${'monthly, all, right after 100 episodes changed'.padEnd(46)} ${fmt(small, 0).padStart(11)} ms   (pending after: ${await pendingOf()})`);
    worst = Math.max(worst, small);
    await pool.end();
    console.log(`\nworst ${fmt(worst, 0)} ms (target < ${TARGET_MS} ms: ${worst < TARGET_MS ? 'ok' : 'MISSED'})`);
    if (worst >= TARGET_MS) process.exitCode = 1;
    await gateway.app.close();
  } finally {
    if (process.env['BENCH_KEEP_DB'] === '1') console.log(`kept ${services.databaseUrl}`);
    else await services.cleanup();
  }
}

void main();
