import { reportQuery } from './report-query';

const MONTHLY = ['month', 'municipality', 'unit', 'format', 'separator', 'bom'];

describe('the reports query', () => {
  it('takes the parameters the report knows, with the CSV choices', () => {
    expect(reportQuery({ month: '2026-05' }, MONTHLY)).toEqual({ params: { month: '2026-05' }, format: 'json', csv: { separator: ';', bom: false } });
    expect(reportQuery({ month: '2026-05', format: 'csv', separator: 'comma', bom: 'true' }, MONTHLY)).toMatchObject({ format: 'csv', csv: { separator: ',', bom: true } });
    expect(reportQuery({ month: '2026-05', format: 'csv', separator: 'semicolon', bom: 'false' }, MONTHLY)).toMatchObject({ format: 'csv', csv: { separator: ';', bom: false } });
  });

  it.each([
    [{ format: 'csv', bom: 'yes' }, 'bom must be true or false, got "yes"'],
    [{ format: 'csv', bom: '1' }, 'bom must be true or false, got "1"'],
    [{ format: 'csv', separator: 'tab' }, 'separator must be semicolon or comma, got "tab"'],
    [{ format: 'xlsx' }, 'format must be json or csv, got "xlsx"'],
    [{ bom: 'true' }, 'bom applies to format=csv only'],
    [{ separator: 'comma' }, 'separator applies to format=csv only'],
    [{ delimiter: ';' }, 'unknown parameter "delimiter" (this report takes month, municipality, unit, format, separator, bom)'],
    [{ format: ['csv', 'json'] }, 'format must be given once'],
  ])('refuses %j, naming the parameter', (query, message) => {
    expect(() => reportQuery({ month: '2026-05', ...query }, MONTHLY)).toThrow(message);
  });
});
