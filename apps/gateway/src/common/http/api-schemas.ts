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

function createApiAjv(coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, verbose: true, coerceTypes, useDefaults: true, strictRequired: false, strictTypes: false });
  // Request fields that `new Date(...)` reads (a date, or an instant with or without offset), as the API took them before.
  ajv.addFormat('date-or-instant', { type: 'string', validate: (value: string) => !Number.isNaN(Date.parse(value)) });
  ajv.addFormat('date-time', { type: 'string', validate: (value: string) => INSTANT.test(value) && !Number.isNaN(Date.parse(value)) });
  // The text a refusal gives after the field name (an annotation; OpenAPI keeps it as it is).
  // A text, or texts by the failing keyword with "*" for the others.
  ajv.addKeyword({ keyword: 'x-message', schemaType: ['string', 'object'] });
  ajv.addSchema(apiSchema);
  return ajv;
}

const ajvs = new Map<boolean, Ajv2020>();
const validators = new Map<string, ValidateFunction>();

/**
 * The compiled validator of a named shape. Query strings are coerced to the shape's types (a limit of
 * "50" is the number 50); bodies are JSON and are taken as they are.
 */
export function validatorOf(name: ApiSchemaName, coerce: boolean): ValidateFunction {
  const key = `${coerce ? 'q' : 'b'}:${name}`;
  let validate = validators.get(key);
  if (validate === undefined) {
    let ajv = ajvs.get(coerce);
    if (ajv === undefined) ajvs.set(coerce, (ajv = createApiAjv(coerce)));
    validate = ajv.getSchema(`api.schema.json#/$defs/${name}`)!;
    validators.set(key, validate);
  }
  return validate;
}

/** The field an error is about, as a dotted path (`filter.from`), or undefined for the whole value. */
function fieldOf(error: ErrorObject): string | undefined {
  const segments = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') segments.push(String((error.params as { missingProperty: string }).missingProperty));
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

/** What was wrong with a value, naming the field first: "limit must be a whole number from 1 to 500". */
export function describeError(error: ErrorObject): string {
  const field = fieldOf(error);
  let custom = fieldSchemaOf(error)?.['x-message'];
  if (custom !== null && typeof custom === 'object') custom = (custom as Record<string, unknown>)[error.keyword] ?? (custom as Record<string, unknown>)['*'];
  const what = typeof custom === 'string' ? custom : error.keyword === 'required' ? 'is required' : (error.message ?? 'is not valid');
  return field === undefined ? `the request ${what}` : `${field} ${what}`;
}

/** The first problem of a value against a named shape, naming its field; undefined when the value fits. */
export function problemOf(schema: ApiSchemaName, value: unknown, coerce = false): { readonly message: string; readonly field?: string } | undefined {
  const validate = validatorOf(schema, coerce);
  if (validate(value)) return undefined;
  const error = validate.errors![0]!;
  const field = fieldOf(error);
  return { message: describeError(error), ...(field === undefined ? {} : { field }) };
}
