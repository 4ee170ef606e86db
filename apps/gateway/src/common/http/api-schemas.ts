import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import apiSchema from '../../../../../schemas/api.schema.json';

/**
 * The HTTP API's shapes, from schemas/api.schema.json (the single source of truth for JSON shapes):
 * the request validators of the edge pipes, and the components of the generated OpenAPI document.
 */
export type ApiSchemaName = keyof typeof apiSchema.$defs;

type JsonSchema = { readonly [key: string]: unknown };

export const API_SCHEMA_NAMES = Object.keys(apiSchema.$defs) as ApiSchemaName[];

/** A named shape as written in the schema file (its refs still point at #/$defs/...). */
export function apiSchemaOf(name: ApiSchemaName): JsonSchema {
  return apiSchema.$defs[name];
}

/** A schema with its `#/$defs/X` refs pointing at `#/components/schemas/X` (the OpenAPI document's components). */
export function asComponent<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/\$defs\//g, '"#/components/schemas/')) as T;
}

/** Every named shape, as OpenAPI 3.1 components (JSON Schema 2020-12 as they are). */
export function componentSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(API_SCHEMA_NAMES.map((name) => [name, asComponent(apiSchemaOf(name))]));
}

/** The properties of an object shape (a query's parameters), with whether each is required. */
export function propertiesOf(name: ApiSchemaName): Array<{ name: string; required: boolean; schema: JsonSchema }> {
  const schema = apiSchemaOf(name) as { properties?: Record<string, JsonSchema>; required?: string[] };
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, value]) => ({ name: key, required: required.has(key), schema: value }));
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function createApiAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, verbose: true, useDefaults: true, strictRequired: false, strictTypes: false });
  // Request fields that `new Date(...)` reads (a date, or an instant with or without offset), as the API took them before.
  ajv.addFormat('date-or-instant', { type: 'string', validate: (value: string) => !Number.isNaN(Date.parse(value)) });
  ajv.addFormat('date-time', { type: 'string', validate: (value: string) => INSTANT.test(value) && !Number.isNaN(Date.parse(value)) });
  // The text a refusal gives after the field name (an annotation; OpenAPI keeps it as it is).
  // A text, or texts by the failing keyword with "*" for the others.
  ajv.addKeyword({ keyword: 'x-message', schemaType: ['string', 'object'] });
  ajv.addSchema(apiSchema);
  return ajv;
}

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/**
 * The compiled validator of a named shape. Values are taken as they are: a query's texts are read as
 * its shape's types by `queryValues` first (ajv's own coercion would read "1e2" or "0x10" as numbers).
 */
export function validatorOf(name: ApiSchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (validate === undefined) {
    ajv ??= createApiAjv();
    validate = ajv.getSchema(`api.schema.json#/$defs/${name}`)!;
    validators.set(name, validate);
  }
  return validate;
}

const DIGITS = /^[0-9]+$/;

/**
 * A query string as its shape's values: empty values count as absent (the shape's defaults apply),
 * and a parameter the shape types as an integer is read from decimal digits only ("50" is 50; "1e2",
 * "+5", " 5" and "0x10" stay texts, which the shape then refuses). Any other value stays as it is.
 */
export function queryValues(name: ApiSchemaName, query: unknown): Record<string, unknown> {
  const integers = new Set(propertiesOf(name).filter((p) => p.schema['type'] === 'integer').map((p) => p.name));
  const out: Record<string, unknown> = {};
  if (query === null || typeof query !== 'object') return out;
  for (const [key, item] of Object.entries(query as Record<string, unknown>)) {
    if (item === '' || item === undefined) continue;
    out[key] = integers.has(key) && typeof item === 'string' && DIGITS.test(item) ? Number(item) : item;
  }
  return out;
}

/** The field an error is about, as a dotted path (`filter.from`), or undefined for the whole value. */
function fieldOf(error: ErrorObject): string | undefined {
  const segments = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') segments.push(String((error.params as { missingProperty: string }).missingProperty));
  if (error.keyword === 'additionalProperties') segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  return segments.length === 0 ? undefined : segments.join('.');
}

/** The schema of the field an error is about (for a missing field, its schema in the parent's properties). */
function fieldSchemaOf(error: ErrorObject): JsonSchema | undefined {
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return (error.parentSchema as { properties?: Record<string, JsonSchema> } | undefined)?.properties?.[missing];
  }
  return error.parentSchema;
}

/** The refusal of a request body that is not a JSON object as a whole (the pipe's, and the JSON parser's for `null`, a text, a number). */
export const BODY_NOT_AN_OBJECT = 'the request body must be a JSON object';

/** What was wrong with a value, naming the field first: "limit must be a whole number from 1 to 500", "lmit is unknown (this request takes limit)". */
export function describeError(error: ErrorObject): string {
  const field = fieldOf(error);
  if (error.keyword === 'additionalProperties') {
    const known = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    return `${field} is unknown (this request takes ${known.length === 0 ? 'none' : known.join(', ')})`;
  }
  let custom = fieldSchemaOf(error)?.['x-message'];
  if (custom !== null && typeof custom === 'object') custom = (custom as Record<string, unknown>)[error.keyword] ?? (custom as Record<string, unknown>)['*'];
  // Only a body can be other than an object as a whole (a query string always is one).
  if (field === undefined && error.keyword === 'type') return BODY_NOT_AN_OBJECT;
  const what = typeof custom === 'string' ? custom : error.keyword === 'required' ? 'is required' : (error.message ?? 'is not valid');
  return field === undefined ? `the request ${what}` : `${field} ${what}`;
}

/** The first problem of a value against a named shape, naming its field; undefined when the value fits. */
export function problemOf(schema: ApiSchemaName, value: unknown): { readonly message: string; readonly field?: string } | undefined {
  const validate = validatorOf(schema);
  if (validate(value)) return undefined;
  const error = validate.errors![0]!;
  const field = fieldOf(error) ?? (error.keyword === 'type' ? 'body' : undefined);
  return { message: describeError(error), ...(field === undefined ? {} : { field }) };
}
