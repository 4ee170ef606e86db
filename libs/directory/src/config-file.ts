import { jsonSyntaxError, problemsFromAjv, problem, type Result } from '@svu/canonical';
import type { ValidateFunction } from 'ajv';

/**
 * A configuration file's text as JSON checked against its schema: the value, or the problems (one for
 * text that is not JSON, else one per schema error, each naming its field). The directory and the
 * senders file are both read this way before their own cross-entry checks.
 */
export function parseConfigJson<T>(text: string, validate: ValidateFunction<T>): Result<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [problem('document', [], jsonSyntaxError(text, error))] };
  }
  if (!validate(json)) return { ok: false, problems: problemsFromAjv(validate.errors ?? []) };
  return { ok: true, value: json };
}
