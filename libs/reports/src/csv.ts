import { stringify } from 'csv-stringify/sync';

export interface CsvOptions {
  /** `;` (default: what Excel expects in a Swedish locale) or `,`. */
  readonly separator?: ';' | ',';
  /** Start with a UTF-8 byte order mark, so that Excel reads å, ä and ö right when opening the file. */
  readonly bom?: boolean;
}

/**
 * Every CSV the gateway writes goes through here (RFC 4180 via csv-stringify: CRLF line ends, a
 * field quoted when it holds the separator, a quote or a line break, quotes doubled). A text cell
 * that starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so that a
 * spreadsheet shows it as text instead of running it as a formula (CSV injection); numbers are left alone.
 */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>, options: CsvOptions = {}): string {
  const safe = (cell: string | number | boolean | null | undefined) => (typeof cell === 'boolean' ? String(cell) : typeof cell === 'string' && /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell ?? '');
  const text = stringify([header.map(safe), ...rows.map((row) => row.map(safe))], { delimiter: options.separator ?? ';', record_delimiter: 'windows' });
  return options.bom === true ? `\uFEFF${text}` : text;
}
