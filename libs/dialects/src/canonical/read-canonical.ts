import type { Problem } from '@svu/canonical';
import type { Draft } from '../shared/draft';
import { isObject, parseJsonObject } from '../shared/json-read';
import { cleanText } from '../shared/text';

// The canonical message is four levels deep; anything deeper is left as it is for the schema to refuse.
const MAX_CLEAN_DEPTH = 8;

/** Reads canonical bytes (a UTF-8 JSON object) into a draft; the schema does the checking. */
export function readCanonical(bytes: Uint8Array): Draft | Problem {
  const parsed = parseJsonObject(bytes);
  if (!parsed.ok) return parsed.problem;
  return { message: clean(parsed.doc, 0) as Record<string, unknown>, problems: [] };
}

/** Trims every string, drops empty strings and lists (absent, per the contract) and `__proto__` keys. */
function clean(value: unknown, depth: number): unknown {
  if (depth > MAX_CLEAN_DEPTH) return value;
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => clean(item, depth + 1)).filter((item) => item !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (key === '__proto__') continue;
      const cleaned = clean(member, depth + 1);
      if (cleaned !== undefined) out[key] = cleaned;
    }
    return out;
  }
  return value;
}
