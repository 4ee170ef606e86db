import type { DeadLetterFilter as FilterShape } from '../common/http/generated/api';
import type { DeadLetterFilter } from '../store/dead-letters.repository';

/** What the dead-letter list can be narrowed to (all optional): the store's selection. */
export type { DeadLetterFilter };

/**
 * The store's filter from a filter the edge checked against its shape (SchemaPipe: DeadLetterListQuery,
 * or DeadLetterFilter in a bulk body: texts of at most 200 characters, a known status, dates that
 * read): its fields with a value, empty values and other keys (a page's cursor and limit, keys a body
 * may carry besides) left out.
 */
export function filterOf(checked: Readonly<FilterShape> | undefined): DeadLetterFilter {
  const { status, reason, dialect, recipient, type, from, to, q } = checked ?? {};
  const fields = { status, reason, dialect, recipient, type, from, to, q };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));
}

/**
 * The filter with its recipient text matched against the directory too: `recipientIds` holds the
 * HSA ids of the units whose name holds the text (any case), so `Hemsjukvård` finds their dead
 * letters as `1480` finds those whose HSA id holds 1480.
 */
export function withUnitNames(filter: DeadLetterFilter, units: ReadonlyArray<{ readonly hsaId: string; readonly name?: string }>): DeadLetterFilter {
  if (filter.recipient === undefined) return filter;
  const text = filter.recipient.toLocaleLowerCase('sv-SE');
  const recipientIds = units.filter((u) => u.name !== undefined && u.name.toLocaleLowerCase('sv-SE').includes(text)).map((u) => u.hsaId);
  return { ...filter, recipientIds };
}
