import { Injectable } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import { copyParams, newCopiesSql, type CopyToStore } from './copies.repository';
import { Database, prepared, type Queryable } from './database';

/** A valid message as ingress stores it. */
export interface MessageToStore {
  readonly messageId: string;
  readonly type: string;
  readonly episodeId: string;
  readonly senderHsa: string;
  /** The dialect it came in. */
  readonly dialect: string;
  /** How it came in (http, amqp, replay). */
  readonly ingress: string;
  readonly sentAt: string;
  /** The body as received. */
  readonly payload: Buffer;
  readonly canonical: CanonicalMessage;
  /** docs/rules.md, rule 2: an admission's notifyBy; null for other types. */
  readonly notifyBy: string | null;
  readonly lateOnArrival: boolean;
  /** The sender system whose credential came with it: message ids are unique per sender system. */
  readonly senderSystem: string;
}

/** A message stored now: its primary key, by sender system and message id. */
export interface StoredMessage {
  readonly id: string;
  readonly message_id: string;
  readonly sender_system: string;
}

/** Takes the advisory lock of every episode in parameter $`param` (text[]), in one global order. */
function episodeLocksSql(param: number): string {
  return `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(e, 0) AS h FROM unnest($${param}::text[]) AS e ORDER BY 1) AS locks`;
}

/** Inserts the messages of `messageParams` ($1–$13) that `where` lets through; returns those not stored before. */
function insertMessagesSql(where: string): string {
  return `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival, sender_system, received_at)
  SELECT message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, sender_system, $13
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[], $9::jsonb[], $10::timestamptz[], $11::boolean[], $12::text[])
    WITH ORDINALITY AS m(message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, sender_system, n)
  ${where} ORDER BY n
  ON CONFLICT (sender_system, message_id) DO NOTHING RETURNING id, message_id, sender_system, episode_id, type, notify_by`;
}

/** The parameters $1–$13 of insertMessagesSql: a column each, and when they were received. */
function messageParams(messages: readonly MessageToStore[], receivedAt: Date): unknown[] {
  return [
    messages.map((m) => m.messageId),
    messages.map((m) => m.type),
    messages.map((m) => m.episodeId),
    messages.map((m) => m.senderHsa),
    messages.map((m) => m.dialect),
    messages.map((m) => m.ingress),
    messages.map((m) => m.sentAt),
    messages.map((m) => m.payload),
    messages.map((m) => JSON.stringify(m.canonical)),
    messages.map((m) => m.notifyBy),
    messages.map((m) => m.lateOnArrival),
    messages.map((m) => m.senderSystem),
    receivedAt,
  ];
}

/** The episodes of `messages`, each once. */
function episodesOf(messages: readonly MessageToStore[]): string[] {
  return [...new Set(messages.map((m) => m.episodeId))];
}

/** storeSimple's statement: `messageParams` ($1–$13), the episodes ($14), `copyParams` ($15–$19). */
const STORE_SIMPLE = prepared(`WITH locks AS (${episodeLocksSql(14)}),
  stored AS (${insertMessagesSql('WHERE (SELECT count(*) FROM locks) >= 0')}),
  ${newCopiesSql(15)}
  SELECT id, message_id, sender_system FROM stored`);

/**
 * The messages: what ingress stores (the messages of a batch, in one statement with their copies when
 * they change nothing stored before), the lookups of messages stored before (a duplicate, the message
 * a cancellation names), day 0 of ready-for-discharge notices, and the patients' names the console
 * hides from viewers. Messages of one episode are stored one transaction at a time: every statement
 * that stores messages takes the episodes' advisory locks first, in one global order, so that the
 * order of copy ids (which egress follows) is the order of the commits, and batches cannot deadlock.
 */
@Injectable()
export class MessagesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Ingress (`accept`, `accept-withheld`): a batch that acts on nothing stored before, with its copies
   * and their first events, in one statement (its own transaction). Returns the messages stored now
   * (a message id its sender system used before is left out).
   */
  async storeSimple(messages: readonly MessageToStore[], receivedAt: Date, copies: readonly CopyToStore[]): Promise<StoredMessage[]> {
    if (messages.length === 0) return [];
    return this.db.query<StoredMessage & Record<string, unknown>>(STORE_SIMPLE, [...messageParams(messages, receivedAt), episodesOf(messages), ...copyParams(copies)]);
  }

  /** Ingress: waits for the locks of the episodes of `messages` (held until `tx` ends), as storeSimple takes them. */
  async lockEpisodes(tx: Queryable, messages: readonly MessageToStore[]): Promise<void> {
    await tx.query(episodeLocksSql(1), [episodesOf(messages)]);
  }

  /** Ingress: stores `messages` in `tx` (after lockEpisodes); returns those stored now. Their copies: CopiesRepository.accept. */
  async insert(tx: Queryable, messages: readonly MessageToStore[], receivedAt: Date): Promise<StoredMessage[]> {
    return (await tx.query<StoredMessage>(insertMessagesSql(''), messageParams(messages, receivedAt))).rows;
  }

  /** Ingress: a message refused after it was inserted in `tx` (nothing refers to it yet); it is kept only as a dead letter. */
  async deleteRefused(tx: Queryable, pk: string): Promise<void> {
    await tx.query('DELETE FROM messages WHERE id = $1', [pk]);
  }

  /**
   * Ingress: for each message (by its place, from 1) whose sender system used its message id before,
   * whether the stored message is the same (a duplicate) or another one (a conflict). Messages not
   * stored at all have no row.
   */
  sameAsStored(messages: ReadonlyArray<{ senderSystem: string; messageId: string; canonical: CanonicalMessage }>): Promise<Array<{ n: number; same: boolean }>> {
    return this.db.query<{ n: number; same: boolean }>(
      `SELECT r.n::int AS n, m.canonical = r.c AS same FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS r(s, mid, c, n)
         JOIN messages m ON m.sender_system = r.s AND m.message_id = r.mid`,
      [messages.map((m) => m.senderSystem), messages.map((m) => m.messageId), messages.map((m) => JSON.stringify(m.canonical))],
    );
  }

  /** Ingress: the sender system and episode of every message with id `messageId` but the one stored as `exceptPk`. */
  async othersWithId(tx: Queryable, messageId: string, exceptPk: string): Promise<Array<{ senderSystem: string; episodeId: string }>> {
    return (
      await tx.query<{ senderSystem: string; episodeId: string }>(
        'SELECT sender_system AS "senderSystem", episode_id AS "episodeId" FROM messages WHERE message_id = $1 AND id <> $2',
        [messageId, exceptPk],
      )
    ).rows;
  }

  /** Ingress (docs/rules.md, rule 4): day 0 of an episode, set by a ready-for-discharge notice; the first record of a message stands. */
  async recordDayZero(tx: Queryable, zero: { episodeId: string; messageId: string; dayZero: string; sentAt: string }, recordedAt: Date): Promise<void> {
    await tx.query('INSERT INTO day_zero (episode_id, message_id, day_zero, sent_at, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (episode_id, message_id) DO NOTHING', [
      zero.episodeId,
      zero.messageId,
      zero.dayZero,
      zero.sentAt,
      recordedAt,
    ]);
  }

  /** Ingress: a cancelled ready-for-discharge notice no longer sets day 0 (kept, marked, as history). */
  async cancelDayZero(tx: Queryable, messageId: string, episodeId: string, at: Date): Promise<void> {
    await tx.query('UPDATE day_zero SET cancelled_at = $3 WHERE message_id = $1 AND episode_id = $2 AND cancelled_at IS NULL', [messageId, episodeId, at]);
  }

  /** Console (viewers): the patients' given and family names of the messages with these message or episode ids. */
  patientNames(ids: readonly string[]): Promise<Array<{ given: string | null; family: string | null }>> {
    return this.db.query<{ given: string | null; family: string | null }>(
      `SELECT DISTINCT canonical -> 'patient' ->> 'givenName' AS given, canonical -> 'patient' ->> 'familyName' AS family
       FROM messages WHERE message_id = ANY($1) OR episode_id = ANY($1)`,
      [ids],
    );
  }
}
