import type { CsvOptions } from '@svu/reports';

/** A query parameter the reports API does not take, or a value it does not know: answered 400 with this message. */
export class ReportQueryError extends Error {}

const CHOICES = {
  format: ['json', 'csv'],
  separator: ['semicolon', 'comma'],
  bom: ['true', 'false'],
} as const;

export interface ReportQuery {
  readonly params: Readonly<Record<string, string>>;
  readonly format: 'json' | 'csv';
  readonly csv: CsvOptions;
}

/**
 * Checks a reports request's query (docs/payment-liability.md, Reports): every parameter must be one
 * the endpoint takes (`allowed`), given once; `format` is json or csv, `separator` semicolon or comma,
 * `bom` true or false, the last two with format=csv only. Nothing is ignored silently: anything else
 * throws a ReportQueryError naming the parameter and what it accepts.
 */
export function reportQuery(query: Record<string, unknown>, allowed: readonly string[]): ReportQuery {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name)) throw new ReportQueryError(`unknown parameter ${JSON.stringify(name)} (this report takes ${allowed.join(', ')})`);
    if (typeof value !== 'string') throw new ReportQueryError(`${name} must be given once`);
    const choices = (CHOICES as Record<string, readonly string[] | undefined>)[name];
    if (choices !== undefined && !choices.includes(value)) throw new ReportQueryError(`${name} must be ${choices.join(' or ')}, got ${JSON.stringify(value)}`);
    params[name] = value;
  }
  const format = params['format'] === 'csv' ? 'csv' : 'json';
  for (const name of ['separator', 'bom']) {
    if (params[name] !== undefined && format !== 'csv') throw new ReportQueryError(`${name} applies to format=csv only`);
  }
  return { params, format, csv: { separator: params['separator'] === 'comma' ? ',' : ';', bom: params['bom'] === 'true' } };
}
