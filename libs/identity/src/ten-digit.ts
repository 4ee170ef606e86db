const TEN = /^(\d{2})(\d{4})([-+])(\d{4})$/;

/**
 * The ten-digit form `YYMMDD-NNNC` of a 12-digit identity; the separator is `+` from the calendar
 * year (`year`, the Swedish year of sending) in which the person turns 100.
 */
export function toTenDigit(id: string, year: number): string {
  const birthYear = Number(id.slice(0, 4));
  const separator = year - birthYear >= 100 ? '+' : '-';
  return `${id.slice(2, 8)}${separator}${id.slice(8)}`;
}

/**
 * The 12-digit identity of a ten-digit form: with `-` the birth year is the latest year ≤ `year`
 * that ends in YY; with `+` it is 100 years earlier still. Undefined when the form is wrong.
 */
export function fromTenDigit(value: string, year: number): string | undefined {
  const m = TEN.exec(value);
  if (m === null) return undefined;
  const yy = Number(m[1]);
  let birthYear = year - ((((year - yy) % 100) + 100) % 100);
  if (m[3] === '+') birthYear -= 100;
  if (birthYear < 0) return undefined;
  return `${String(birthYear).padStart(4, '0')}${m[2]}${m[4]}`;
}

const LIFECARE = /^(\d{8})-(\d{4})$/;

/** The `YYYYMMDD-NNNN` form used by lifecare. */
export function toHyphenated(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8)}`;
}

/** The 12-digit identity of a `YYYYMMDD-NNNN` form, or undefined when the form is wrong. */
export function fromHyphenated(value: string): string | undefined {
  const m = LIFECARE.exec(value);
  return m === null ? undefined : `${m[1]}${m[2]}`;
}
