import { Temporal } from '@js-temporal/polyfill';
import fc from 'fast-check';
import { isoDurationMs } from './duration';

const DAY = 86_400_000;

describe('isoDurationMs', () => {
  it('counts months as 30 days and years as 365, whatever the calendar (README, Configuration)', () => {
    expect(isoDurationMs('P1M')).toBe(30 * DAY);
    expect(isoDurationMs('P1Y')).toBe(365 * DAY);
    expect(isoDurationMs('P10Y')).toBe(3650 * DAY);
    expect(isoDurationMs('P1W')).toBe(7 * DAY);
    expect(isoDurationMs('P1Y2M3W4DT5H6M7.5S')).toBe((365 + 60 + 21 + 4) * DAY + 5 * 3_600_000 + 6 * 60_000 + 7_500);
  });

  it('reads days, hours, minutes and seconds as before: days of 24 hours, fractions, a sign', () => {
    const cases: Array<[string, number]> = [
      ['P1D', DAY],
      ['PT2H', 7_200_000],
      ['PT0.003S', 3],
      ['PT0.5H', 1_800_000],
      ['PT1,5M', 90_000],
      ['-PT1H', -3_600_000],
      ['+P1D', DAY],
      ['pt5s', 5_000],
      ['PT0S', 0],
      ['P3650D', 3650 * DAY],
    ];
    for (const [text, ms] of cases) expect([text, isoDurationMs(text)]).toEqual([text, ms]);
  });

  it('agrees with Temporal on every duration without months or years', () => {
    const part = fc.option(fc.nat({ max: 100_000 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, fc.option(fc.nat({ max: 999 }), { nil: undefined }), fc.boolean(), (d, h, m, s, millis, negative) => {
        const time = `${h === undefined ? '' : `${h}H`}${m === undefined ? '' : `${m}M`}${s === undefined && millis === undefined ? '' : `${s ?? 0}${millis === undefined ? '' : `.${String(millis).padStart(3, '0')}`}S`}`;
        const text = `${negative ? '-' : ''}P${d === undefined ? '' : `${d}D`}${time === '' ? '' : `T${time}`}`;
        if (d === undefined && time === '') return;
        expect(isoDurationMs(text)).toBeCloseTo(Temporal.Duration.from(text).total({ unit: 'milliseconds', relativeTo: '2020-01-01T00:00:00+00:00[UTC]' }), 6);
      }),
    );
  });

  it('refuses what is not a duration', () => {
    for (const text of ['', 'P', 'PT', 'P1DT', '1D', 'P-1D', 'P1.5D', 'PT1.5H30M', '30 minutes', 'P1D ', 'PT1S2M']) {
      expect(() => isoDurationMs(text)).toThrow(RangeError);
    }
  });
});
