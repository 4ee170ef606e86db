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
    const problem = problemOf(this.schema, input);
    if (problem === undefined) return input as T;
    throw refusal('invalid', { statusCode: 400, error: 'Bad Request', ...problem });
  }
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
