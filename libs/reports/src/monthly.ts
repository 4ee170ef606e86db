import { toCsv, type CsvOptions } from './csv';
import { swedishDate } from '@svu/swedish-time';
import { liability, type EpisodeWait, type RuleSet } from './rule-sets';
import { dayZeroInForce, waitingDays, type ReadyNotice } from './waiting-days';

/** What the store knows of one episode, for follow-up reports. */
export interface EpisodeFacts {
  readonly episodeId: string;
  readonly municipality: string | undefined;
  /** The hospital unit that sent the admission. */
  readonly hospitalUnit: string | undefined;
  readonly admittedAt: string | undefined;
  readonly notifyBy: string | undefined;
  readonly notifications: ReadonlyArray<{ readonly recipientHsa: string; readonly deliveredAt: string | null; readonly manualAt: string | null }>;
  readonly readyNotices: readonly ReadyNotice[];
  readonly dischargedAt: string | undefined;
  readonly regionCaused: boolean;
}

export type NotificationOutcome = 'on-time' | 'late' | 'by-hand' | 'not-delivered';

/** One episode as the report shows it. */
export interface EpisodeRow {
  readonly episodeId: string;
  readonly municipality: string | null;
  readonly hospitalUnit: string | null;
  readonly admittedAt: string | null;
  readonly notifyBy: string | null;
  readonly notifications: ReadonlyArray<{ recipientHsa: string; outcome: NotificationOutcome; at: string | null }>;
  readonly dayZero: string | null;
  readonly dischargeDate: string | null;
  readonly waitingDays: number | null;
  readonly regionCaused: boolean;
}

/** A notification is on time when it reached the recipient, electronically or by hand, by notifyBy. */
function outcome(n: EpisodeFacts['notifications'][number], notifyBy: string | undefined): { outcome: NotificationOutcome; at: string | null } {
  const times = [n.deliveredAt, n.manualAt].filter((t): t is string => t !== null).sort();
  const first = times[0];
  if (first === undefined) return { outcome: 'not-delivered', at: null };
  if (notifyBy !== undefined && first > notifyBy) return { outcome: 'late', at: first };
  return { outcome: first === n.manualAt && (n.deliveredAt === null || n.manualAt < n.deliveredAt) ? 'by-hand' : 'on-time', at: first };
}

export function episodeRow(facts: EpisodeFacts): EpisodeRow {
  const dayZero = dayZeroInForce(facts.readyNotices);
  return {
    episodeId: facts.episodeId,
    municipality: facts.municipality ?? null,
    hospitalUnit: facts.hospitalUnit ?? null,
    admittedAt: facts.admittedAt ?? null,
    notifyBy: facts.notifyBy ?? null,
    notifications: facts.notifications.map((n) => ({ recipientHsa: n.recipientHsa, ...outcome(n, facts.notifyBy) })),
    dayZero: dayZero ?? null,
    dischargeDate: facts.dischargedAt === undefined ? null : swedishDate(facts.dischargedAt),
    waitingDays: dayZero !== undefined && facts.dischargedAt !== undefined ? waitingDays(dayZero, facts.dischargedAt) : null,
    regionCaused: facts.regionCaused,
  };
}

/** Waiting-day distribution buckets. */
export const BUCKETS = ['0', '1', '2', '3', '4-7', '8+'] as const;
const bucket = (d: number) => (d <= 3 ? String(d) : d <= 7 ? '4-7' : '8+');

export interface MonthlyReport {
  readonly month: string;
  readonly groupBy: 'municipality' | 'hospital-unit';
  readonly group: string;
  /** Episodes discharged in the month (by Swedish date). */
  readonly episodes: number;
  /** Admission notifications of admissions in the month, and the share delivered within 24 hours. */
  readonly notifications: number;
  readonly notificationsOnTime: number;
  readonly shareOnTime: number | null;
  readonly averageWaitingDays: number | null;
  readonly waitingDistribution: Readonly<Record<(typeof BUCKETS)[number], number>>;
  readonly liableDays: number | null;
  readonly ruleSet: string | null;
  /** Deviations recorded in the month (Swedish time) for messages of the group, by kind. */
  readonly deviations: Readonly<Record<(typeof DEVIATION_KINDS)[number], number>>;
}

export const DEVIATION_KINDS = ['late-on-arrival', 'deadline-missed', 'rejected-by-recipient', 'dead-lettered'] as const;

const monthOf = (date: string) => date.slice(0, 7);

/**
 * Monthly reports of one group (a municipality or a hospital unit): episodes count in the month of
 * their discharge (domain.md leaves ready vs discharge month open; discharge is when the waiting is
 * known), notifications in the month of admission. Liability, for municipalities with a rule set,
 * runs over every month up to the one asked for, since Västerbotten's rule depends on earlier months.
 */
export function monthlyReport(
  rows: readonly EpisodeRow[],
  groupBy: MonthlyReport['groupBy'],
  group: string,
  month: string,
  rules?: { name: string; rules: RuleSet },
  deviations: Partial<Record<string, number>> = {},
): MonthlyReport {
  const mine = rows.filter((r) => (groupBy === 'municipality' ? r.municipality : r.hospitalUnit) === group);
  const discharged = mine.filter((r) => r.dischargeDate !== null && r.waitingDays !== null);
  const inMonth = discharged.filter((r) => monthOf(r.dischargeDate!) === month);
  const admitted = mine.filter((r) => r.admittedAt !== null && monthOf(swedishDate(r.admittedAt)) === month);
  const notifications = admitted.flatMap((r) => r.notifications);
  const onTime = notifications.filter((n) => n.outcome === 'on-time' || n.outcome === 'by-hand').length;
  const distribution = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Record<(typeof BUCKETS)[number], number>;
  for (const r of inMonth) distribution[bucket(r.waitingDays!) as (typeof BUCKETS)[number]] += 1;
  let liableDays: number | null = null;
  if (rules !== undefined) {
    const months = [...new Set(discharged.map((r) => monthOf(r.dischargeDate!)).filter((m) => m <= month))].sort();
    if (!months.includes(month)) months.push(month);
    const byMonth = months.map((m) => ({
      month: m,
      episodes: discharged.filter((r) => monthOf(r.dischargeDate!) === m).map((r): EpisodeWait => ({ episodeId: r.episodeId, waitingDays: r.waitingDays!, regionCaused: r.regionCaused })),
    }));
    const result = liability(rules.rules, byMonth).find((l) => l.month === month);
    liableDays = result === undefined ? 0 : Object.values(result.liableDays).reduce((a, b) => a + b, 0);
  }
  return {
    month,
    groupBy,
    group,
    episodes: inMonth.length,
    notifications: notifications.length,
    notificationsOnTime: onTime,
    shareOnTime: notifications.length === 0 ? null : Math.round((onTime / notifications.length) * 1000) / 1000,
    averageWaitingDays: inMonth.length === 0 ? null : Math.round((inMonth.reduce((s, r) => s + r.waitingDays!, 0) / inMonth.length) * 100) / 100,
    waitingDistribution: distribution,
    liableDays,
    ruleSet: rules?.name ?? null,
    deviations: Object.fromEntries(DEVIATION_KINDS.map((k) => [k, deviations[k] ?? 0])) as MonthlyReport['deviations'],
  };
}

/** The reports as CSV (semicolon-separated by default, as Swedish spreadsheets expect; see toCsv). */
export function reportsCsv(reports: readonly MonthlyReport[], options: CsvOptions = {}): string {
  const head = ['month', 'group_by', 'group', 'episodes', 'notifications', 'notifications_on_time', 'share_on_time', 'average_waiting_days', ...BUCKETS.map((b) => `waiting_${b}`), 'liable_days', 'rule_set', ...DEVIATION_KINDS.map((k) => `deviations_${k}`)];
  const rows = reports.map((r) => [r.month, r.groupBy, r.group, r.episodes, r.notifications, r.notificationsOnTime, r.shareOnTime, r.averageWaitingDays, ...BUCKETS.map((b) => r.waitingDistribution[b]), r.liableDays, r.ruleSet, ...DEVIATION_KINDS.map((k) => r.deviations[k])]);
  return toCsv(head, rows, options);
}
