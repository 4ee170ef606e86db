import type { PipeTransform } from '@nestjs/common';
import { problemOf, type ApiSchemaName } from './api-schemas';
import { refusal } from './outcome';

/**
 * Validates a request's body or query string against its shape in schemas/api.schema.json, at the
 * edge: a bad value is refused with 400 naming the field, before any service sees it. A query's empty
 * values count as absent (the shape's defaults apply), and its texts are coerced to the shape's types.
 */
export class SchemaPipe<T = unknown> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: ApiSchemaName,
    private readonly source: 'body' | 'query',
  ) {}

  transform(value: unknown): T {
    const input = this.source === 'query' ? withoutEmpty(value) : (value ?? {});
    const problem = problemOf(this.schema, input, this.source === 'query');
    if (problem === undefined) return input as T;
    throw refusal('invalid', { statusCode: 400, error: 'Bad Request', ...problem });
  }
}

function withoutEmpty(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value === null || typeof value !== 'object') return out;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) if (item !== '' && item !== undefined) out[key] = item;
  return out;
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
