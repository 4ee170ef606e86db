/** Calendar checks and instant formatting in plain UTC arithmetic (no time zone involved). */

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when year-month-day exists in the proleptic Gregorian calendar. */
export function dateExists(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** Like Date.UTC with a 1-based month, but years 0-99 are taken as they are (not as 19xx). */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  // Date.UTC reads only the years 0-99 as 19xx; it is several times faster than setting a Date's fields.
  if (year < 0 || year > 99) return Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** True when hour:minute:second is a time of day (no leap seconds). */
export function timeExists(hour: number, minute: number, second: number): boolean {
  return hour <= 23 && minute <= 59 && second <= 59;
}

/** A canonical instant `YYYY-MM-DDTHH:MM:SSZ` that exists in the calendar. */
export function isInstant(value: string): boolean {
  const m = INSTANT.exec(value);
  return m !== null && dateExists(+m[1]!, +m[2]!, +m[3]!) && timeExists(+m[4]!, +m[5]!, +m[6]!);
}

/** A canonical date `YYYY-MM-DD` that exists in the calendar. */
export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  return m !== null && dateExists(+m[1]!, +m[2]!, +m[3]!);
}

/** Milliseconds since the epoch of a canonical instant (assumed valid). */
export function instantToEpoch(instant: string): number {
  return Date.parse(instant);
}

const DAY_S = 86_400;

/** The UTC calendar date and time of day of an epoch time, seconds truncated toward the past. */
export interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * The civil date and time of an epoch time in the proleptic Gregorian calendar, worked out from the
 * day number (H. Hinnant's civil_from_days) rather than through a Date: every message's times pass
 * through here, and this is several times faster than a Date's getters or toISOString.
 */
export function civilTime(epochMs: number): CivilTime {
  const seconds = Math.floor(epochMs / 1000);
  const days = Math.floor(seconds / DAY_S);
  const ofDay = seconds - days * DAY_S;
  const z = days + 719_468; // days since 0000-03-01
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const m = Math.floor((5 * dayOfYear + 2) / 153); // March = 0
  const month = m < 10 ? m + 3 : m - 9;
  return {
    year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: dayOfYear - Math.floor((153 * m + 2) / 5) + 1,
    hour: Math.floor(ofDay / 3_600),
    minute: Math.floor((ofDay % 3_600) / 60),
    second: ofDay % 60,
  };
}

/** `n` with at least two digits. */
const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** The canonical instant of an epoch time, seconds truncated toward the past. */
export function epochToInstant(epochMs: number): string {
  const t = civilTime(epochMs);
  // Years outside 0000-9999 keep toISOString's form (six digits and a sign); no valid instant has one.
  if (t.year < 0 || t.year > 9999) return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19) + 'Z';
  return `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}:${two(t.second)}Z`;
}

/** Adds whole elapsed hours to a canonical instant. */
export function addHours(instant: string, hours: number): string {
  return epochToInstant(instantToEpoch(instant) + hours * 3_600_000);
}
