import {
  ALL_PINS,
  ID_TYPE_OF,
  LIST_CASES,
  SENT_2026,
  momentsAround100,
  wireId,
} from '../../../test/fixtures/personnummer';
import { birthDate, fromHyphenated, fromTenDigit, identityProblem, maskIdentityNumbers, toHyphenated, toTenDigit, withCheckDigit } from './index';

/**
 * The identity lib against the personnummer project's shared test data (test/fixtures/personnummer),
 * on every one of its 41,129 numbers: each check is a few microseconds, so all of them run. The
 * whole-message path is in libs/dialects/src/personnummer-data.spec.ts.
 */

/** Collects the numbers for which `check` gives something other than `expected`, so a failure names them. */
function failures<T>(ids: readonly string[], check: (id: string) => T, expected: T): string[] {
  return ids.filter((id) => check(id) !== expected).slice(0, 10);
}

const birthYear = (id: string) => Number(id.slice(0, 4));

describe('allPins.json: 41,129 valid personnummer', () => {
  it('holds the numbers the project publishes', () => {
    expect(ALL_PINS).toHaveLength(41_129);
    expect(failures(ALL_PINS, (id) => /^\d{12}$/.test(id), true)).toEqual([]);
  });

  it('accepts every one as a personnummer, sent in 2026 and at each moment around its 100th year', () => {
    expect(failures(ALL_PINS, (id) => identityProblem('personnummer', id, SENT_2026.swedishDate), undefined)).toEqual([]);
    for (const index of [0, 1] as const) {
      expect(failures(ALL_PINS, (id) => identityProblem('personnummer', id, momentsAround100(birthYear(id))[index]!.swedishDate), undefined)).toEqual([]);
    }
  });

  it('writes and reads the webcare form with - before and + from the year the person turns 100', () => {
    for (const index of [0, 1, 2] as const) {
      const yearOf = (id: string) => momentsAround100(birthYear(id))[index]!.swedishYear;
      expect(failures(ALL_PINS, (id) => toTenDigit(id, yearOf(id)) === wireId('webcare', id, yearOf(id)), true)).toEqual([]);
      expect(failures(ALL_PINS, (id) => fromTenDigit(wireId('webcare', id, yearOf(id)), yearOf(id)) === id, true)).toEqual([]);
    }
    // The separators the moments give: - in the year the person turns 99, + from the year of 100.
    const first = ALL_PINS[0]!;
    expect(momentsAround100(birthYear(first)).map((m) => wireId('webcare', first, m.swedishYear)[6])).toEqual(['-', '+', '+']);
  });

  it('writes and reads the lifecare form YYYYMMDD-NNNC', () => {
    expect(failures(ALL_PINS, (id) => fromHyphenated(toHyphenated(id)) === id && toHyphenated(id) === wireId('lifecare', id, 2026), true)).toEqual([]);
  });

  it('masks every digit of each number in every form (masking is about shape)', () => {
    const masked = (text: string) => maskIdentityNumbers(`id ${text}.`) === `id ${text.replace(/\d/g, '*')}.`;
    expect(failures(ALL_PINS, (id) => masked(id) && masked(wireId('lifecare', id, 2026)) && masked(wireId('webcare', id, 2026)), true)).toEqual([]);
  });

  it('refuses the birth number 000 on every birth date of the data, and still masks it', () => {
    const unissued = ALL_PINS.map((id) => withCheckDigit(`${id.slice(0, 8)}000`));
    expect(failures(unissued, (id) => identityProblem('personnummer', id, SENT_2026.swedishDate), 'birth number 000 is never issued')).toEqual([]);
    expect(failures(unissued, (id) => maskIdentityNumbers(id), '************')).toEqual([]);
  });

  it('gives the samordningsnummer of every birth date (day plus 60) the same birth date, and keeps the two kinds apart', () => {
    const coordination = (id: string) => withCheckDigit(`${id.slice(0, 6)}${Number(id.slice(6, 8)) + 60}${id.slice(8, 11)}`);
    const snr = ALL_PINS.map(coordination);
    expect(failures(ALL_PINS, (id) => birthDate('samordningsnummer', coordination(id)) === birthDate('personnummer', id), true)).toEqual([]);
    expect(failures(snr, (id) => identityProblem('samordningsnummer', id, SENT_2026.swedishDate), undefined)).toEqual([]);
    expect(failures(snr, (id) => identityProblem('personnummer', id, SENT_2026.swedishDate), 'is not a personnummer: the birth date does not exist')).toEqual([]);
    expect(failures(ALL_PINS, (id) => identityProblem('samordningsnummer', id, SENT_2026.swedishDate)?.includes('plus 60') ?? false, true)).toEqual([]);
  });
});

describe('list.json: cases accepted or refused as the data says', () => {
  it.each(LIST_CASES.map((c) => [c.long_format, c.type, c.valid] as const))('%s (%s) valid: %s', (long, type, valid) => {
    const problem = identityProblem(ID_TYPE_OF[type], long, SENT_2026.swedishDate);
    if (valid) expect(problem).toBeUndefined();
    else expect(problem).toEqual(expect.any(String));
  });

  it('refuses 201509160006 for its birth number 000 only: the date exists and the check digit is right', () => {
    expect(birthDate('personnummer', '201509160006')).toBe('2015-09-16');
    expect(withCheckDigit('20150916000')).toBe('201509160006');
    expect(identityProblem('personnummer', '201509160006', SENT_2026.swedishDate)).toBe('birth number 000 is never issued');
  });

  it('refuses each valid number as the other kind: a samordningsnummer day (61-91) is no personnummer day, and the reverse', () => {
    const valid = LIST_CASES.filter((c) => c.valid);
    expect(valid.map((c) => c.type).sort()).toEqual(['con', 'con', 'ssn', 'ssn', 'ssn', 'ssn', 'ssn', 'ssn']);
    for (const c of valid) {
      const other = c.type === 'ssn' ? 'samordningsnummer' : 'personnummer';
      expect(identityProblem(other, c.long_format, SENT_2026.swedishDate)).toMatch(/does not exist|plus 60/);
    }
  });

  it('reads every ten-digit form of the data sent in 2026 back to its 12 digits (the data\'s separators hold in 2026)', () => {
    for (const c of LIST_CASES.filter((x) => /^\d{6}[-+]\d{4}$/.test(x.separated_format))) {
      expect(fromTenDigit(c.separated_format, SENT_2026.swedishYear)).toBe(c.long_format);
      expect(toTenDigit(c.long_format, SENT_2026.swedishYear)).toBe(c.separated_format);
    }
  });
});
