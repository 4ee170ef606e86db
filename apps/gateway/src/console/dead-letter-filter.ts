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
