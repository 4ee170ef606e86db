import { dateExists, epochToInstant, timeExists, utcMs } from './calendar';

const OFFSET_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Reads an `xs:dateTime` that carries an offset or `Z` (fractional seconds are truncated).
 * Undefined when the form is wrong, the offset is missing or the date or time does not exist.
 */
export function fromOffsetDateTime(value: string): string | undefined {
  const m = OFFSET_TIME.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
  if (!dateExists(year, month, day) || !timeExists(hour, minute, second)) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const asUtc = utcMs(year, month, day, hour, minute, second);
  return epochToInstant(asUtc - offsetMinutes * 60_000);
}

