import { problem, type PathSegment, type Problem } from '@svu/canonical';
import { checkEnvelopeBytes, decodeUtf8, documentProblem } from './document';
import { cleanText } from './text';

export type JsonObject = Record<string, unknown>;

export type JsonResult = { readonly ok: true; readonly doc: JsonObject } | { readonly ok: false; readonly problem: Problem };

/** Decodes and parses a JSON document whose top level must be an object. */
export function parseJsonObject(bytes: Uint8Array): JsonResult {
  const early = checkEnvelopeBytes(bytes);
  if (early !== undefined) return { ok: false, problem: early };
  const text = decodeUtf8(bytes);
  if (text === undefined) return { ok: false, problem: documentProblem('is not valid UTF-8') };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: documentProblem(`is not valid JSON: ${(error as Error).message}`) };
  }
  if (!isObject(value)) return { ok: false, problem: documentProblem('must be a JSON object') };
  return { ok: true, doc: value };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own member of a parsed object (never one inherited through a `__proto__` key). */
export function member(object: JsonObject | undefined, key: string): unknown {
  return object !== undefined && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** A string member, cleaned; a member of another JSON type is reported at `path`. */
export function stringMember(
  object: JsonObject | undefined,
  key: string,
  path: readonly PathSegment[],
  problems: Problem[],
): string | undefined {
  const value = member(object, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    problems.push(problem('type', path, 'must be a string'));
    return undefined;
  }
  return cleanText(value);
}

/** An object member; a member of another JSON type is reported at `path`. */
export function objectMember(
  object: JsonObject | undefined,
  key: string,
  path: readonly PathSegment[],
  problems: Problem[],
): JsonObject | undefined {
  const value = member(object, key);
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push(problem('type', path, 'must be an object'));
    return undefined;
  }
  return value;
}

/** An array member, empty counting as absent; a member of another JSON type is reported at `path`. */
export function arrayMember(
  object: JsonObject | undefined,
  key: string,
  path: readonly PathSegment[],
  problems: Problem[],
): unknown[] | undefined {
  const value = member(object, key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    problems.push(problem('type', path, 'must be a list'));
    return undefined;
  }
  return value.length === 0 ? undefined : value;
}

/** A boolean member; a member of another JSON type is reported at `path`. */
export function booleanMember(
  object: JsonObject | undefined,
  key: string,
  path: readonly PathSegment[],
  problems: Problem[],
): boolean | undefined {
  const value = member(object, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    problems.push(problem('type', path, 'must be true or false'));
    return undefined;
  }
  return value;
}
