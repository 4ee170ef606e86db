/** What the dead-letter list can be narrowed to (all optional). */
export interface DeadLetterFilter {
  readonly status?: 'open' | 'resolved' | 'all';
  readonly reason?: string;
  readonly dialect?: string;
  readonly recipient?: string;
  readonly type?: string;
  /** Created at or after this instant. */
  readonly from?: string;
  /** Created before this instant. */
  readonly to?: string;
  /** A message id or episode id, exactly. */
  readonly q?: string;
}

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

/** SQL conditions for a filter, with their parameters numbered from `first`. */
export function filterSql(filter: DeadLetterFilter, first = 1): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${first + params.length - 1}`));
  };
  const status = filter.status ?? 'open';
  if (status === 'open') conditions.push('resolved_at IS NULL');
  if (status === 'resolved') conditions.push('resolved_at IS NOT NULL');
  if (filter.reason !== undefined) add('reason = ?', filter.reason);
  if (filter.dialect !== undefined) add('dialect = ?', filter.dialect);
  if (filter.recipient !== undefined) add('recipient_hsa = ?', filter.recipient);
  if (filter.type !== undefined) add('type = ?', filter.type);
  if (filter.from !== undefined) add('created_at >= ?', new Date(filter.from));
  if (filter.to !== undefined) add('created_at < ?', new Date(filter.to));
  if (filter.q !== undefined) {
    params.push(filter.q);
    const n = first + params.length - 1;
    conditions.push(`(message_id = $${n} OR episode_id = $${n})`);
  }
  return { where: conditions.length === 0 ? 'TRUE' : conditions.join(' AND '), params };
}
