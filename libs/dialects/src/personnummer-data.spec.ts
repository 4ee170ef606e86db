import { formatProblem, type Problem } from '@svu/canonical';
import { identityProblem } from '@svu/identity';
import {
  ALL_PINS,
  CARRIES,
  ID_TYPE_OF,
  LIST_CASES,
  LIST_FORMS,
  SENT_2026,
  WRONG_FORM,
  identityMessage,
  momentsAround100,
  webcareSeparator,
  wireId,
  type IdType,
  type ListCase,
  type SendingMoment,
} from '../../../test/fixtures/personnummer';
import { decodeDocument } from './charset';
import { FORMATS, type Format } from './shared/code-tables';
import { readHyphenatedId, readTenDigitId } from './shared/identity-field';
import { readMessage, writeMessage } from './translate';

/**
 * The readers against the personnummer project's shared test data (test/fixtures/personnummer).
 *
 * How much runs: a whole message costs about 0.1-1 ms to read (XML most), so all 41,129 numbers in
 * four forms would take minutes on a loaded machine. Every number therefore goes through the readers
 * of the field only (the XML dialects' id readers, then the rule the canonical validation applies at
 * patient.id), at three moments of sending around its 100th year; and every SAMPLE_STRIDE-th number
 * (about 2,600, plus the last) goes through whole messages in all four forms, read and written back.
 * The list.json cases all go through whole messages, in every form of the data, in every format.
 */
const SAMPLE_STRIDE = 16;

const birthYear = (id: string) => Number(id.slice(0, 4));
const lines = (problems: readonly Problem[]) => problems.map(formatProblem);

function read(format: Format, idType: IdType, id: string, moment: SendingMoment) {
  return readMessage(format, identityMessage(format, idType, id, moment));
}

describe('allPins.json through the readers of the field (all 41,129 numbers)', () => {
  const moments = (id: string) => momentsAround100(birthYear(id));

  it('reads the lifecare form YYYYMMDD-NNNC of every number, and the rule at patient.id accepts it', () => {
    const wrong: string[] = [];
    for (const id of ALL_PINS) {
      for (const moment of moments(id)) {
        const problems: Problem[] = [];
        const twelve = readHyphenatedId(wireId('lifecare', id, moment.swedishYear), problems);
        if (twelve !== id || problems.length > 0 || identityProblem('personnummer', twelve, moment.swedishDate) !== undefined) wrong.push(id);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('reads the webcare form of every number, - in the year the person turns 99 and + from the year of 100', () => {
    const wrong: string[] = [];
    const separators = new Set<string>();
    for (const id of ALL_PINS) {
      for (const moment of moments(id)) {
        const problems: Problem[] = [];
        const wire = wireId('webcare', id, moment.swedishYear);
        separators.add(`${moment.swedishYear - birthYear(id)}${wire[6]}`);
        const twelve = readTenDigitId(wire, moment.utc, problems);
        if (twelve !== id || problems.length > 0 || identityProblem('personnummer', twelve, moment.swedishDate) !== undefined) wrong.push(id);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect([...separators].filter((s) => s.startsWith('99') || s.startsWith('100'))).toEqual(['99-', '100+']);
  });

  it('refuses the 12-digit form in lifecare and webcare, and the ten-digit form in lifecare, naming the form', () => {
    const id = ALL_PINS[0]!;
    const problems: Problem[] = [];
    expect(readHyphenatedId(id, problems)).toBeUndefined();
    expect(readHyphenatedId(wireId('webcare', id, 2026), problems)).toBeUndefined();
    expect(readTenDigitId(id, SENT_2026.utc, problems)).toBeUndefined();
    expect(lines(problems)).toEqual([
      'patient.id: must be written YYYYMMDD-NNNN',
      'patient.id: must be written YYYYMMDD-NNNN',
      'patient.id: must be written YYMMDD-NNNC (+ instead of - from the 100th year)',
    ]);
  });
});

describe(`allPins.json through whole messages (every ${SAMPLE_STRIDE}th number and the last, in every format)`, () => {
  const sample = ALL_PINS.filter((_, i) => i % SAMPLE_STRIDE === 0 || i === ALL_PINS.length - 1);

  it.each(FORMATS.map((f) => [f]))('%s: reads each back to its 12 digits and writes the same form again', (format) => {
    expect(sample.length).toBeGreaterThan(2_500);
    const wrong: string[] = [];
    sample.forEach((id, i) => {
      // The three moments in turn, so the sample has both separators and the Swedish new year's night.
      const moment = momentsAround100(birthYear(id))[i % 3]!;
      const wire = wireId(format, id, moment.swedishYear);
      const result = read(format, 'personnummer', wire, moment);
      if (!result.ok) {
        wrong.push(`${id}: ${lines(result.problems).join('; ')}`);
        return;
      }
      const written = decodeDocument(format, writeMessage(format, result.value));
      const ok =
        result.value.patient?.id === id &&
        result.value.patient.idType === 'personnummer' &&
        result.value.sentAt === moment.utc &&
        written !== undefined &&
        written.includes(format === 'webcare' || format === 'lifecare' ? `>${wire}<` : `"${wire}"`);
      if (!ok) wrong.push(id);
    });
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});

describe('list.json through whole messages: every case, in every form of the data, in every format', () => {
  /**
   * The data's four forms, and the form the contract gives the format (cut from the 12 digits, sent in
   * 2026) where the data has none that format carries: lifecare's for the people born in 1909, whose
   * `separated_long` has a `+` (YYYYMMDD+NNNC, a form lifecare does not carry).
   */
  const formsOf = (c: ListCase, format: Format): Array<readonly [string, string]> => {
    const forms: Array<readonly [string, string]> = LIST_FORMS.map((form) => [form, c[form]] as const);
    const contract = /^\d{12}$/.test(c.long_format) ? wireId(format, c.long_format, SENT_2026.swedishYear) : undefined;
    if (contract !== undefined && !forms.some(([, wire]) => wire === contract)) forms.push(['contract form', contract]);
    return forms;
  };
  const rows = LIST_CASES.flatMap((c) =>
    FORMATS.flatMap((format) => formsOf(c, format).map(([form, wire]) => [c.long_format, format, form, wire, c] as const)),
  );

  it('has a form each format carries for every case but the one with a space, from the data itself except lifecare +', () => {
    for (const c of LIST_CASES) {
      const carried = FORMATS.filter((format) => LIST_FORMS.some((form) => CARRIES[format].test(c[form])));
      if (c.long_format.includes(' ')) expect(carried).toEqual([]);
      else expect(carried).toEqual(c.separated_long.includes('+') ? FORMATS.filter((f) => f !== 'lifecare') : FORMATS);
      for (const format of FORMATS) expect(formsOf(c, format).some(([, wire]) => CARRIES[format].test(wire))).toBe(!c.long_format.includes(' '));
    }
  });

  it('sends the data\'s ten-digit forms with a sentAt in 2026, when their separators are the contract\'s', () => {
    for (const c of LIST_CASES.filter((x) => CARRIES.webcare.test(x.separated_format))) {
      expect(c.separated_format[6]).toBe(webcareSeparator(birthYear(c.long_format), SENT_2026.swedishYear));
    }
  });

  it.each(rows)('%s as %s %s (%s)', (long, format, _form, wire, c: ListCase) => {
    const result = read(format, ID_TYPE_OF[c.type], wire, SENT_2026);
    if (!CARRIES[format].test(wire)) {
      expect(result.ok ? [] : lines(result.problems)).toEqual([WRONG_FORM[format]]);
    } else if (c.valid) {
      expect(result.ok && result.value.patient).toMatchObject({ idType: ID_TYPE_OF[c.type], id: long });
    } else {
      const problems = result.ok ? [] : lines(result.problems);
      expect(problems).toEqual([expect.stringMatching(/^patient\.id: /)]);
      if (long === '201509160006') expect(problems).toEqual(['patient.id: birth number 000 is never issued']);
    }
  });

  it.each(FORMATS.map((f) => [f]))(
    '%s: refuses each valid case as the other kind (samordningsnummer days are 61-91), at patient.id',
    (format) => {
      for (const c of LIST_CASES.filter((x) => x.valid)) {
        const wire = wireId(format, c.long_format, SENT_2026.swedishYear);
        const other = c.type === 'ssn' ? 'samordningsnummer' : 'personnummer';
        const result = read(format, other, wire, SENT_2026);
        expect(result.ok ? [] : lines(result.problems)).toEqual([expect.stringMatching(/^patient\.id: .*(does not exist|plus 60)/)]);
      }
    },
  );

  it.each(FORMATS.map((f) => [f]))('%s: carries a reservnummer unchanged, with no identity check, only its pattern', (format) => {
    for (const c of LIST_CASES) {
      for (const form of LIST_FORMS) {
        const result = read(format, 'reservnummer', c[form], SENT_2026);
        if (/^[A-Z0-9-]{1,20}$/.test(c[form])) expect(result.ok && result.value.patient).toMatchObject({ idType: 'reservnummer', id: c[form] });
        else expect(result.ok ? [] : lines(result.problems)).toEqual(['patient.id: must be a reservnummer: 1-20 of A-Z, 0-9 and -']);
      }
    }
  });
});
