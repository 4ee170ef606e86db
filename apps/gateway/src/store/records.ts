import type { Problem } from '@svu/canonical';
import { formatPath } from '@svu/canonical';
import type { CopyState } from './copy-lifecycle';
import type { Queryable } from './database';

export type { CopyEvent, CopyState } from './copy-lifecycle';

/** States in which a copy no longer holds back later copies of its episode to the same recipient. */
export const SETTLED_STATES: readonly CopyState[] = ['delivered', 'acknowledged', 'dead-lettered', 'cancelled', 'manual'];

export type DeviationKind =
  | 'late-on-arrival'
  | 'deadline-missed'
  | 'rejected-by-recipient'
  | 'dead-lettered'
  // A cancellation or acknowledgement refused at ingress (docs/senders.md, ownership).
  | 'cancellation-not-owner'
  | 'acknowledgement-not-addressed';

/** Why ingress refused a message its sender system sent (HTTP 403 or 409; AMQP: dead letter only). */
export type RefusalReason = 'sender-not-allowed' | 'cancellation-not-owner' | 'acknowledgement-not-addressed' | 'message-id-conflict';

/** Every reason a dead letter can have (metrics show each, 0 when there is none). */
export const DEAD_LETTER_REASONS = [
  'invalid-message',
  'unknown-recipient',
  'delivery-failed',
  'unprocessable',
  'unauthenticated',
  'sender-not-allowed',
  'cancellation-not-owner',
  'acknowledgement-not-addressed',
  'message-id-conflict',
] as const satisfies ReadonlyArray<'invalid-message' | 'unknown-recipient' | 'delivery-failed' | 'unprocessable' | 'unauthenticated' | RefusalReason>;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Dead letters of messages refused at ingress: their bodies are kept SVU_REFUSED_RETENTION at most. */
export const REFUSED_AT_INGRESS: readonly DeadLetterReason[] = [
  'invalid-message',
  'sender-not-allowed',
  'cancellation-not-owner',
  'acknowledgement-not-addressed',
  'message-id-conflict',
];

// Control characters other than tab and newline, and halves of surrogate pairs standing alone.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LONGEST = 500;

/**
 * Text taken from a refused message (a reason that quotes it, an id read without validation) made safe
 * to store: PostgreSQL text and jsonb take neither NUL nor a lone surrogate, so those become U+FFFD,
 * and an overlong quote is cut.
 */
export function storable(text: string): string {
  const clean = text.replace(UNSTORABLE, '\uFFFD');
  return clean.length > LONGEST ? `${clean.slice(0, LONGEST)}…` : clean;
}

/** Problems as stored and returned by the API: the canonical field path as text, and the reason. */
export function problemsJson(problems: readonly Problem[]): Array<{ path: string; message: string }> {
  return problems.map((p) => ({ path: storable(formatPath(p.path)), message: storable(p.message) }));
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
  /** The sender system that sent the message, for a message refused at ingress. */
  readonly senderSystem?: string | null;
}

export async function insertDeadLetter(tx: Queryable, record: DeadLetterRecord): Promise<string> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO dead_letters (reason, message_pk, copy_id, message_id, episode_id, type, dialect, recipient_hsa, problems, last_error, payload, sender_system)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [
      record.reason,
      record.messagePk ?? null,
      record.copyId ?? null,
      record.messageId === undefined || record.messageId === null ? null : storable(record.messageId),
      record.episodeId === undefined || record.episodeId === null ? null : storable(record.episodeId),
      record.type === undefined || record.type === null ? null : storable(record.type),
      record.dialect ?? null,
      record.recipientHsa ?? null,
      record.problems === undefined ? null : JSON.stringify(problemsJson(record.problems)),
      record.lastError ?? null,
      record.payload ?? null,
      record.senderSystem ?? null,
    ],
  );
  return rows.rows[0]!.id;
}
