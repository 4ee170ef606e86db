import type { CsvOptions } from '@svu/reports';
import type { EpisodesQuery, MonthlyReportQuery } from '../common/http/generated/api';

/**
 * The CSV options of a reports query (docs/payment-liability.md, Reports): `separator` semicolon
 * (default) or comma, `bom` true or false. The query was checked at the edge against its shape
 * (MonthlyReportQuery, EpisodesQuery: every parameter known, each value one of its choices, the CSV
 * options with format=csv only).
 */
export function csvOptions(query: MonthlyReportQuery | EpisodesQuery): CsvOptions {
  return { separator: query.separator === 'comma' ? ',' : ';', bom: query.bom === 'true' };
}
