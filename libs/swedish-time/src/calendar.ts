/** Calendar checks and instant formatting in plain UTC arithmetic (no time zone involved). */

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when year-month-day exists in the proleptic Gregorian calendar. */
export function dateExists(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month + 1, 0)).getUTCDate();
}

/** Like Date.UTC with a 1-based month, but years 0-99 are taken as they are (not as 19xx). */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
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

/** The canonical instant of an epoch time, seconds truncated toward the past. */
export function epochToInstant(epochMs: number): string {
  const whole = Math.floor(epochMs / 1000) * 1000;
  return new Date(whole).toISOString().slice(0, 19) + 'Z';
}

/** Adds whole elapsed hours to a canonical instant. */
export function addHours(instant: string, hours: number): string {
  return epochToInstant(instantToEpoch(instant) + hours * 3_600_000);
}
