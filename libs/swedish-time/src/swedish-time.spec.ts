import fc from 'fast-check';
import {
  addHours,
  civilTime,
  dateExists,
  epochToInstant,
  fromOffsetDateTime,
  fromSwedishWallClock,
  isDate,
  isInstant,
  swedishDate,
  swedishOffset,
  toSwedishOffsetDateTime,
  toSwedishWallClock,
  utcMs,
} from './index';

const wall = (year: number, month: number, day: number, hour: number, minute: number, second = 0) => ({
  year,
  month,
  day,
  hour,
  minute,
  second,
});

describe('calendar', () => {
  it.each(['2026-02-28T00:00:00Z', '2024-02-29T23:59:59Z', '2026-12-31T12:00:00Z'])('accepts the instant %s', (v) =>
    expect(isInstant(v)).toBe(true),
  );
  it.each(['2026-02-29T00:00:00Z', '2026-04-31T10:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T10:00:60Z', '2026-01-01T10:00:00+01:00', '2026-01-01T10:00Z', '2026-01-01T10:00:00.5Z'])(
    'refuses the instant %s',
    (v) => expect(isInstant(v)).toBe(false),
  );
  it('checks dates', () => {
    expect(isDate('2024-02-29')).toBe(true);
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2026-13-01')).toBe(false);
    expect(isDate('2026-1-01')).toBe(false);
  });
  it('adds elapsed hours, not wall-clock hours, across the spring change', () => {
    // 12:00 UTC on 28 March is 13:00 CET; 24 elapsed hours later it is 14:00 CEST on the 29th.
    expect(addHours('2026-03-28T12:00:00Z', 24)).toBe('2026-03-29T12:00:00Z');
    expect(toSwedishWallClock('2026-03-29T12:00:00Z').hour).toBe(14);
  });
});

describe('Swedish wall clock', () => {
  it('gives winter and summer offsets', () => {
    expect(toSwedishOffsetDateTime('2026-03-28T13:05:00Z')).toBe('2026-03-28T14:05:00+01:00');
    expect(toSwedishOffsetDateTime('2026-07-01T08:00:00Z')).toBe('2026-07-01T10:00:00+02:00');
    expect(swedishOffset('2026-10-25T00:59:59Z')).toBe('+02:00');
    expect(swedishOffset('2026-10-25T01:00:00Z')).toBe('+01:00');
  });

  it('moves a time in the spring gap forward by the gap (02:30 → 03:30 +02:00)', () => {
    expect(fromSwedishWallClock(wall(2026, 3, 29, 2, 30))).toBe('2026-03-29T01:30:00Z');
    expect(toSwedishOffsetDateTime('2026-03-29T01:30:00Z')).toBe('2026-03-29T03:30:00+02:00');
    expect(fromSwedishWallClock(wall(2026, 3, 29, 1, 59))).toBe('2026-03-29T00:59:00Z');
    expect(fromSwedishWallClock(wall(2026, 3, 29, 3, 0))).toBe('2026-03-29T01:00:00Z');
  });

  it('takes the earlier (summer-time) instant in the repeated autumn hour', () => {
    expect(fromSwedishWallClock(wall(2026, 10, 25, 2, 30))).toBe('2026-10-25T00:30:00Z');
    // Both instants show 02:30 on the wall.
    expect(toSwedishWallClock('2026-10-25T00:30:00Z')).toMatchObject({ hour: 2, minute: 30 });
    expect(toSwedishWallClock('2026-10-25T01:30:00Z')).toMatchObject({ hour: 2, minute: 30 });
    expect(fromSwedishWallClock(wall(2026, 10, 25, 3, 0))).toBe('2026-10-25T02:00:00Z');
  });

  it('writes an instant before 1900 (local mean time, +00:53:28) with a whole-minute offset that reads back as the same instant', () => {
    const instant = '0026-07-01T07:30:00Z';
    const written = toSwedishOffsetDateTime(instant);
    expect(written).toBe('0026-07-01T08:23:00+00:53');
    expect(fromOffsetDateTime(written)).toBe(instant);
    const wall = toSwedishWallClock(instant);
    expect(fromSwedishWallClock(wall)).toBe(instant);
  });

  it('refuses wall-clock times that do not exist in the calendar', () => {
    expect(fromSwedishWallClock(wall(2026, 2, 29, 10, 0))).toBeUndefined();
    expect(fromSwedishWallClock(wall(2026, 1, 1, 24, 0))).toBeUndefined();
  });

  it('gives the Swedish date, which can be the next day in UTC terms', () => {
    expect(swedishDate('2026-03-28T22:59:59Z')).toBe('2026-03-28');
    expect(swedishDate('2026-03-28T23:00:00Z')).toBe('2026-03-29');
    expect(swedishDate('2026-07-01T21:59:00Z')).toBe('2026-07-01');
    expect(swedishDate('2026-07-01T22:00:00Z')).toBe('2026-07-02');
  });
});

describe('date-time with offset (lifecare)', () => {
  it('reads offsets and Z, truncating fractional seconds', () => {
    expect(fromOffsetDateTime('2026-03-28T14:05:00+01:00')).toBe('2026-03-28T13:05:00Z');
    expect(fromOffsetDateTime('2026-03-28T13:05:00Z')).toBe('2026-03-28T13:05:00Z');
    expect(fromOffsetDateTime('2026-03-28T09:05:59.999-04:00')).toBe('2026-03-28T13:05:59Z');
    expect(fromOffsetDateTime('2026-01-01T00:30:00+02:00')).toBe('2025-12-31T22:30:00Z');
  });
  it.each(['2026-03-28T14:05:00', '2026-03-28T14:05+01:00', '2026-02-29T10:00:00Z', '2026-03-28T14:05:00+15:00', '2026-03-28 14:05:00Z'])(
    'refuses %s',
    (v) => expect(fromOffsetDateTime(v)).toBeUndefined(),
  );
});

/**
 * The calendar arithmetic against the Date object it replaces (a Date's setters, getters and
 * toISOString), over every year from 0000 to 9999 and around it.
 */
describe('calendar arithmetic agrees with Date', () => {
  const dateUtcMs = (y: number, mo: number, d: number, h = 0, mi = 0, se = 0) => {
    const date = new Date(0);
    date.setUTCFullYear(y, mo - 1, d);
    date.setUTCHours(h, mi, se, 0);
    return date.getTime();
  };
  const [FIRST, LAST] = [dateUtcMs(-1, 1, 1), dateUtcMs(10_001, 1, 1)];
  // Edges: the span's ends, the epoch, the years 0 and 10000 (where the written form changes), a leap day.
  const edges = [FIRST, LAST, 0, -1, -999, -1000, -1001, dateUtcMs(0, 1, 1), dateUtcMs(0, 3, 1) - 1, dateUtcMs(10_000, 1, 1), dateUtcMs(10_000, 1, 1) - 1, dateUtcMs(2024, 2, 29, 23, 59, 59)];
  const epochs = fc.oneof(fc.integer({ min: FIRST, max: LAST }), fc.constantFrom(...edges));

  it('epochToInstant is toISOString to the whole second', () => {
    fc.assert(fc.property(epochs, (ms) => expect(epochToInstant(ms)).toBe(new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + 'Z')), { numRuns: 20_000 });
  });

  it('civilTime is what a Date reads in UTC', () => {
    fc.assert(
      fc.property(epochs, (ms) => {
        const d = new Date(Math.floor(ms / 1000) * 1000);
        expect(civilTime(ms)).toEqual({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() });
      }),
      { numRuns: 20_000 },
    );
  });

  it('utcMs and dateExists agree with a Date set field by field, the years 0-99 included', () => {
    const year = fc.oneof(fc.integer({ min: -2, max: 10_001 }), fc.integer({ min: 0, max: 99 }));
    const fields = fc.tuple(year, fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(fields, ([y, mo, d, h, mi, se]) => {
        expect(utcMs(y, mo, d, h, mi, se)).toBe(dateUtcMs(y, mo, d, h, mi, se));
        expect(dateExists(y, mo, d)).toBe(mo >= 1 && mo <= 12 && d >= 1 && new Date(dateUtcMs(y, mo, d)).getUTCDate() === d);
      }),
      { numRuns: 20_000 },
    );
  });
});
