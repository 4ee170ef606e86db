import { swedishDate } from '@svu/swedish-time';

/** One ready-for-discharge notice of an episode, as the store keeps it. */
export interface ReadyNotice {
  readonly messageId: string;
  readonly sentAt: string;
  readonly cancelled: boolean;
}

/**
 * Day 0 in force for an episode: that of its first ready notice not cancelled (docs/rules.md, rule 4);
 * a later notice is history and does not move it.
 */
export function dayZeroInForce(notices: readonly ReadyNotice[]): string | undefined {
  const first = notices.filter((n) => !n.cancelled).sort((a, b) => a.sentAt.localeCompare(b.sentAt))[0];
  return first === undefined ? undefined : swedishDate(first.sentAt);
}

const DAY_MS = 86_400_000;

/** Calendar days from one Swedish date to another (both `YYYY-MM-DD`). */
export function calendarDaysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/**
 * Days a patient waited after being ready: the calendar days after day 0 up to and including the
 * Swedish date of discharge. Day 0 itself is not a waiting day (Halland's directive, agreement [003]: the
 * day the notice is sent is day 0, whatever the hour); discharged on day 0 is 0 days.
 */
export function waitingDays(dayZero: string, dischargedAt: string): number {
  return Math.max(0, calendarDaysBetween(dayZero, swedishDate(dischargedAt)));
}
