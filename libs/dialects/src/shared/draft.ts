import type { Problem } from '@svu/canonical';

/** An object without its undefined members, so that a missing value reads as absent. */
export function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = member;
  return out as Partial<T>;
}

/** What a reader returns before validation: the draft canonical message and the problems found on the way. */
export interface Draft {
  readonly message: Record<string, unknown>;
  readonly problems: Problem[];
}
