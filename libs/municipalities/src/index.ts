/**
 * Sweden's municipalities (kommuner) and counties (län) by code: the 290 four-digit kommunkoder,
 * whose first two digits are the county's code (docs/municipalities.md). Plain data and functions,
 * no framework, so that any part of the project (reports, fallback documents) can use it.
 */
import data from './municipalities.json';

export interface Municipality {
  /** Four-digit kommunkod, e.g. `0680`. */
  readonly code: string;
  readonly name: string;
  /** Two-digit county (län) code, e.g. `06`. */
  readonly countyCode: string;
  readonly countyName: string;
}

const COUNTIES: Readonly<Record<string, string>> = data.counties;
const NAMES: Readonly<Record<string, string>> = data.municipalities;

/** Every municipality, in code order. */
export const MUNICIPALITIES: readonly Municipality[] = Object.keys(NAMES)
  .sort()
  .map((code) => ({ code, name: NAMES[code]!, countyCode: code.slice(0, 2), countyName: COUNTIES[code.slice(0, 2)]! }));

/** Every county: code and name, in code order. */
export const COUNTIES_LIST: ReadonlyArray<{ readonly code: string; readonly name: string }> = Object.keys(COUNTIES)
  .sort()
  .map((code) => ({ code, name: COUNTIES[code]! }));

const own = (record: Readonly<Record<string, string>>, key: string) => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);

/** The municipality of a kommunkod, or undefined for a code that is not one of the 290. */
export function municipality(code: string): Municipality | undefined {
  const name = own(NAMES, code);
  return name === undefined ? undefined : { code, name, countyCode: code.slice(0, 2), countyName: COUNTIES[code.slice(0, 2)]! };
}

/** The municipality's name (`0680` → `Jönköping`), or undefined for an unknown code. */
export function municipalityName(code: string): string | undefined {
  return own(NAMES, code);
}

/** The county of a kommunkod (`0680` → `{ code: '06', name: 'Jönköpings län' }`), or undefined when the code is not a municipality. */
export function county(code: string): { readonly code: string; readonly name: string } | undefined {
  if (own(NAMES, code) === undefined) return undefined;
  const countyCode = code.slice(0, 2);
  return { code: countyCode, name: COUNTIES[countyCode]! };
}

/** The municipalities of one county (two-digit code). */
export function municipalitiesOf(countyCode: string): readonly Municipality[] {
  return MUNICIPALITIES.filter((m) => m.countyCode === countyCode);
}
