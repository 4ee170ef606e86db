import {
  fromOffsetDateTime,
  fromSwedishWallClock,
  isDate,
  pad,
  toSwedishOffsetDateTime,
  toSwedishWallClock,
} from '@svu/swedish-time';
import type { WireTime } from './fields';

/** samsa and canonical carry the canonical forms; the schema checks them. */
export const UTC_TIME: WireTime = {
  readInstant: (raw) => raw,
  writeInstant: (instant) => instant,
  readDate: (raw) => raw,
  writeDate: (date) => date,
  instantForm: 'an instant YYYY-MM-DDTHH:MM:SSZ',
  dateForm: 'a date YYYY-MM-DD',
};

/** lifecare: xs:dateTime with an offset (written as Swedish local time), dates as YYYY-MM-DD. */
export const OFFSET_TIME: WireTime = {
  readInstant: fromOffsetDateTime,
  writeInstant: toSwedishOffsetDateTime,
  readDate: (raw) => (isDate(raw) ? raw : undefined),
  writeDate: (date) => date,
  instantForm: 'a date-time with offset that exists, like 2026-03-28T14:05:00+01:00',
  dateForm: 'a date YYYY-MM-DD that exists',
};

const WALL_CLOCK = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;

/** webcare: Swedish wall-clock minutes YYYYMMDDHHMM (seconds dropped), dates as YYYYMMDD. */
export const WALL_CLOCK_TIME: WireTime = {
  readInstant(raw) {
    const m = WALL_CLOCK.exec(raw);
    if (m === null) return undefined;
    return fromSwedishWallClock({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: 0 });
  },
  writeInstant(instant) {
    const w = toSwedishWallClock(instant);
    return `${pad(w.year, 4)}${pad(w.month)}${pad(w.day)}${pad(w.hour)}${pad(w.minute)}`;
  },
  readDate(raw) {
    const m = COMPACT_DATE.exec(raw);
    if (m === null) return undefined;
    const date = `${m[1]}-${m[2]}-${m[3]}`;
    return isDate(date) ? date : undefined;
  },
  writeDate: (date) => date.replace(/-/g, ''),
  instantForm: 'Swedish wall-clock time YYYYMMDDHHMM that exists',
  dateForm: 'a date YYYYMMDD that exists',
};
