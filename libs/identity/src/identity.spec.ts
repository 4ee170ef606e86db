import { birthDate, maskIdentityNumberKeepingYear, maskIdentityNumbers, fromHyphenated, fromTenDigit, identityProblem, luhnCheckDigit, toHyphenated, toTenDigit, withCheckDigit } from './index';

describe('Luhn', () => {
  it('computes the check digit over YYMMDDNNN with weights 2,1,2,…', () => {
    expect(luhnCheckDigit('410708699')).toBe(5);
    expect(luhnCheckDigit('811218987')).toBe(6); // 811218-9876, the Swedish Tax Agency's example
    expect(withCheckDigit('19410708699')).toBe('194107086995');
  });
});

describe('personnummer and samordningsnummer', () => {
  it('accepts a valid personnummer', () => expect(identityProblem('personnummer', '194107086995', '2026-03-28')).toBeUndefined());
  it('refuses a wrong check digit', () =>
    expect(identityProblem('personnummer', '194107086994', '2026-03-28')).toMatch(/check digit/));
  it('refuses a birth date that does not exist', () => {
    expect(identityProblem('personnummer', withCheckDigit('19410230123'), '2026-03-28')).toMatch(/does not exist/);
    expect(identityProblem('personnummer', withCheckDigit('20230229123'), '2026-03-28')).toMatch(/does not exist/);
    expect(identityProblem('personnummer', withCheckDigit('20240229123'), '2026-03-28')).toBeUndefined();
  });
  it('refuses a birth date after the day of sending', () => {
    const bornTomorrow = withCheckDigit('20260329123');
    expect(identityProblem('personnummer', bornTomorrow, '2026-03-28')).toMatch(/after the message was sent/);
    expect(identityProblem('personnummer', bornTomorrow, '2026-03-29')).toBeUndefined();
  });
  it('reads the samordningsnummer day as birth day plus 60', () => {
    expect(birthDate('samordningsnummer', '195211642383')).toBe('1952-11-04');
    expect(identityProblem('samordningsnummer', '195211642383', '2026-07-01')).toBeUndefined();
    expect(identityProblem('samordningsnummer', withCheckDigit('19521104238'), '2026-07-01')).toMatch(/plus 60/);
    expect(identityProblem('samordningsnummer', withCheckDigit('19521191238'), '2026-07-01')).toMatch(/plus 60/); // 31 Nov
  });
  it('refuses the birth number 000, which is never issued, in personnummer and samordningsnummer', () => {
    // 201509160006: a date that exists and a right check digit (the personnummer project's list.json).
    expect(luhnCheckDigit('150916000')).toBe(6);
    expect(identityProblem('personnummer', '201509160006', '2026-03-28')).toBe('birth number 000 is never issued');
    expect(identityProblem('samordningsnummer', withCheckDigit('20150976000'), '2026-03-28')).toBe('birth number 000 is never issued');
    expect(identityProblem('personnummer', withCheckDigit('20150916001'), '2026-03-28')).toBeUndefined();
    expect(identityProblem('samordningsnummer', withCheckDigit('20150976001'), '2026-03-28')).toBeUndefined();
    expect(identityProblem('personnummer', withCheckDigit('20150916100'), '2026-03-28')).toBeUndefined();
  });
  it('reports a birth date that does not exist before the birth number', () =>
    expect(identityProblem('personnummer', withCheckDigit('20150931000'), '2026-03-28')).toMatch(/does not exist/));
  it('does not check the birth number of a reservnummer', () =>
    expect(identityProblem('reservnummer', '201509160006', '2026-03-28')).toBeUndefined());
  it('refuses forms that are not 12 digits', () => {
    expect(identityProblem('personnummer', '4107086995', '2026-03-28')).toMatch(/12 digits/);
    expect(identityProblem('personnummer', '19410708-6995', '2026-03-28')).toMatch(/12 digits/);
  });
  it('carries reservnummer unchanged with only the pattern checked', () => {
    expect(identityProblem('reservnummer', 'RES-2026-77', '2026-03-28')).toBeUndefined();
    expect(identityProblem('reservnummer', 'res-1', '2026-03-28')).toMatch(/reservnummer/);
    expect(identityProblem('reservnummer', 'A'.repeat(21), '2026-03-28')).toMatch(/reservnummer/);
  });
});

describe('ten-digit form and the century', () => {
  it('uses - before and + from the calendar year the person turns 100', () => {
    const id = withCheckDigit('19260501123');
    expect(toTenDigit(id, 2025)).toBe(`260501-${id.slice(8)}`);
    expect(toTenDigit(id, 2026)).toBe(`260501+${id.slice(8)}`); // turns 100 in 2026, before or after the birthday
    expect(toTenDigit(id, 2027)).toBe(`260501+${id.slice(8)}`);
  });
  it('finds the century from the separator and the year of sending', () => {
    expect(fromTenDigit('410708-6995', 2026)).toBe('194107086995');
    expect(fromTenDigit('260501-1234', 2026)).toBe('202605011234');
    expect(fromTenDigit('260501+1234', 2026)).toBe('192605011234');
    expect(fromTenDigit('270501-1234', 2026)).toBe('192705011234');
    expect(fromTenDigit('270501+1234', 2026)).toBe('182705011234');
    expect(fromTenDigit('000101-1234', 2000)).toBe('200001011234');
  });
  it('round-trips around the 100th year', () => {
    for (const year of [2025, 2026, 2027]) {
      const id = withCheckDigit('19260501123');
      expect(fromTenDigit(toTenDigit(id, year), year)).toBe(id);
    }
  });
  it('refuses malformed ten-digit forms', () => {
    expect(fromTenDigit('4107086995', 2026)).toBeUndefined();
    expect(fromTenDigit('410708/6995', 2026)).toBeUndefined();
  });
  it('writes and reads the lifecare form YYYYMMDD-NNNN', () => {
    expect(toHyphenated('194107086995')).toBe('19410708-6995');
    expect(fromHyphenated('19410708-6995')).toBe('194107086995');
    expect(fromHyphenated('194107086995')).toBeUndefined();
  });
});

describe('masking identity numbers in text', () => {
  it.each([
    ['MSG-19410708-6994', 'MSG-********-****'],
    ['194107086995', '************'],
    ['id 410708+6995 in', 'id ******+**** in'],
    ['x4107086995y', 'x**********y'],
    ['coordination 195211642383', 'coordination ************'],
    // Masking is about shape, not validity: the unissued birth number 000 is masked too.
    ['pnr 201509160006.', 'pnr ************.'],
    ['MSG-150916-0006', 'MSG-******-****'],
    ['snr 20150976-0004', 'snr ********-****'],
    ['MSG 19090527 1474', 'MSG ******** ****'], // a space as separator (list.json of the personnummer project)
    ['V-19410708_6995', 'V-********_****'], // other separators a sender may put in an id
    ['V-19410708:6995', 'V-********:****'],
    ['V_19410768.6993', 'V_********.****'], // a coordination number
    ['V/4107086995', 'V/**********'],
    ['id 090527 1474.', 'id ****** ****.'],
  ])('masks every digit of an identity-shaped run: %s', (text, masked) => expect(maskIdentityNumbers(text)).toBe(masked));

  it.each([
    'SE2321000016-7VNX', // an HSA id: organisation numbers have month 20 or more
    'MSG-2026-000123',
    '2026-11-25T20:05:43.123Z',
    '1764100000123', // 13 digits: not an identity number's length
    '19411308-6994', // month 13
    '19410700-6994', // day 00
    'copy 12345',
    'batch 250 of 1200', // digits with spaces, not shaped like a number
    '20261301 1234', // month 13, with a space
  ])('leaves text without one alone: %s', (text) => expect(maskIdentityNumbers(text)).toBe(text));
});

describe("masking a patient's id for a viewer", () => {
  it.each([
    ['194101019876', '1941********'],
    ['19410101-9876', '1941*********'],
    ['1941', '****'],
    ['', ''],
  ])('keeps the birth year of %s: %s', (id, masked) => expect(maskIdentityNumberKeepingYear(id)).toBe(masked));
});
