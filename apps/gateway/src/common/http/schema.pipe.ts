import type { PipeTransform } from '@nestjs/common';
import { problemOf, queryValues, type ApiSchemaName } from './api-schemas';
import { refusal } from './outcome';

/**
 * Validates a request's body or query string against its shape in schemas/api.schema.json, at the
 * edge: a bad value is refused with 400 naming the field, before any service sees it. A query's empty
 * values count as absent (the shape's defaults apply), its integers are decimal digits only
 * (`queryValues`), and a parameter its shape does not name is refused.
 */
export class SchemaPipe<T = unknown> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: ApiSchemaName,
    private readonly source: 'body' | 'query',
  ) {}

  transform(value: unknown): T {
    const input = this.source === 'query' ? queryValues(this.schema, value) : (value ?? {});
    const problem = problemOf(this.schema, input) ?? nulProblem(input);
    if (problem === undefined) return input as T;
    throw refusal('invalid', { statusCode: 400, error: 'Bad Request', ...problem });
  }
}

/**
 * A text with the NUL character (U+0000) anywhere in the request: PostgreSQL's text cannot hold it,
 * so it is refused here, naming the field, rather than failing half-way through a service's writes.
 */
export function nulProblem(value: unknown, path = ''): { readonly message: string; readonly field: string } | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? { message: `${path || 'body'} must not contain the NUL character (U+0000)`, field: path || 'body' } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = nulProblem(item, path === '' ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The body of a request, validated against a named shape. */
export const bodyOf = <T>(schema: ApiSchemaName) => new SchemaPipe<T>(schema, 'body');
/** The query string of a request, validated against a named shape. */
export const queryOf = <T>(schema: ApiSchemaName) => new SchemaPipe<T>(schema, 'query');

const ID = /^\d{1,18}$/;

/** A numeric id in a path: anything else names no item (404), as an id that does not exist. */
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!ID.test(value)) throw refusal('not-found', 'no such id');
    return value;
  }
}
