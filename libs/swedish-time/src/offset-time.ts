import { dateExists, epochToInstant, timeExists, utcMs } from './calendar';
import { pad, swedishOffset, toSwedishWallClock } from './stockholm';

const OFFSET_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Reads an `xs:dateTime` that carries an offset or `Z` (fractional seconds are truncated).
 * Undefined when the form is wrong, the offset is missing or the date or time does not exist.
 */
export function fromOffsetDateTime(value: string): string | undefined {
  const m = OFFSET_TIME.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (!dateExists(year!, month!, day!) || !timeExists(hour!, minute!, second!)) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const asUtc = utcMs(year!, month!, day!, hour, minute, second);
  return epochToInstant(asUtc - offsetMinutes * 60_000);
}

/** Writes an instant as Swedish local time with its offset: `2026-03-28T14:05:00+01:00`. */
export function toSwedishOffsetDateTime(instant: string): string {
  const w = toSwedishWallClock(instant);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${swedishOffset(instant)}`;
}
