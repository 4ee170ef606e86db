import { swedishDate } from '@svu/swedish-time';
import { PRECONDITIONS, dayRate, type Precondition, type ReportRules, type RuleVersion } from './rule-config';
import { calendarDaysBetween } from './waiting-days';

/**
 * Payment liability as the agreements write it (docs/payment-liability.md): per episode, the
 * preconditions of the rule set as facts with their evidence and the scope; per municipality and
 * month, the rule set's model over the episodes that count; days and kronor.
 */

/** How a message reached a municipal recipient: over its electronic route, or a fallback document sent by fax or letter. */
export interface Delivery {
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly at: string;
  readonly via: 'electronic' | 'fax' | 'letter';
}

/** What the store knows of an episode for liability, whatever the rule set (one row of the store's summary). */
export interface LiabilityFacts {
  readonly episodeId: string;
  readonly registrationMunicipality: string | null;
  /** The municipality that placed the patient elsewhere (it pays), when recorded. */
  readonly placingMunicipality: string | null;
  readonly dischargedAt: string | null;
  /** The ready notice in force (latest not cancelled): its id, sentAt and the readyAt it states. */
  readonly ready: { readonly messageId: string; readonly sentAt: string; readonly readyAt: string | null; readonly delivery: Delivery | null } | null;
  /** The (first) admission notice and its first delivery to a municipal recipient. */
  readonly admission: { readonly messageId: string; readonly delivery: Delivery | null } | null;
  /** The first estimated length of stay delivered to the municipality (in the admission or a discharge-estimate). */
  readonly estimate: { readonly messageId: string; readonly delivery: Delivery | null } | null;
  /** Whether a SIP is to be held: the episode has both a region outpatient and a municipal recipient. */
  readonly sipRequired: boolean;
  readonly sip: { readonly messageId: string; readonly delivery: Delivery | null } | null;
  /** After discharge only region outpatient care (docs/payment-liability.md, scope). */
  readonly outpatientOnly: boolean;
  readonly regionCaused: boolean;
}

/** One precondition of the rule set as a fact, with its evidence. */
export interface PreconditionFact {
  readonly precondition: Precondition;
  readonly met: boolean;
  readonly messageId: string | null;
  readonly deliveredAt: string | null;
  readonly via: Delivery['via'] | null;
  readonly detail: string;
}

const deliveredInTime = (delivery: Delivery | null, dischargedAt: string | null) => delivery !== null && (dischargedAt === null || delivery.at <= dischargedAt);

function fact(precondition: Precondition, what: string, item: { messageId: string; delivery: Delivery | null } | null, dischargedAt: string | null): PreconditionFact {
  if (item === null) return { precondition, met: false, messageId: null, deliveredAt: null, via: null, detail: `no ${what} in the episode` };
  const d = item.delivery;
  if (d === null) return { precondition, met: false, messageId: item.messageId, deliveredAt: null, via: null, detail: `${what} ${item.messageId} never delivered to a municipal recipient` };
  const how = d.via === 'electronic' ? 'electronically' : `by hand (${d.via})`;
  if (!deliveredInTime(d, dischargedAt)) {
    return { precondition, met: false, messageId: item.messageId, deliveredAt: d.at, via: d.via, detail: `${what} ${item.messageId} delivered to ${d.recipientHsa} only after discharge, ${d.at} ${how}` };
  }
  return { precondition, met: true, messageId: item.messageId, deliveredAt: d.at, via: d.via, detail: `${what} ${item.messageId} delivered to ${d.recipientHsa} ${d.at} ${how}` };
}

/** Every precondition as a fact (whether or not the rule set requires it). */
export function preconditionFacts(f: LiabilityFacts): PreconditionFact[] {
  return PRECONDITIONS.map((p) => {
    switch (p) {
      case 'admission-notice':
        return fact(p, 'admission notice', f.admission, f.dischargedAt);
      case 'estimate':
        return fact(p, 'estimated length of stay', f.estimate, f.dischargedAt);
      case 'ready-notice':
        return fact(p, 'ready-for-discharge notice', f.ready, f.dischargedAt);
      case 'sip-called':
        if (!f.sipRequired) return { precondition: p, met: true, messageId: null, deliveredAt: null, via: null, detail: 'no SIP to be held (not both a region outpatient and a municipal recipient)' };
        return fact(p, 'SIP invitation', f.sip, f.dischargedAt);
    }
  });
}

/** The episode as a rule-set version sees it. */
export interface EpisodeLiability {
  readonly episodeId: string;
  /** The municipality that pays: the placing municipality when recorded, else the registration municipality. */
  readonly municipality: string | null;
  readonly municipalityBasis: 'placing' | 'registration';
  readonly dayZero: string | null;
  readonly dischargeDate: string | null;
  readonly waitingDays: number | null;
  readonly preconditions: readonly (PreconditionFact & { readonly required: boolean })[];
  /** Whether the episode counts for liability (in scope, every required precondition met, day 0 and discharge known). */
  readonly counted: boolean;
  /** Why it does not count, or null. */
  readonly exclusion: string | null;
  readonly regionCaused: boolean;
}

export function payer(f: LiabilityFacts): { municipality: string | null; basis: 'placing' | 'registration' } {
  return f.placingMunicipality !== null ? { municipality: f.placingMunicipality, basis: 'placing' } : { municipality: f.registrationMunicipality, basis: 'registration' };
}

/** Day 0 from the rule set's source: the Swedish date of the ready notice's sentAt or of its readyAt. */
export function dayZeroOf(f: LiabilityFacts, source: RuleVersion['dayZero']): string | null {
  if (f.ready === null) return null;
  const at = source === 'readyAt' ? (f.ready.readyAt ?? f.ready.sentAt) : f.ready.sentAt;
  return swedishDate(at);
}

export function classifyEpisode(f: LiabilityFacts, version: RuleVersion | undefined): EpisodeLiability {
  const { municipality, basis } = payer(f);
  const dayZero = dayZeroOf(f, version?.dayZero ?? 'sentAt');
  const dischargeDate = f.dischargedAt === null ? null : swedishDate(f.dischargedAt);
  const waiting = dayZero !== null && dischargeDate !== null ? Math.max(0, calendarDaysBetween(dayZero, dischargeDate)) : null;
  const required = new Set(version?.preconditions ?? []);
  const preconditions = preconditionFacts(f).map((p) => ({ ...p, required: required.has(p.precondition) }));
  const failed = preconditions.filter((p) => p.required && !p.met);
  let exclusion: string | null = null;
  if (version === undefined) exclusion = 'no version of the rule set in force on the discharge date';
  else if (waiting === null) exclusion = dischargeDate === null ? 'not discharged' : 'no ready-for-discharge notice: no day 0';
  else if (version.scope === 'exclude-outpatient-only' && f.outpatientOnly) exclusion = 'out of scope: after discharge only region outpatient care';
  else if (failed.length > 0) exclusion = `precondition not met: ${failed.map((p) => `${p.precondition} (${p.detail})`).join('; ')}`;
  return { episodeId: f.episodeId, municipality, municipalityBasis: basis, dayZero, dischargeDate, waitingDays: waiting, preconditions, counted: exclusion === null, exclusion, regionCaused: f.regionCaused };
}

/** What one rule-set version needs of a municipality's month: counts that SQL can compute as well (report-store). */
export interface MonthAggregate {
  /** Episodes discharged in the month under this version. */
  readonly episodes: number;
  readonly counted: number;
  readonly countedDays: number;
  /** Counted episodes above the per-patient limit (average model). */
  readonly longStays: number;
  readonly longStayDays: number;
  /** Sum over counted episodes the region did not cause of the days after the grace days. */
  readonly daysOverGrace: number;
  readonly outOfScope: number;
  readonly noDayZero: number;
  /** Episodes (in scope) that fail each precondition. */
  readonly preconditionFailed: Readonly<Record<Precondition, number>>;
}

const noFailures = (): Record<Precondition, number> => Object.fromEntries(PRECONDITIONS.map((p) => [p, 0])) as Record<Precondition, number>;

/** The aggregate of classified episodes, in JavaScript (unit tests, one municipality's episode list). */
export function aggregate(episodes: readonly EpisodeLiability[], version: RuleVersion): MonthAggregate {
  const limit = version.perPatientLimitDays ?? Number.POSITIVE_INFINITY;
  const grace = version.graceDays ?? 0;
  const counted = episodes.filter((e) => e.counted);
  const long = version.model === 'average' ? counted.filter((e) => e.waitingDays! > limit) : [];
  const preconditionFailed = noFailures();
  for (const e of episodes) {
    if (e.waitingDays === null || e.exclusion?.startsWith('out of scope')) continue;
    for (const p of e.preconditions) if (p.required && !p.met) preconditionFailed[p.precondition] += 1;
  }
  return {
    episodes: episodes.length,
    counted: counted.length,
    countedDays: counted.reduce((s, e) => s + e.waitingDays!, 0),
    longStays: long.length,
    longStayDays: long.reduce((s, e) => s + e.waitingDays!, 0),
    daysOverGrace: counted.filter((e) => !e.regionCaused).reduce((s, e) => s + Math.max(0, e.waitingDays! - grace), 0),
    outOfScope: episodes.filter((e) => e.exclusion?.startsWith('out of scope')).length,
    noDayZero: episodes.filter((e) => e.waitingDays === null).length,
    preconditionFailed,
  };
}

/** A municipality's liability in one month under one rule-set version. */
export interface MonthLiability {
  readonly month: string;
  readonly model: RuleVersion['model'];
  readonly versionFrom: string;
  /** The average the rule compares (null when no episode counts). */
  readonly averageWaitingDays: number | null;
  /** Whether the municipality as a whole is liable (average and streak models); null for per-patient and no-figures. */
  readonly municipalityLiable: boolean | null;
  /** Null when the agreement gives no figures (reported, not charged). */
  readonly liableDays: number | null;
  readonly dayRate: number | null;
  readonly liableKronor: number | null;
  readonly reason: string;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Liability of one municipality under one version, month by month. `months` are consecutive calendar
 * months in order (a month without discharges is there with zero episodes): the streak model needs
 * them all, and a month without discharges does not fail (and counts as a good month).
 */
export function monthlyLiability(version: RuleVersion, months: ReadonlyArray<{ month: string; aggregate: MonthAggregate }>, rules: Pick<ReportRules, 'dayRates'>): MonthLiability[] {
  let failedInARow = 0;
  let goodInARow = 0;
  let liablePeriod = false;
  return months.map(({ month, aggregate: a }) => {
    const rate = dayRate(rules as ReportRules, month.slice(0, 4)) ?? null;
    const base = { month, model: version.model, versionFrom: version.from, dayRate: rate };
    const priced = (days: number, reason: string, avg: number | null, liable: boolean | null): MonthLiability => ({
      ...base,
      averageWaitingDays: avg === null ? null : round2(avg),
      municipalityLiable: liable,
      liableDays: days,
      liableKronor: rate === null ? null : days * rate,
      reason: rate === null && days > 0 ? `${reason}; no day rate configured for ${month.slice(0, 4)}: kronor not computed` : reason,
    });
    switch (version.model) {
      case 'no-figures': {
        const avg = a.counted === 0 ? null : a.countedDays / a.counted;
        return { ...base, dayRate: null, averageWaitingDays: avg === null ? null : round2(avg), municipalityLiable: null, liableDays: null, liableKronor: null, reason: 'agreement without figures: reported, not charged' };
      }
      case 'average': {
        const threshold = version.averageThresholdDays!;
        const limit = version.perPatientLimitDays!;
        const leave = version.longStaysLeaveAverage!;
        const n = leave ? a.counted - a.longStays : a.counted;
        const days = leave ? a.countedDays - a.longStayDays : a.countedDays;
        const avg = n === 0 ? null : days / n;
        const liable = avg !== null && avg > threshold;
        const charged = liable ? (leave ? days + a.longStayDays : a.countedDays) : a.longStayDays;
        const avgText = avg === null ? 'no patient in the average' : `average ${round2(avg).toFixed(2)} days over ${n} patient(s) ${liable ? `above ${threshold}: their days charged` : `within ${threshold}: not liable`}`;
        const longText = a.longStays === 0 ? '' : `; ${a.longStays} patient(s) over ${limit} days charged individually (${a.longStayDays} days${leave ? ', outside the average' : ''})`;
        return priced(charged, avgText + longText, avg, liable);
      }
      case 'streak': {
        const liable = liablePeriod;
        const avg = a.counted === 0 ? null : a.countedDays / a.counted;
        const failed = avg !== null && avg > version.targetAverageDays!;
        const before = failedInARow;
        failedInARow = failed ? failedInARow + 1 : 0;
        goodInARow = failed ? 0 : goodInARow + 1;
        if (!liablePeriod && failedInARow >= version.failedMonthsInARow!) liablePeriod = true;
        else if (liablePeriod && goodInARow >= version.goodMonthsToRecover!) liablePeriod = false;
        const avgText = avg === null ? 'no discharges (does not fail)' : `average ${round2(avg).toFixed(2)} days ${failed ? `above ${version.targetAverageDays}` : `within ${version.targetAverageDays}`}`;
        const reason = liable
          ? `${avgText}; liable month: days after day ${version.graceDays} charged, none where the region caused the delay`
          : `${avgText}; not liable: ${before} failed month(s) in a row before this month, liability from the month after ${version.failedMonthsInARow}`;
        return priced(liable ? a.daysOverGrace : 0, reason, avg, liable);
      }
      case 'per-patient': {
        const avg = a.counted === 0 ? null : a.countedDays / a.counted;
        return priced(a.daysOverGrace, `each patient's days after day ${version.graceDays} charged`, avg, null);
      }
    }
  });
}

/** An episode's own liable days, given its month's result under its version. */
export function episodeLiableDays(e: EpisodeLiability, version: RuleVersion | undefined, month: MonthLiability | undefined): number | null {
  if (version === undefined || version.model === 'no-figures') return null;
  if (!e.counted || month === undefined) return 0;
  const days = e.waitingDays!;
  switch (version.model) {
    case 'average':
      if (days > version.perPatientLimitDays!) return days;
      return month.municipalityLiable === true ? days : 0;
    case 'streak':
      return month.municipalityLiable === true && !e.regionCaused ? Math.max(0, days - version.graceDays!) : 0;
    case 'per-patient':
      return e.regionCaused ? 0 : Math.max(0, days - version.graceDays!);
  }
}
