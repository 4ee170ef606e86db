import type { Problem } from '@svu/canonical';
import { formatPath } from '@svu/canonical';
import type { Queryable } from './database';

/** Copy states (SPEC store): the history of each is kept in copy_events. */
export type CopyState =
  | 'received'
  | 'routed'
  | 'sending'
  | 'retrying'
  | 'delivered'
  | 'acknowledged'
  | 'dead-lettered'
  | 'cancelled'
  | 'manual'
  | 'fallback'
  | 'delivered-by-hand';

/** States in which a copy no longer holds back later copies of its episode to the same recipient. */
export const SETTLED_STATES: readonly CopyState[] = ['delivered', 'acknowledged', 'dead-lettered', 'cancelled', 'manual'];

export type DeviationKind = 'late-on-arrival' | 'deadline-missed' | 'rejected-by-recipient' | 'dead-lettered';

export type DeadLetterReason = 'invalid-message' | 'unknown-recipient' | 'delivery-failed' | 'unprocessable';

/** Problems as stored and returned by the API: the canonical field path as text, and the reason. */
export function problemsJson(problems: readonly Problem[]): Array<{ path: string; message: string }> {
  return problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
}

export async function recordEvents(tx: Queryable, copyIds: readonly (number | string)[], state: CopyState, detail?: string): Promise<void> {
  if (copyIds.length === 0) return;
  await tx.query('INSERT INTO copy_events (copy_id, state, detail) SELECT unnest($1::bigint[]), $2, $3', [copyIds, state, detail ?? null]);
}

export interface DeadLetterRecord {
  readonly reason: DeadLetterReason;
  readonly messagePk?: number | string | null;
  readonly copyId?: number | string | null;
  readonly messageId?: string | null;
  readonly episodeId?: string | null;
  readonly type?: string | null;
  readonly dialect?: string | null;
  readonly recipientHsa?: string | null;
  readonly problems?: readonly Problem[];
  readonly lastError?: string | null;
  readonly payload?: Buffer | null;
}

export async function insertDeadLetter(tx: Queryable, record: DeadLetterRecord): Promise<string> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO dead_letters (reason, message_pk, copy_id, message_id, episode_id, type, dialect, recipient_hsa, problems, last_error, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [
      record.reason,
      record.messagePk ?? null,
      record.copyId ?? null,
      record.messageId ?? null,
      record.episodeId ?? null,
      record.type ?? null,
      record.dialect ?? null,
      record.recipientHsa ?? null,
      record.problems === undefined ? null : JSON.stringify(problemsJson(record.problems)),
      record.lastError ?? null,
      record.payload ?? null,
    ],
  );
  return rows.rows[0]!.id;
}

export async function insertDeviation(
  tx: Queryable,
  kind: DeviationKind,
  fields: { messageId?: string | null; copyId?: number | string | null; unitHsa?: string | null; detail?: string | null; at?: Date },
): Promise<void> {
  await tx.query('INSERT INTO deviations (kind, message_id, copy_id, unit_hsa, detail, at) VALUES ($1, $2, $3, $4, $5, $6)', [
    kind,
    fields.messageId ?? null,
    fields.copyId ?? null,
    fields.unitHsa ?? null,
    fields.detail ?? null,
    fields.at ?? new Date(),
  ]);
}
