import { toCsv, type CsvOptions } from './csv';
import type { MonthLiability } from './rule-sets';
import type { Precondition } from './rule-config';

/** Waiting-day distribution buckets. */
export const BUCKETS = ['0', '1', '2', '3', '4-7', '8+'] as const;

export const DEVIATION_KINDS = ['late-on-arrival', 'deadline-missed', 'rejected-by-recipient', 'dead-lettered'] as const;

/** One part of a month's liability: a rule-set version in force for the whole month or part of it. */
export interface LiabilityPart {
  readonly from: string;
  readonly to: string;
  readonly model: MonthLiability['model'];
  readonly averageWaitingDays: number | null;
  readonly municipalityLiable: boolean | null;
  readonly liableDays: number | null;
  readonly dayRate: number | null;
  readonly liableKronor: number | null;
  readonly reason: string;
  readonly counted: number;
  readonly outOfScope: number;
  readonly noDayZero: number;
  readonly preconditionFailed: Readonly<Record<Precondition, number>>;
}

export interface MonthlyReport {
  readonly month: string;
  readonly groupBy: 'municipality' | 'hospital-unit';
  readonly group: string;
  /** The municipality's name (null for a hospital unit or a code that is no municipality). */
  readonly name: string | null;
  /** Episodes discharged in the month (by Swedish date) with a day 0. */
  readonly episodes: number;
  /** Admission notifications of admissions in the month, and the share delivered within 24 hours. */
  readonly notifications: number;
  readonly notificationsOnTime: number;
  readonly shareOnTime: number | null;
  /** Days waiting after day 0 (the send date of the ready notice), all episodes of the month. */
  readonly averageWaitingDays: number | null;
  readonly waitingDistribution: Readonly<Record<(typeof BUCKETS)[number], number>>;
  /** Episodes of the month the municipality pays for as placing municipality, not as registration municipality. */
  readonly placedByOtherMunicipality: number;
  readonly liableDays: number | null;
  readonly liableKronor: number | null;
  readonly ruleSet: string | null;
  readonly ruleSetBasis: 'municipality' | 'county' | 'default' | null;
  /** Why the municipality is (not) liable, in words. */
  readonly liabilityReason: string | null;
  readonly liability: readonly LiabilityPart[] | null;
  /** Deviations recorded in the month (Swedish time) for messages of the group, by kind. */
  readonly deviations: Readonly<Record<(typeof DEVIATION_KINDS)[number], number>>;
}

/** One episode in the CSV of episodes. */
export interface EpisodeCsvRow {
  readonly episodeId: string;
  readonly municipality: string | null;
  readonly municipalityBasis: string;
  readonly ruleSet: string;
  readonly dayZero: string | null;
  readonly dischargeDate: string | null;
  readonly waitingDays: number | null;
  readonly preconditions: ReadonlyArray<{ precondition: Precondition; required: boolean; met: boolean; messageId: string | null; deliveredAt: string | null; via: string | null }>;
  readonly counted: boolean;
  readonly liableDays: number | null;
  readonly liableKronor: number | null;
  readonly reason: string;
}

/** The monthly reports as CSV. */
export function reportsCsv(reports: readonly MonthlyReport[], options: CsvOptions = {}): string {
  const head = ['month', 'group_by', 'group', 'name', 'episodes', 'notifications', 'notifications_on_time', 'share_on_time', 'average_waiting_days', ...BUCKETS.map((b) => `waiting_${b}`), 'placed_by_other_municipality', 'liable_days', 'liable_kronor', 'rule_set', 'rule_set_basis', 'liability_reason', ...DEVIATION_KINDS.map((k) => `deviations_${k}`)];
  return toCsv(
    head,
    reports.map((r) => [r.month, r.groupBy, r.group, r.name, r.episodes, r.notifications, r.notificationsOnTime, r.shareOnTime, r.averageWaitingDays, ...BUCKETS.map((b) => r.waitingDistribution[b]), r.placedByOtherMunicipality, r.liableDays, r.liableKronor, r.ruleSet, r.ruleSetBasis, r.liabilityReason, ...DEVIATION_KINDS.map((k) => r.deviations[k])]),
    options,
  );
}

/** The episodes as CSV: one row each, with every precondition's fact and the reason for its liable days. */
export function episodesCsv(episodes: readonly EpisodeCsvRow[], options: CsvOptions = {}): string {
  const pre = ['admission-notice', 'estimate', 'ready-notice', 'sip-called'] as const;
  const head = ['episode_id', 'municipality', 'municipality_basis', 'rule_set', 'day_zero', 'discharge_date', 'waiting_days', ...pre.flatMap((p) => [`${p}_required`, `${p}_met`, `${p}_message`, `${p}_delivered_at`, `${p}_via`]), 'counted', 'liable_days', 'liable_kronor', 'reason'];
  return toCsv(
    head,
    episodes.map((e) => [
      e.episodeId, e.municipality, e.municipalityBasis, e.ruleSet, e.dayZero, e.dischargeDate, e.waitingDays,
      ...pre.flatMap((p) => {
        const f = e.preconditions.find((x) => x.precondition === p);
        return [f?.required ?? false, f?.met ?? false, f?.messageId ?? null, f?.deliveredAt ?? null, f?.via ?? null];
      }),
      e.counted, e.liableDays, e.liableKronor, e.reason,
    ]),
    options,
  );
}
