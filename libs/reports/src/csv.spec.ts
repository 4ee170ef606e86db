import { parse } from 'csv-parse/sync';
import { toCsv } from './csv';

/** CSV is read back with a CSV parser: what goes in comes out, whatever the cells hold. */
describe('toCsv', () => {
  const header = ['enhet', 'kommentar', 'antal'];
  const rows = [
    ['Hemsjukvård Väster; Göteborg', 'sa "nej" till ändringen', 3],
    ['Åsele, Överkalix', 'rad ett\nrad två\r\nrad tre', 0],
    ['Sámi: đ ŋ ŧ ž', '', null],
  ] as const;

  it('quotes separators, quotes and line breaks (RFC 4180) and parses back to the same cells', () => {
    const text = toCsv(header, rows);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain('"Hemsjukvård Väster; Göteborg"');
    expect(text).toContain('"sa ""nej"" till ändringen"');
    const parsed: string[][] = parse(text, { delimiter: ';' });
    expect(parsed).toEqual([header, ['Hemsjukvård Väster; Göteborg', 'sa "nej" till ändringen', '3'], ['Åsele, Överkalix', 'rad ett\nrad två\r\nrad tre', '0'], ['Sámi: đ ŋ ŧ ž', '', '']]);
  });

  it('writes commas when asked, and a BOM for Excel only when asked', () => {
    const comma = toCsv(header, rows, { separator: ',' });
    expect(parse(comma, { delimiter: ',' })).toEqual(parse(toCsv(header, rows), { delimiter: ';' }));
    expect(comma).toContain('"Åsele, Överkalix"');
    expect(comma.charCodeAt(0)).not.toBe(0xfeff);
    const withBom = Buffer.from(toCsv(header, rows, { bom: true }), 'utf8');
    expect([...withBom.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(parse(withBom, { delimiter: ';', bom: true })[1]).toEqual(['Hemsjukvård Väster; Göteborg', 'sa "nej" till ändringen', '3']);
  });

  it('keeps a text cell that looks like a formula from running in a spreadsheet', () => {
    const parsed: string[][] = parse(toCsv(['a', 'b'], [['=HYPERLINK("http://x")', -3], ['@SUM(A1)', '+1']]), { delimiter: ';' });
    expect(parsed.slice(1)).toEqual([["'=HYPERLINK(\"http://x\")", '-3'], ["'@SUM(A1)", "'+1"]]);
  });
});
