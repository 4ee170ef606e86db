import type { ErrorObject } from 'ajv/dist/2020';
import { problem, type PathSegment, type Problem } from './problem';

/** Turns ajv errors into problems at canonical field paths, with reasons a person can act on. */
export function problemsFromAjv(errors: readonly ErrorObject[]): Problem[] {
  const out: Problem[] = [];
  for (const error of errors) {
    const converted = fromAjvError(error);
    if (converted !== undefined) out.push(converted);
  }
  return out;
}

export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function described(error: ErrorObject, fallback: string): string {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' ? description : fallback;
}

function fromAjvError(error: ErrorObject): Problem | undefined {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return problem('required', [...path, String(params['missingProperty'])], 'is required');
    case 'type':
      return problem('type', path, `must be ${article(String(params['type']))}`);
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).join(', ');
      return problem('code', path, `unknown code ${JSON.stringify(error.data)} (allowed: ${allowed})`);
    }
    case 'pattern':
    case 'format':
      return problem('format', path, described(error, 'has the wrong format'));
    case 'minLength':
      return problem('length', path, `must be at least ${String(params['limit'])} characters`);
    case 'maxLength':
      return problem('length', path, `must be at most ${String(params['limit'])} characters`);
    case 'minItems':
      return problem('count', path, `must have at least ${String(params['limit'])} entries`);
    case 'maxItems':
      return problem('count', path, `must have at most ${String(params['limit'])} entries`);
    case 'uniqueItems':
      return problem('duplicate', [...path, Number(params['i'])], 'repeats an earlier entry');
    case 'not':
    case 'const':
      return problem('rule', path, described(error, 'has a value that is not allowed here'));
    case 'additionalProperties':
      // Name the key: "must NOT have additional properties" does not say which.
      return problem('rule', [...path, String(params['additionalProperty'])], 'is not a known key');
    case 'if':
      // The failing "then" branch reports the real problem.
      return undefined;
    default:
      return problem('rule', path, error.message ?? 'is not valid');
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
