import { problem, type PathSegment, type Problem } from '@svu/canonical';
import type { BodyField, BodyLayout } from './body-fields';
import { codeFromWire, codeToWire, type CanonicalCode, type CodeTable, type WireDialect } from './code-tables';

/** How a dialect carries instants and dates on the wire. */
export interface WireTime {
  /** The canonical instant, or undefined when the wire value is not one. */
  readInstant(raw: string): string | undefined;
  writeInstant(instant: string): string;
  readDate(raw: string): string | undefined;
  writeDate(date: string): string;
  /** Names the wire form in problem reports. */
  readonly instantForm: string;
  readonly dateForm: string;
}

/** A body field's raw value as found on the wire: one text or a list of texts. */
export type RawValue = string | readonly string[];

/** Reads the body fields of a layout; `get` fetches a field's cleaned wire value (undefined when absent). */
export function readBody(
  layout: BodyLayout,
  dialect: WireDialect,
  time: WireTime,
  get: (field: BodyField) => RawValue | undefined,
  problems: Problem[],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of layout.fields) {
    const raw = get(field);
    if (raw === undefined) continue;
    const value = readValue(field, raw, dialect, time, ['body', field.key], problems);
    if (value !== undefined) body[field.key] = value;
  }
  return body;
}

function readValue(
  field: BodyField,
  raw: RawValue,
  dialect: WireDialect,
  time: WireTime,
  path: PathSegment[],
  problems: Problem[],
): unknown {
  if (field.kind === 'codes') {
    const list = typeof raw === 'string' ? [raw] : raw;
    if (list.length === 0) return undefined;
    const codes = list.map((item, i) => readCode(field.table, dialect, item, [...path, i], problems));
    return codes.every((c) => c !== undefined) ? codes : undefined;
  }
  if (typeof raw !== 'string') {
    problems.push(problem('type', path, 'must be a single value, not a list'));
    return undefined;
  }
  switch (field.kind) {
    case 'text':
      return raw;
    case 'code':
      return readCode(field.table, dialect, raw, path, problems);
    case 'instant':
      return readTime(raw, time.readInstant(raw), time.instantForm, path, problems);
    case 'date':
      return readTime(raw, time.readDate(raw), time.dateForm, path, problems);
  }
}

function readTime(raw: string, value: string | undefined, form: string, path: PathSegment[], problems: Problem[]) {
  if (value === undefined) problems.push(problem('format', path, `${JSON.stringify(raw)} is not ${form}`));
  return value;
}

/** The canonical code for a wire code, reporting an unknown one at `path`. */
export function readCode<T extends CodeTable>(
  table: T,
  dialect: WireDialect,
  raw: string,
  path: readonly PathSegment[],
  problems: Problem[],
): CanonicalCode<T> | undefined {
  const code = codeFromWire(table, dialect, raw);
  if (code === undefined) problems.push(problem('code', path, `unknown code ${JSON.stringify(raw)}`));
  return code;
}

/** The body's fields in layout order as wire values (lists stay lists). */
export function writeBody(
  layout: BodyLayout,
  dialect: WireDialect,
  time: WireTime,
  body: Readonly<Record<string, unknown>>,
): Array<[BodyField, RawValue]> {
  const out: Array<[BodyField, RawValue]> = [];
  for (const field of layout.fields) {
    const value = body[field.key];
    if (value === undefined) continue;
    out.push([field, writeValue(field, value, dialect, time)]);
  }
  return out;
}

function writeValue(field: BodyField, value: unknown, dialect: WireDialect, time: WireTime): RawValue {
  switch (field.kind) {
    case 'text':
      return value as string;
    case 'code':
      return codeToWire(field.table, dialect, value as never);
    case 'codes':
      return (value as string[]).map((code) => codeToWire(field.table, dialect, code as never));
    case 'instant':
      return time.writeInstant(value as string);
    case 'date':
      return time.writeDate(value as string);
  }
}
