import type { ApiSchemaName } from '../common/http/api-schemas';
import { Refused } from '../common/http/outcome';
import { queryOf } from '../common/http/schema.pipe';
import { csvOptions } from './report-query';

/** A reports query through the pipe its endpoint uses: the query read, or the refusal's message and field. */
function checked(shape: ApiSchemaName, query: Record<string, unknown>): unknown {
  try {
    return queryOf(shape).transform(query);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    const detail = error.refusal.detail as { message: string; field?: string };
    return { status: error.refusal.refused, message: detail.message, field: detail.field };
  }
}

describe('the reports queries', () => {
  it('take the parameters each report knows, with the CSV choices', () => {
    expect(checked('MonthlyReportQuery', { month: '2026-05' })).toEqual({ month: '2026-05' });
    const csv = checked('EpisodesQuery', { month: '2026-05', format: 'csv', separator: 'comma', bom: 'true' }) as Parameters<typeof csvOptions>[0];
    expect(csvOptions(csv)).toEqual({ separator: ',', bom: true });
    expect(csvOptions({ month: '2026-05', format: 'csv', separator: 'semicolon', bom: 'false' })).toEqual({ separator: ';', bom: false });
    expect(csvOptions({ month: '2026-05' })).toEqual({ separator: ';', bom: false });
    expect(checked('SeriesQuery', { municipality: '0680' })).toEqual({ municipality: '0680', months: 12 });
    expect(checked('SeriesQuery', { municipality: '0680', month: '2026-05', months: '36' })).toEqual({ municipality: '0680', month: '2026-05', months: 36 });
  });

  it.each<[ApiSchemaName, Record<string, unknown>, string, string]>([
    ['MonthlyReportQuery', { format: 'csv', bom: 'yes' }, 'bom', 'bom must be true or false'],
    ['MonthlyReportQuery', { format: 'csv', bom: '1' }, 'bom', 'bom must be true or false'],
    ['EpisodesQuery', { format: 'csv', separator: 'tab' }, 'separator', 'separator must be semicolon or comma'],
    ['MonthlyReportQuery', { format: 'xlsx' }, 'format', 'format must be json or csv'],
    ['MonthlyReportQuery', { bom: 'true' }, 'bom', 'bom applies to format=csv only'],
    ['EpisodesQuery', { format: 'json', separator: 'comma' }, 'separator', 'separator applies to format=csv only'],
    ['MonthlyReportQuery', { delimiter: ';' }, 'delimiter', 'delimiter is unknown (this request takes month, municipality, unit, format, separator, bom)'],
    ['MonthlyReportQuery', { format: ['csv', 'json'] }, 'format', 'format must be json or csv'],
    ['MonthlyReportQuery', { municipality: ['0680', '1480'] }, 'municipality', 'municipality must be given once'],
    ['EpisodesQuery', { month: '2026-13' }, 'month', 'month must be YYYY-MM'],
    ['EpisodesQuery', { month: undefined }, 'month', 'month is required'],
  ])('%s refuses %j with 400 naming %s', (shape, query, field, message) => {
    expect(checked(shape, { month: '2026-05', ...query })).toEqual({ status: 'invalid', field, message });
  });

  it.each<[Record<string, unknown>, string, string]>([
    [{ months: '37' }, 'months', 'months must be 1-36'],
    [{ months: '0' }, 'months', 'months must be 1-36'],
    [{ months: '1.0' }, 'months', 'months must be 1-36'],
    [{ months: '1e1' }, 'months', 'months must be 1-36'],
    [{ municipality: '' }, 'municipality', 'municipality is required'],
    [{ municipality: ['0680', '0680'] }, 'municipality', 'municipality must be given once'],
    [{ month: '2026-5' }, 'month', 'month must be YYYY-MM'],
    [{ monhts: '3' }, 'monhts', 'monhts is unknown (this request takes municipality, month, months)'],
  ])('the series refuses %j with 400 naming %s', (query, field, message) => {
    expect(checked('SeriesQuery', { municipality: '0680', ...query })).toEqual({ status: 'invalid', field, message });
  });
});
