import type { DeadLetterFilter } from '../store/dead-letters.repository';

/** What the dead-letter list can be narrowed to (all optional): the store's selection. */
export type { DeadLetterFilter };

const TEXT_FIELDS = ['reason', 'dialect', 'recipient', 'type', 'from', 'to', 'q'] as const;

/** Reads a filter from query-string or JSON values; unknown keys are ignored, bad values refused. */
export function parseFilter(raw: Record<string, unknown>): DeadLetterFilter | string {
  const out: Record<string, string> = {};
  const status = raw['status'];
  if (status !== undefined && status !== '' && status !== 'open' && status !== 'resolved' && status !== 'all') {
    return 'status must be open, resolved or all';
  }
  if (typeof status === 'string' && status !== '') out['status'] = status;
  for (const key of TEXT_FIELDS) {
    const value = raw[key];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 200) return `${key} must be a text of at most 200 characters`;
    if ((key === 'from' || key === 'to') && Number.isNaN(Date.parse(value))) return `${key} must be a date or an instant`;
    out[key] = value;
  }
  return out;
}
