import { readFileSync } from 'node:fs';
import { fileReadError } from '@svu/canonical';
import { municipalityName } from '@svu/municipalities';
import { epochToInstant } from '@svu/swedish-time';
import {
  BUCKETS,
  DEVIATION_KINDS,
  PRECONDITIONS,
  classifyEpisode,
  episodeLiableDays,
  monthlyLiability,
  parseReportRules,
  ruleSetFor,
  versionOn,
  type EpisodeLiability,
  type LiabilityFacts,
  type MonthAggregate,
  type MonthLiability,
  type MonthlyReport,
  type Precondition,
  type ReportRules,
  type RuleVersion,
} from '@svu/reports';

export type { ReportRules };
type Query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

/** Without a rules file: the law's default for every municipality. */
const LAW_ONLY = `{"default":"law","ruleSets":{"law":{"title":"Lagens förval (lag 2017:612)","versions":[{"from":"2018-01-01","model":"per-patient","dayZero":"sentAt","preconditions":["ready-notice"],"scope":"all","graceDays":3}]}}}`;

/**
 * Reads and checks the rules file (schemas/report-rules.schema.json); a broken file throws one line,
 * `<path>: ` and what is wrong, naming each field. A missing file means the law's default for every
 * municipality, unless the file was named (`required`: SVU_REPORT_RULES, `--rules`).
 */
export function loadReportRules(path: string, required = false): ReportRules {
  let text = LAW_ONLY;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || required) throw new Error(`${path}: ${fileReadError(error)}`);
  }
  return parseReportRules(text, path);
}

/** Longest period a streak rule looks back (months). */
export const MAX_MONTHS = 36;

const MUNICIPAL_ROLES = `('municipal-health-care', 'social-services')`;
const MUNICIPAL_NEEDS = `array['home-care', 'home-health-care', 'short-term-stay', 'special-housing']`;
const UTC = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const SWEDISH_DATE = (expr: string) => `(${expr} AT TIME ZONE 'Europe/Stockholm')::date`;

const EVIDENCE_KINDS = `array_remove(ARRAY[
    CASE WHEN m.type = 'admission' THEN 'admission' END,
    CASE WHEN m.type = 'discharge-estimate' OR (m.type = 'admission' AND m.canonical -> 'body' ? 'estimatedDischargeDate') THEN 'estimate' END,
    CASE WHEN m.type = 'sip-invitation' THEN 'sip' END], NULL)`;

const met = (alias: string) => `(${alias}.at IS NOT NULL AND (a.discharged_at IS NULL OR ${alias}.at <= a.discharged_at))`;

/**
 * Computes again the episodes of the oldest `$1` rows of report_pending (the write path adds an
 * episode there whenever its facts may have changed: migration 018) and removes every row of those
 * episodes that the statement sees (an episode written several times is computed once). One
 * statement, so the rows removed and the facts read share one snapshot: whatever a pending row's
 * transaction wrote is seen. Run only under SUMMARY_LOCK (drainReportSummary), so that a later
 * computation of an episode never lands before an earlier one.
 */
export const DRAIN_SQL = `WITH picked AS (DELETE FROM report_pending WHERE episode_id IN (SELECT episode_id FROM report_pending ORDER BY id LIMIT $1) RETURNING episode_id),
  episodes AS MATERIALIZED (SELECT DISTINCT episode_id FROM picked),
  -- Laterals: index lookups driven by the (usually few) touched episodes.
  msgs AS MATERIALIZED (SELECT m.* FROM episodes t, LATERAL (SELECT m.id, m.message_id, m.episode_id, m.type, m.sender_hsa, m.notify_by, m.canonical,
      EXISTS (SELECT 1 FROM message_cancellations x WHERE x.message_id = m.message_id AND x.sender_system = m.sender_system) AS cancelled
    FROM messages m WHERE m.episode_id = t.episode_id) m),
  -- The first delivery of each message to a municipal recipient: electronic, or a fallback document sent by fax or letter.
  delivered AS MATERIALIZED (SELECT m.message_id, d.at, d.delivery FROM msgs m, LATERAL (
      SELECT least(c.delivered_at, c.manual_delivered_at) AS at,
        jsonb_build_object('messageId', c.message_id, 'recipientHsa', c.recipient_hsa, 'at', ${UTC('least(c.delivered_at, c.manual_delivered_at)')},
          'via', CASE WHEN c.delivered_at IS NOT NULL AND (c.manual_delivered_at IS NULL OR c.delivered_at <= c.manual_delivered_at) THEN 'electronic' ELSE coalesce(f.sent_via, 'letter') END) AS delivery
      FROM copies c LEFT JOIN fallback_documents f ON f.copy_id = c.id
      WHERE c.message_id = m.message_id AND c.recipient_role IN ${MUNICIPAL_ROLES} AND (c.delivered_at IS NOT NULL OR c.manual_delivered_at IS NOT NULL)
      ORDER BY least(c.delivered_at, c.manual_delivered_at) LIMIT 1) d),
  -- Per episode and kind of evidence, the message that reached the municipality first (else the first such message).
  evidence AS (SELECT DISTINCT ON (m.episode_id, kind) m.episode_id, kind, jsonb_build_object('messageId', m.message_id, 'delivery', d.delivery) AS item, d.at
    FROM msgs m LEFT JOIN delivered d ON d.message_id = m.message_id, unnest(${EVIDENCE_KINDS}) AS kind
    ORDER BY m.episode_id, kind, (d.at IS NULL), d.at, m.id),
  agg AS (SELECT m.episode_id,
      (array_agg(m.canonical -> 'patient' ->> 'municipality' ORDER BY m.id DESC) FILTER (WHERE m.canonical ? 'patient'))[1] AS registration_municipality,
      (array_agg(m.sender_hsa ORDER BY m.id) FILTER (WHERE m.type = 'admission'))[1] AS hospital_unit,
      (array_agg(m.canonical -> 'body' ORDER BY m.id) FILTER (WHERE m.type = 'admission'))[1] AS admission_body,
      -- The discharge that stands: the first discharge message not cancelled (README, Deadlines, fallback documents and day 0).
      ((array_agg(m.canonical -> 'body' ->> 'dischargedAt' ORDER BY m.id) FILTER (WHERE m.type = 'discharged' AND NOT m.cancelled))[1])::timestamptz AS discharged_at
    FROM msgs m GROUP BY m.episode_id),
  roles AS (SELECT m.episode_id, bool_or(r ->> 'role' IN ('primary-care', 'psychiatric-outpatient')) AS outpatient, bool_or(r ->> 'role' IN ${MUNICIPAL_ROLES}) AS municipal
    FROM msgs m, jsonb_array_elements(m.canonical -> 'recipients') r GROUP BY m.episode_id),
  -- Only notifications that were due count (docs/payment-liability.md): delivered, or their deadline
  -- passed (judged by the deadline watcher, which puts the episode here again, or past at $2, the
  -- gateway's time; the database's when none is given). One not delivered whose deadline is still
  -- ahead is neither on time nor late.
  notified AS (SELECT m.episode_id, sum(n.total)::int AS total, sum(n.on_time)::int AS on_time
    FROM msgs m, LATERAL (SELECT count(*) AS total,
        count(*) FILTER (WHERE least(c.delivered_at, c.manual_delivered_at) IS NOT NULL
          AND (m.notify_by IS NULL OR least(c.delivered_at, c.manual_delivered_at) <= m.notify_by)) AS on_time
      FROM copies c WHERE c.message_id = m.message_id AND c.state <> 'cancelled'
        AND (least(c.delivered_at, c.manual_delivered_at) IS NOT NULL OR c.deadline_checked_at IS NOT NULL OR m.notify_by <= coalesce($2::timestamptz, now()))) n
    WHERE m.type = 'admission' GROUP BY m.episode_id),
  ready AS (SELECT z.* FROM episodes t, LATERAL (SELECT z.episode_id, z.message_id, z.sent_at, z.day_zero FROM day_zero z
    WHERE z.episode_id = t.episode_id AND z.cancelled_at IS NULL ORDER BY z.sent_at, z.id LIMIT 1) z), -- day 0: the first ready notice not cancelled
  facts AS (
    SELECT a.episode_id, a.registration_municipality, n.placing_municipality,
      coalesce(n.region_caused, false) AS region_caused, a.hospital_unit,
      (a.admission_body ->> 'admittedAt')::timestamptz AS admitted_at, a.discharged_at,
      rd.message_id AS ready_id, rd.sent_at AS ready_sent_at, (rm.canonical -> 'body' ->> 'readyAt')::timestamptz AS ready_at, rd.day_zero AS day0_sent,
      rdd.delivery AS ready_delivery, ${met('rdd')} AS pre_ready,
      ae.item AS admission, ${met('ae')} AS pre_admission,
      es.item AS estimate, ${met('es')} AS pre_estimate,
      sp.item AS sip, coalesce(ro.outpatient AND ro.municipal, false) AS sip_required, ${met('sp')} AS sip_met,
      (coalesce(ro.outpatient, false) AND NOT coalesce(ro.municipal, false)
        AND NOT coalesce(a.admission_body -> 'needs' ?| ${MUNICIPAL_NEEDS}, false)) AS outpatient_only,
      coalesce(nt.total, 0) AS notifications, coalesce(nt.on_time, 0) AS notifications_on_time
    FROM agg a
    LEFT JOIN episode_notes n ON n.episode_id = a.episode_id
    LEFT JOIN ready rd ON rd.episode_id = a.episode_id
    LEFT JOIN msgs rm ON rm.message_id = rd.message_id
    LEFT JOIN delivered rdd ON rdd.message_id = rd.message_id
    LEFT JOIN evidence ae ON ae.episode_id = a.episode_id AND ae.kind = 'admission'
    LEFT JOIN evidence es ON es.episode_id = a.episode_id AND es.kind = 'estimate'
    LEFT JOIN evidence sp ON sp.episode_id = a.episode_id AND sp.kind = 'sip'
    LEFT JOIN roles ro ON ro.episode_id = a.episode_id
    LEFT JOIN notified nt ON nt.episode_id = a.episode_id),
  stored AS (
    INSERT INTO report_episodes (episode_id, registration_municipality, placing_municipality, municipality, hospital_unit, admitted_at, admitted_date,
      discharged_at, discharge_date, ready, day0_sent, day0_ready, wait_sent, wait_ready, admission, estimate, sip, sip_required, outpatient_only,
      region_caused, pre_admission, pre_estimate, pre_ready, pre_sip, notifications, notifications_on_time, refreshed_at)
    SELECT f.episode_id, f.registration_municipality, f.placing_municipality, coalesce(f.placing_municipality, f.registration_municipality), f.hospital_unit,
      f.admitted_at, ${SWEDISH_DATE('f.admitted_at')}, f.discharged_at, ${SWEDISH_DATE('f.discharged_at')},
      CASE WHEN f.ready_id IS NULL THEN NULL ELSE jsonb_build_object('messageId', f.ready_id, 'sentAt', ${UTC('f.ready_sent_at')},
        'readyAt', ${UTC('f.ready_at')}, 'delivery', f.ready_delivery) END,
      f.day0_sent, coalesce(${SWEDISH_DATE('f.ready_at')}, f.day0_sent),
      greatest(0, ${SWEDISH_DATE('f.discharged_at')} - f.day0_sent),
      greatest(0, ${SWEDISH_DATE('f.discharged_at')} - coalesce(${SWEDISH_DATE('f.ready_at')}, f.day0_sent)),
      f.admission, f.estimate, f.sip, f.sip_required, f.outpatient_only, f.region_caused,
      f.pre_admission, f.pre_estimate, f.pre_ready, (NOT f.sip_required OR f.sip_met), f.notifications, f.notifications_on_time, now()
    FROM facts f ORDER BY f.episode_id
    ON CONFLICT (episode_id) DO UPDATE SET registration_municipality = EXCLUDED.registration_municipality, placing_municipality = EXCLUDED.placing_municipality,
      municipality = EXCLUDED.municipality, hospital_unit = EXCLUDED.hospital_unit, admitted_at = EXCLUDED.admitted_at, admitted_date = EXCLUDED.admitted_date,
      discharged_at = EXCLUDED.discharged_at, discharge_date = EXCLUDED.discharge_date, ready = EXCLUDED.ready, day0_sent = EXCLUDED.day0_sent,
      day0_ready = EXCLUDED.day0_ready, wait_sent = EXCLUDED.wait_sent, wait_ready = EXCLUDED.wait_ready, admission = EXCLUDED.admission,
      estimate = EXCLUDED.estimate, sip = EXCLUDED.sip, sip_required = EXCLUDED.sip_required, outpatient_only = EXCLUDED.outpatient_only,
      region_caused = EXCLUDED.region_caused, pre_admission = EXCLUDED.pre_admission, pre_estimate = EXCLUDED.pre_estimate, pre_ready = EXCLUDED.pre_ready,
      pre_sip = EXCLUDED.pre_sip, notifications = EXCLUDED.notifications, notifications_on_time = EXCLUDED.notifications_on_time, refreshed_at = now()
    RETURNING 1)
  SELECT (SELECT count(*) FROM picked)::int AS picked, (SELECT count(*) FROM stored)::int AS refreshed`;

/** The transaction-level advisory lock that one drain of report_pending holds (any fixed number). */
export const SUMMARY_LOCK = 4_172_018;

/** Runs `work` in one transaction (commit when it returns, roll back when it throws). */
export type Transact = <T>(work: (tx: Query) => Promise<T>) => Promise<T>;

export interface DrainResult {
  /** Pending rows taken (an episode changed by several writes has several). */
  readonly picked: number;
  /** Episodes computed again. */
  readonly refreshed: number;
  /** False when the lock was not had (another process is draining) or the batch ran out of time: nothing was done. */
  readonly done: boolean;
}

export interface DrainOptions {
  /** How long to wait for SUMMARY_LOCK (ms); 0, the default: not at all. */
  readonly waitMs?: number;
  /** The most the batch may take (ms; statement_timeout): beyond it, it is rolled back and its rows stay pending. */
  readonly timeoutMs?: number;
  /** The time a notification's deadline is judged at (the gateway's clock); the database's clock when not given. */
  readonly now?: Date;
}

/** lock_timeout and statement_timeout: the transaction was rolled back, its rows stay pending. */
const GAVE_UP = new Set(['55P03', '57014']);

/**
 * One batch: takes SUMMARY_LOCK and computes again the episodes of up to `limit` pending rows, oldest
 * first. The lock is taken before the drain statement starts, so its snapshot is newer than that of
 * every drain before it.
 */
export async function drainReportSummary(transact: Transact, limit: number, options: DrainOptions = {}): Promise<DrainResult> {
  const waitMs = options.waitMs ?? 0;
  return transact(async (tx) => {
    if (waitMs <= 0) {
      const [row] = await tx<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SUMMARY_LOCK]);
      if (row?.locked !== true) return { picked: 0, refreshed: 0, done: false };
    } else {
      await tx(`SET LOCAL lock_timeout = ${Math.ceil(waitMs)}`);
      await tx('SELECT pg_advisory_xact_lock($1)', [SUMMARY_LOCK]);
      await tx('SET LOCAL lock_timeout = 0');
    }
    if (options.timeoutMs !== undefined) await tx(`SET LOCAL statement_timeout = ${Math.ceil(options.timeoutMs)}`);
    const [row] = await tx<{ picked: number; refreshed: number }>(DRAIN_SQL, [limit, options.now ?? null]);
    return { picked: row?.picked ?? 0, refreshed: row?.refreshed ?? 0, done: true };
  }).catch((error: { code?: string }) => {
    if (error.code !== undefined && GAVE_UP.has(error.code)) return { picked: 0, refreshed: 0, done: false };
    throw error;
  });
}

/** Drains report_pending to the end (or until another process holds the lock); returns the episodes computed. */
export async function drainAllReportSummary(transact: Transact, batch = SUMMARY_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await drainReportSummary(transact, batch);
    total += r.refreshed;
    if (!r.done || r.picked < batch) return total;
  }
}

/**
 * Pending rows a background batch takes at a time (small, so that a report waiting for the lock does
 * not wait long), and the most a report request computes itself before it answers.
 */
export const SUMMARY_BATCH = 100;
export const REPORT_CATCH_UP = 100;
/** How long a report waits for a running background batch, and the most its own catch-up may take (ms). */
export const REPORT_LOCK_WAIT_MS = 300;
export const REPORT_CATCH_UP_MS = 500;

/**
 * What a report does before it reads the summary: computes the last few changes itself (up to
 * REPORT_CATCH_UP pending rows within REPORT_CATCH_UP_MS, so a report right after a write shows it),
 * never more; what is left is the background job's, and the number of episodes still waiting is
 * returned (said with the report). At most REPORT_LOCK_WAIT_MS + REPORT_CATCH_UP_MS before the report.
 */
export async function catchUpForReport(transact: Transact, query: Query, now?: Date): Promise<number> {
  await drainReportSummary(transact, REPORT_CATCH_UP, { waitMs: REPORT_LOCK_WAIT_MS, timeoutMs: REPORT_CATCH_UP_MS, ...(now === undefined ? {} : { now }) });
  return pendingEpisodes(query);
}

/** Episodes whose summary rows wait to be computed again (counted over at most 100,000 pending rows). */
export async function pendingEpisodes(query: Query): Promise<number> {
  const [row] = await query<{ n: number }>('SELECT count(DISTINCT episode_id)::int AS n FROM (SELECT episode_id FROM report_pending LIMIT 100000) p');
  return row?.n ?? 0;
}

const PRE_COLUMN: Record<Precondition, string> = { 'admission-notice': 'pre_admission', estimate: 'pre_estimate', 'ready-notice': 'pre_ready', 'sip-called': 'pre_sip' };
/** The bits of report_months.flags (migration 023). */
const PRE_BIT: Record<Precondition, number> = { 'admission-notice': 1, estimate: 2, 'ready-notice': 4, 'sip-called': 8 };
const OUTPATIENT_ONLY_BIT = 16;
const REGION_CAUSED_BIT = 32;

/**
 * The columns of one rule-set version's aggregate (as aggregate() in libs/reports) over rows that have
 * `w` (waiting days under the version's day 0, null without one), `oos`, `counted`, `region_caused`,
 * a failure flag per precondition (`fail_<column>`) and `n`, the number of episodes the row stands for.
 */
function aggregateColumns(version: RuleVersion): string {
  const failed = PRECONDITIONS.map((p) =>
    version.preconditions?.includes(p) === true ? `coalesce(sum(n) FILTER (WHERE w IS NOT NULL AND NOT oos AND fail_${PRE_COLUMN[p]}), 0)::int AS "${p}"` : `0 AS "${p}"`,
  );
  return `coalesce(sum(n), 0)::int AS episodes,
      coalesce(sum(n) FILTER (WHERE counted), 0)::int AS counted, coalesce(sum(w * n) FILTER (WHERE counted), 0)::int AS counted_days,
      coalesce(sum(n) FILTER (WHERE counted AND w > $6), 0)::int AS long_stays, coalesce(sum(w * n) FILTER (WHERE counted AND w > $6), 0)::int AS long_stay_days,
      coalesce(sum(greatest(w - $7, 0) * n) FILTER (WHERE counted AND NOT region_caused), 0)::int AS days_over_grace,
      coalesce(sum(n) FILTER (WHERE w IS NOT NULL AND oos), 0)::int AS out_of_scope, coalesce(sum(n) FILTER (WHERE w IS NULL), 0)::int AS no_day_zero,
      ${failed.join(', ')}`;
}

/**
 * Aggregates of one rule-set version per municipality and month over whole months ($3, $4: the first
 * days of the first and the last month), from the month aggregate report_months (migration 023): a
 * few rows per municipality, month, waiting days and combination of facts, whatever the number of
 * episodes. Parameters as episodeAggregateSql.
 */
function monthAggregateSql(version: RuleVersion): string {
  const w = version.dayZero === 'readyAt' ? 'wait_ready' : 'wait_sent';
  const oos = version.scope === 'exclude-outpatient-only' ? `(flags & ${OUTPATIENT_ONLY_BIT}) <> 0` : 'false';
  const mask = (version.preconditions ?? []).reduce((m, p) => m | PRE_BIT[p], 0);
  return `SELECT municipality, to_char(month, 'YYYY-MM') AS month, ${aggregateColumns(version)}
    FROM (SELECT grp AS municipality, month, episodes AS n, nullif(${w}, -1) AS w, ${oos} AS oos, (flags & ${REGION_CAUSED_BIT}) <> 0 AS region_caused,
            ${PRECONDITIONS.map((p) => `(flags & ${PRE_BIT[p]}) = 0 AS fail_${PRE_COLUMN[p]}`).join(', ')},
            (${w} >= 0 AND NOT ${oos} AND (flags & ${mask}) = ${mask}) AS counted
          FROM report_months
          WHERE group_kind = 'municipality' AND month BETWEEN $3::date AND $4::date
            AND coalesce($1::jsonb ->> grp, $2) = $5 AND ($8::text IS NULL OR grp = $8)) x
    GROUP BY 1, 2`;
}

/**
 * Aggregates of one rule-set version per municipality and month over a part of one month ($3 to $4:
 * a version that begins or ends within the month), from the episodes' rows of report_episodes (an
 * index on the discharge date: at most a month's rows). Parameters: $1 the rule-set map, $2 the
 * default rule set, $5 the rule set, $6 the per-patient limit, $7 the grace days, $8 one municipality or null.
 */
function episodeAggregateSql(version: RuleVersion): string {
  const w = version.dayZero === 'readyAt' ? 'wait_ready' : 'wait_sent';
  const oos = version.scope === 'exclude-outpatient-only' ? 'outpatient_only' : 'false';
  const required = (version.preconditions ?? []).map((p) => PRE_COLUMN[p]);
  return `SELECT municipality, to_char(discharge_date, 'YYYY-MM') AS month, ${aggregateColumns(version)}
    FROM (SELECT municipality, discharge_date, region_caused, 1 AS n, ${PRECONDITIONS.map((p) => `NOT ${PRE_COLUMN[p]} AS fail_${PRE_COLUMN[p]}`).join(', ')},
            ${w} AS w, ${oos} AS oos, (${w} IS NOT NULL AND NOT ${oos}${required.map((c) => ` AND ${c}`).join('')}) AS counted
          FROM report_episodes
          WHERE discharge_date BETWEEN $3::date AND $4::date AND municipality IS NOT NULL
            AND coalesce($1::jsonb ->> municipality, $2) = $5 AND ($8::text IS NULL OR municipality = $8)) x
    GROUP BY 1, 2`;
}

/** The period from `from` to `to` (dates) as whole months (first days of the first and last, or null) and parts of a month. */
function monthSegments(from: string, to: string): { whole: { first: string; last: string } | null; parts: Array<{ from: string; to: string }> } {
  const parts: Array<{ from: string; to: string }> = [];
  let first: string | null = null;
  let last: string | null = null;
  for (let m = from.slice(0, 7); m <= to.slice(0, 7); m = nextMonth(m)) {
    const start = maxDate(from, `${m}-01`);
    const end = minDate(to, MONTH_END(m));
    if (start === `${m}-01` && end === MONTH_END(m)) {
      first ??= start;
      last = start;
    } else parts.push({ from: start, to: end });
  }
  return { whole: first === null ? null : { first, last: last! }, parts };
}

const MONTH_END = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};
const maxDate = (a: string, b: string) => (a > b ? a : b);
const minDate = (a: string, b: string) => (a < b ? a : b);

/** The last `count` months up to `month`, `YYYY-MM`, oldest first. */
export function monthsUpTo(month: string, count: number): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(y, m - 1 - (count - 1 - i), 1)).toISOString().slice(0, 7));
}

/** The months from `first` to `last` (both `YYYY-MM`). */
function monthsBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let m = first; m <= last; m = nextMonth(m)) out.push(m);
  return out;
}
function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
}

/** Kommunkod → rule-set name for every municipality mapped other than by default (SQL parameter). */
function ruleMap(rules: ReportRules, codes: readonly string[]): Record<string, string> {
  return Object.fromEntries(codes.map((c) => [c, ruleSetFor(rules, c).name]));
}

const emptyAggregate = (): MonthAggregate => ({
  episodes: 0, counted: 0, countedDays: 0, longStays: 0, longStayDays: 0, daysOverGrace: 0, outOfScope: 0, noDayZero: 0,
  preconditionFailed: Object.fromEntries(PRECONDITIONS.map((p) => [p, 0])) as Record<Precondition, number>,
});

/** One municipality's liability in a month: per version in force during the month (an agreement may change mid-month). */
export interface MunicipalityLiability {
  readonly ruleSet: string;
  readonly ruleSetTitle: string;
  readonly ruleSetBasis: 'municipality' | 'county' | 'default';
  readonly parts: ReadonlyArray<MonthLiability & { readonly from: string; readonly to: string; readonly aggregate: MonthAggregate }>;
  readonly liableDays: number | null;
  readonly liableKronor: number | null;
  readonly reason: string;
}

/**
 * Liability of every municipality (or one) in a month, from SQL aggregates: for each rule set, for
 * each of its versions in force during the month, the months it needs (a streak looks back at most
 * MAX_MONTHS months, never before the version's start).
 */
export async function liabilityForMonth(
  query: Query,
  rules: ReportRules,
  month: string,
  municipalities: readonly string[],
  /** 'episodes': every month from report_episodes (the aggregate's check in the tests). */
  source: 'months' | 'episodes' = 'months',
): Promise<Map<string, MunicipalityLiability>> {
  const map = ruleMap(rules, municipalities);
  const start = `${month}-01`;
  const end = MONTH_END(month);
  const byMunicipality = new Map<string, MunicipalityLiability['parts'][number][]>();
  const only = municipalities.length === 1 ? municipalities[0]! : null;
  for (const [name, set] of Object.entries(rules.ruleSets)) {
    if (!municipalities.some((m) => map[m] === name)) continue;
    for (const version of set.versions) {
      if (version.from > end || (version.to !== undefined && version.to < start)) continue;
      const from = maxDate(version.from, version.model === 'streak' ? `${monthsUpTo(month, MAX_MONTHS)[0]}-01` : start);
      const to = version.to === undefined ? end : minDate(version.to, end);
      const params = (a: string, b: string) => [JSON.stringify(map), rules.default, a, b, name, version.perPatientLimitDays ?? 2147483647, version.graceDays ?? 0, only];
      type Row = Record<string, unknown> & { municipality: string; month: string };
      // Whole months from the month aggregate; a month the version begins or ends within from its episodes.
      const segments = source === 'months' ? monthSegments(from, to) : { whole: null, parts: [{ from, to }] };
      const rows: Row[] = [];
      if (segments.whole !== null) rows.push(...(await query<Row>(monthAggregateSql(version), params(segments.whole.first, segments.whole.last))));
      for (const part of segments.parts) rows.push(...(await query<Row>(episodeAggregateSql(version), params(part.from, part.to))));
      const months = monthsBetween(from.slice(0, 7), month);
      for (const m of municipalities) {
        if (map[m] !== name) continue;
        const mine = new Map(rows.filter((r) => r.municipality === m).map((r) => [r.month, toAggregate(r)]));
        const results = monthlyLiability(version, months.map((mm) => ({ month: mm, aggregate: mine.get(mm) ?? emptyAggregate() })), rules);
        const last = results[results.length - 1]!;
        const list = byMunicipality.get(m) ?? [];
        list.push({ ...last, from: maxDate(version.from, start), to, aggregate: mine.get(month) ?? emptyAggregate() });
        byMunicipality.set(m, list);
      }
    }
  }
  const out = new Map<string, MunicipalityLiability>();
  for (const m of municipalities) {
    const choice = ruleSetFor(rules, m);
    const parts = byMunicipality.get(m) ?? [];
    const sum = (pick: (p: (typeof parts)[number]) => number | null) => (parts.length === 0 || parts.some((p) => pick(p) === null) ? null : parts.reduce((s, p) => s + pick(p)!, 0));
    const basis = choice.basis === 'default' ? (municipalityName(m) === undefined ? 'default: unknown kommunkod' : 'default: no agreement configured for this municipality') : `by ${choice.basis}`;
    const reason = parts.length === 0 ? 'no version of the rule set in force this month: not charged' : parts.map((p) => (parts.length > 1 ? `from ${p.from} to ${p.to}: ${p.reason}` : p.reason)).join(' | ');
    out.set(m, { ruleSet: choice.name, ruleSetTitle: choice.title, ruleSetBasis: choice.basis, parts, liableDays: parts.length === 0 ? 0 : sum((p) => p.liableDays), liableKronor: parts.length === 0 ? 0 : sum((p) => p.liableKronor), reason: `${choice.name} (${basis}): ${reason}` });
  }
  return out;
}

function toAggregate(r: Record<string, unknown>): MonthAggregate {
  const n = (k: string) => Number(r[k] ?? 0);
  return {
    episodes: n('episodes'), counted: n('counted'), countedDays: n('counted_days'), longStays: n('long_stays'), longStayDays: n('long_stay_days'),
    daysOverGrace: n('days_over_grace'), outOfScope: n('out_of_scope'), noDayZero: n('no_day_zero'),
    preconditionFailed: Object.fromEntries(PRECONDITIONS.map((p) => [p, n(p)])) as Record<Precondition, number>,
  };
}

/**
 * Per group (municipality or hospital unit) of the month, from the month aggregates (migration 023):
 * episodes discharged with a day 0, their average waiting days and distribution, placed by another
 * municipality; admission notifications of episodes admitted in the month and how many in time. A
 * group is there when an episode of it was discharged or admitted in the month.
 */
const GENERAL = `WITH d AS (
    SELECT grp, coalesce(sum(episodes) FILTER (WHERE wait_sent >= 0), 0)::int AS episodes,
      sum(wait_sent::numeric * episodes) FILTER (WHERE wait_sent >= 0) / nullif(sum(episodes) FILTER (WHERE wait_sent >= 0), 0) AS average,
      ${BUCKETS.map((b, i) => {
        const cond = b === '4-7' ? 'wait_sent BETWEEN 4 AND 7' : b === '8+' ? 'wait_sent >= 8' : `wait_sent = ${i}`;
        return `coalesce(sum(episodes) FILTER (WHERE ${cond}), 0)::int AS "w${b}"`;
      }).join(', ')},
      sum(placed)::int AS placed
    FROM report_months WHERE month = $1::date AND group_kind = $2 AND ($3::text IS NULL OR grp = $3) GROUP BY grp),
  n AS (SELECT grp, notifications, on_time FROM report_notification_months WHERE month = $1::date AND group_kind = $2 AND ($3::text IS NULL OR grp = $3))
  SELECT coalesce(d.grp, n.grp) AS grp, coalesce(d.episodes, 0) AS episodes, d.average, ${BUCKETS.map((b) => `coalesce(d."w${b}", 0) AS "w${b}"`).join(', ')},
    coalesce(n.notifications, 0) AS notifications, coalesce(n.on_time, 0) AS on_time, coalesce(d.placed, 0) AS placed
  FROM d FULL JOIN n ON n.grp = d.grp ORDER BY 1`;

/** Monthly reports for the month (from the summary as it stands: catchUpForReport first): each municipality and each hospital unit with data, or only the one asked for. */
export async function loadMonthlyReports(query: Query, rules: ReportRules, month: string, only?: { municipality?: string; unit?: string }): Promise<MonthlyReport[]> {
  const start = `${month}-01`;
  const end = MONTH_END(month);
  const general = async (kind: 'municipality' | 'hospital-unit', one: string | undefined) => query<Record<string, unknown> & { grp: string }>(GENERAL, [start, kind, one ?? null]);
  const municipalityRows = only?.unit !== undefined ? [] : await general('municipality', only?.municipality);
  const unitRows = only?.municipality !== undefined ? [] : await general('hospital-unit', only?.unit);
  const municipalities = only?.municipality !== undefined ? [only.municipality] : municipalityRows.map((r) => r.grp);
  const liability = only?.unit !== undefined ? new Map<string, MunicipalityLiability>() : await liabilityForMonth(query, rules, month, municipalities);
  const deviations = await query<{ kind: string; municipality: string | null; unit: string | null; n: string }>(
    `SELECT d.kind, coalesce(r.municipality, m.canonical -> 'patient' ->> 'municipality') AS municipality, r.hospital_unit AS unit, count(*) AS n
     FROM deviations d
       -- Message ids are unique per sender system only: the deviation's own copy says which message
       -- it is about; without one, the first message with the id (docs/senders.md). Counted once.
       CROSS JOIN LATERAL (
         SELECT m.* FROM messages m WHERE m.message_id = d.message_id
         ORDER BY (m.id = (SELECT c.message_pk FROM copies c WHERE c.id = d.copy_id)) DESC NULLS LAST, m.id LIMIT 1) m
       LEFT JOIN report_episodes r ON r.episode_id = m.episode_id
     WHERE d.at >= ($1::date::timestamp AT TIME ZONE 'Europe/Stockholm') AND d.at < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Stockholm')
     GROUP BY 1, 2, 3`,
    [start, end],
  );
  const countsFor = (key: 'municipality' | 'unit', group: string) =>
    Object.fromEntries(DEVIATION_KINDS.map((k) => [k, deviations.filter((d) => d[key] === group && d.kind === k).reduce((s, d) => s + Number(d.n), 0)])) as MonthlyReport['deviations'];
  const report = (groupBy: MonthlyReport['groupBy'], group: string, row: Record<string, unknown> | undefined, l: MunicipalityLiability | undefined): MonthlyReport => {
    const notifications = Number(row?.['notifications'] ?? 0);
    const onTime = Number(row?.['on_time'] ?? 0);
    const episodes = Number(row?.['episodes'] ?? 0);
    const average = row?.['average'] === null || row?.['average'] === undefined ? null : Math.round(Number(row['average']) * 100) / 100;
    return {
      month,
      groupBy,
      group,
      name: groupBy === 'municipality' ? (municipalityName(group) ?? null) : null,
      episodes,
      notifications,
      notificationsOnTime: onTime,
      shareOnTime: notifications === 0 ? null : Math.round((onTime / notifications) * 1000) / 1000,
      averageWaitingDays: episodes === 0 ? null : average,
      waitingDistribution: Object.fromEntries(BUCKETS.map((b) => [b, Number(row?.[`w${b}`] ?? 0)])) as MonthlyReport['waitingDistribution'],
      placedByOtherMunicipality: Number(row?.['placed'] ?? 0),
      liableDays: l === undefined ? null : l.liableDays,
      liableKronor: l === undefined ? null : l.liableKronor,
      ruleSet: l?.ruleSet ?? null,
      ruleSetBasis: l?.ruleSetBasis ?? null,
      liabilityReason: l?.reason ?? null,
      liability: l === undefined ? null : l.parts.map((p) => ({ from: p.from, to: p.to, model: p.model, averageWaitingDays: p.averageWaitingDays, municipalityLiable: p.municipalityLiable, liableDays: p.liableDays, dayRate: p.dayRate, liableKronor: p.liableKronor, reason: p.reason, counted: p.aggregate.counted, outOfScope: p.aggregate.outOfScope, noDayZero: p.aggregate.noDayZero, preconditionFailed: p.aggregate.preconditionFailed })),
      deviations: countsFor(groupBy === 'municipality' ? 'municipality' : 'unit', group),
    };
  };
  return [
    ...municipalities.map((m) => report('municipality', m, municipalityRows.find((r) => r.grp === m), liability.get(m))),
    ...(only?.municipality !== undefined ? [] : (only?.unit !== undefined ? [only.unit] : unitRows.map((r) => r.grp)).map((u) => report('hospital-unit', u, unitRows.find((r) => r.grp === u), undefined))),
  ];
}

const iso = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : epochToInstant(new Date(d).getTime()));

/** One episode in the episode report: the facts, the preconditions with evidence, liable days and kronor, and why. */
export interface EpisodeReport extends EpisodeLiability {
  readonly hospitalUnit: string | null;
  readonly admittedAt: string | null;
  readonly registrationMunicipality: string | null;
  readonly ruleSet: string;
  readonly liableDays: number | null;
  readonly liableKronor: number | null;
  readonly reason: string;
}

/** The most episodes one page of the episode report holds, and the default page. */
export const EPISODE_PAGE_MAX = 5000;
export const EPISODE_PAGE_DEFAULT = 1000;

/** One page of the episode report: the episodes, how many the month has in all, and the id to continue after (null on the last page). */
export interface EpisodeReportPage {
  readonly episodes: EpisodeReport[];
  readonly total: number;
  readonly next: string | null;
}

const EPISODES_OF_MONTH = `(discharge_date BETWEEN $1::date AND $2::date OR admitted_date BETWEEN $1::date AND $2::date) AND ($3::text IS NULL OR municipality = $3)`;
/**
 * One page: the month's episodes first (the indexes by date, or by municipality and date), then the
 * page among them; materialized so that the plan never walks the primary key through the whole year
 * looking for the month's episodes in id order.
 */
export const EPISODE_PAGE_SQL = `WITH month AS MATERIALIZED (SELECT * FROM report_episodes WHERE ${EPISODES_OF_MONTH})
  SELECT * FROM month WHERE $4::text IS NULL OR episode_id > $4 ORDER BY episode_id LIMIT $5`;

/**
 * Episodes discharged or admitted in the month (ids and facts only: no identity numbers or names), one
 * municipality or all, a page at a time in episode-id order: at most `limit` (EPISODE_PAGE_MAX) after
 * the episode id `after`. One page reads one month's index entries (indexes of migration 023 by
 * municipality and date), whatever the number of episodes in the year.
 */
export async function loadEpisodeReportPage(query: Query, rules: ReportRules, month: string, municipality?: string, page: { limit?: number; after?: string } = {}): Promise<EpisodeReportPage> {
  const limit = Math.min(Math.max(1, page.limit ?? EPISODE_PAGE_DEFAULT), EPISODE_PAGE_MAX);
  const params = [`${month}-01`, MONTH_END(month), municipality ?? null];
  const rows = await query<Record<string, unknown>>(EPISODE_PAGE_SQL, [...params, page.after ?? null, limit + 1]);
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const [{ n } = { n: 0 }] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM report_episodes WHERE ${EPISODES_OF_MONTH}`, params);
  const episodes = await episodeReports(query, rules, month, rows);
  return { episodes, total: n, next: more ? (rows[rows.length - 1]!['episode_id'] as string) : null };
}

/** Every episode of the month, page after page (svu report --episodes). */
export async function loadEpisodeReports(query: Query, rules: ReportRules, month: string, municipality?: string): Promise<EpisodeReport[]> {
  const out: EpisodeReport[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await loadEpisodeReportPage(query, rules, month, municipality, { limit: EPISODE_PAGE_MAX, ...(after === undefined ? {} : { after }) });
    out.push(...page.episodes);
    if (page.next === null) return out;
    after = page.next;
  }
}

async function episodeReports(query: Query, rules: ReportRules, month: string, rows: Array<Record<string, unknown>>): Promise<EpisodeReport[]> {
  const municipalities = [...new Set(rows.map((r) => r['municipality']).filter((m): m is string => typeof m === 'string'))];
  const liability = await liabilityForMonth(query, rules, month, municipalities);
  return rows.map((r) => {
    const f: LiabilityFacts = {
      episodeId: r['episode_id'] as string,
      registrationMunicipality: (r['registration_municipality'] as string | null) ?? null,
      placingMunicipality: (r['placing_municipality'] as string | null) ?? null,
      dischargedAt: iso(r['discharged_at'] as Date | null),
      ready: (r['ready'] as LiabilityFacts['ready']) ?? null,
      admission: (r['admission'] as LiabilityFacts['admission']) ?? null,
      estimate: (r['estimate'] as LiabilityFacts['estimate']) ?? null,
      sipRequired: r['sip_required'] as boolean,
      sip: (r['sip'] as LiabilityFacts['sip']) ?? null,
      outpatientOnly: r['outpatient_only'] as boolean,
      regionCaused: r['region_caused'] as boolean,
    };
    const choice = ruleSetFor(rules, (r['municipality'] as string | null) ?? '');
    const set = rules.ruleSets[choice.name]!;
    const dischargeDate = r['discharge_date'] === null ? null : iso(r['discharge_date'] as Date)!.slice(0, 10);
    const version = dischargeDate === null ? set.versions[set.versions.length - 1] : versionOn(set, dischargeDate);
    const e = classifyEpisode(f, version);
    const l = liability.get((r['municipality'] as string | null) ?? '');
    const part = l?.parts.find((p) => e.dischargeDate !== null && p.from <= e.dischargeDate && e.dischargeDate <= p.to);
    const inMonth = e.dischargeDate !== null && e.dischargeDate.startsWith(month);
    const days = inMonth ? episodeLiableDays(e, version, part) : null;
    const kronor = days === null || part?.dayRate === null || part === undefined ? null : days * part.dayRate;
    const reason = !inMonth
      ? 'not discharged this month'
      : version === undefined || version.model === 'no-figures'
        ? `${choice.name}: ${version === undefined ? 'no version in force' : 'agreement without figures'}: not charged`
        : e.exclusion !== null
          ? `not charged: ${e.exclusion}`
          : `${days} day(s) liable under ${choice.name}: ${part?.reason ?? ''}`;
    return { ...e, hospitalUnit: (r['hospital_unit'] as string | null) ?? null, admittedAt: iso(r['admitted_at'] as Date | null), registrationMunicipality: f.registrationMunicipality, ruleSet: choice.name, liableDays: days, liableKronor: kronor, reason };
  });
}
