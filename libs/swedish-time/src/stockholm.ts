import { Temporal } from '@js-temporal/polyfill';
import { civilTime, dateExists, epochToInstant, instantToEpoch, timeExists, utcMs, type CivilTime } from './calendar';

/** Swedish time is always this IANA zone (docs/contract.md). */
export const SWEDISH_ZONE = 'Europe/Stockholm';

const HOUR_MS = 3_600_000;

/** The parts of a wall-clock time: a calendar date and time of day, as `civilTime` gives them. */
export type WallClock = CivilTime;

// Europe/Stockholm changes offset only on whole UTC hours, so the offset found by Temporal for one
// hour holds for every instant in it; caching per hour keeps the zone rules in Temporal and the
// hot path (thousands of messages a second) free of repeated zone look-ups.
const offsetByUtcHour = new Map<number, number>();
const offsetByLocalHour = new Map<number, number>();
const CACHE_LIMIT = 200_000;

function remember(cache: Map<number, number>, key: number, value: number): number {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** Offset from UTC in milliseconds of Swedish time at an instant. */
function offsetAt(epochMs: number): number {
  const hour = Math.floor(epochMs / HOUR_MS);
  const cached = offsetByUtcHour.get(hour);
  if (cached !== undefined) return cached;
  const zoned = Temporal.Instant.fromEpochMilliseconds(hour * HOUR_MS).toZonedDateTimeISO(SWEDISH_ZONE);
  return remember(offsetByUtcHour, hour, wholeMinutes(zoned.offsetNanoseconds / 1e6));
}

/**
 * An offset to the whole minute. Before 1900 the zone's rules give local mean time (+00:53:28 until
 * 1879), which an ISO offset (`+hh:mm`) cannot write: a message dated then (a typing error in a year)
 * would otherwise be written with a fractional offset that no reader takes back. The wall clock and
 * the written offset both use the rounded offset, so the instant they name is the same.
 */
function wholeMinutes(offsetMs: number): number {
  return Math.round(offsetMs / 60_000) * 60_000;
}

/** Swedish wall clock of a canonical instant. */
export function toSwedishWallClock(instant: string): WallClock {
  const epoch = instantToEpoch(instant);
  return civilTime(epoch + offsetAt(epoch));
}

/** Offset of Swedish time at an instant, as `+01:00` or `+02:00`. */
export function swedishOffset(instant: string): string {
  return offsetText(offsetAt(instantToEpoch(instant)));
}

/** An offset in milliseconds (whole minutes) as `+hh:mm`. */
function offsetText(offsetMs: number): string {
  const minutes = offsetMs / 60_000;
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Writes an instant as Swedish local time with its offset: `2026-03-28T14:05:00+01:00`. */
export function toSwedishOffsetDateTime(instant: string): string {
  const epoch = instantToEpoch(instant);
  const offset = offsetAt(epoch);
  const w = civilTime(epoch + offset);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${offsetText(offset)}`;
}

/**
 * The instant of a Swedish wall-clock time, resolved like Temporal's `disambiguation: "compatible"`:
 * the earlier instant in the repeated autumn hour, moved forward by the gap in the spring.
 * Undefined when the wall-clock time does not exist in the calendar.
 */
export function fromSwedishWallClock(wall: WallClock): string | undefined {
  if (!dateExists(wall.year, wall.month, wall.day) || !timeExists(wall.hour, wall.minute, wall.second)) {
    return undefined;
  }
  const asUtc = utcMs(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second);
  const localHour = Math.floor(asUtc / HOUR_MS);
  let offset = offsetByLocalHour.get(localHour);
  if (offset === undefined) {
    const start = Temporal.PlainDateTime.from({
      year: wall.year,
      month: wall.month,
      day: wall.day,
      hour: wall.hour,
    }).toZonedDateTime(SWEDISH_ZONE, { disambiguation: 'compatible' });
    // In the spring gap "compatible" keeps the offset from before the change for the whole hour.
    offset = remember(offsetByLocalHour, localHour, wholeMinutes(localHour * HOUR_MS - start.epochMilliseconds));
  }
  return epochToInstant(asUtc - offset);
}

/** The Swedish calendar date (`YYYY-MM-DD`) of a canonical instant. */
export function swedishDate(instant: string): string {
  const w = toSwedishWallClock(instant);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The Swedish calendar year of a canonical instant. */
export function swedishYear(instant: string): number {
  return toSwedishWallClock(instant).year;
}

export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
