import { Injectable } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import { copyParams, newCopiesSql, type CopyToStore } from './copies.repository';
import { listEpisodesSql } from './report-pending';
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
  ${newCopiesSql(15)},
  ${listEpisodesSql('listed', 'stored')}
  SELECT id, message_id, sender_system FROM stored`);

/** insert's statement: `messageParams` ($1–$13), the stored messages' episodes listed for the summary. */
const INSERT = `WITH stored AS (${insertMessagesSql('')}), ${listEpisodesSql('listed', 'stored')} SELECT * FROM stored`;

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
    return (await tx.query<StoredMessage>(INSERT, messageParams(messages, receivedAt))).rows;
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
  /**
   * Console (search): the messages with this message or episode id, or whose patient's identity
   * number hashes to `patientHash` (messages.patient_id_hash), newest first, each with its copies'
   * recipients and states; and the messages refused at ingress (kept only as dead letters) with this
   * message or episode id.
   */
  search(id: string, patientHash: Buffer | null, limit: number): Promise<MessageHit[]> {
    // Each condition on an index of its own (messages_message_id, messages_episode, messages_patient_id_hash).
    const byPatient = patientHash === null ? '' : ' OR m.patient_id_hash = $3';
    return this.db.query<MessageHit & Record<string, unknown>>(
      `SELECT * FROM (
         SELECT m.message_id AS "messageId", m.type, m.episode_id AS "episodeId", m.sender_hsa AS "senderHsa", m.canonical -> 'sender' ->> 'name' AS "senderWrittenName",
           m.sender_system AS "senderSystem", m.dialect, m.received_at AS "receivedAt", NULL::text AS "refusedAs", NULL::text AS "deadLetterId",
           coalesce((SELECT json_agg(json_build_object('recipientHsa', c.recipient_hsa, 'state', c.state) ORDER BY c.id) FROM copies c WHERE c.message_pk = m.id), '[]') AS copies
         FROM messages m
         WHERE m.message_id = $1 OR m.episode_id = $1${byPatient}
         UNION ALL
         SELECT d.message_id, d.type, d.episode_id, NULL, NULL, d.sender_system, d.dialect, d.created_at, d.reason, d.id::text, '[]'::json
         FROM dead_letters d
         WHERE d.message_pk IS NULL AND (d.message_id = $1 OR d.episode_id = $1)
       ) hits ORDER BY "receivedAt" DESC LIMIT $2`,
      patientHash === null ? [id, limit] : [id, limit, patientHash],
    );
  }

  /** Console (timeline): every stored message with this message id (one per sender system that used it). */
  withId(messageId: string): Promise<Array<Record<string, unknown>>> {
    return this.db.query(
      `SELECT id AS pk, message_id AS "messageId", type, episode_id AS "episodeId", sender_hsa AS "senderHsa", canonical -> 'sender' ->> 'name' AS "senderWrittenName", sender_system AS "senderSystem",
         dialect, ingress, received_at AS "receivedAt", sent_at AS "sentAt", notify_by AS "notifyBy", late_on_arrival AS "lateOnArrival",
         payload_pruned_at AS "payloadPrunedAt",
         canonical -> 'body' ->> 'cancelsMessageId' AS "cancelsMessageId", canonical -> 'body' ->> 'acknowledgesMessageId' AS "acknowledgesMessageId"
       FROM messages WHERE message_id = $1 ORDER BY id`,
      [messageId],
    );
  }

  /**
   * Console (timeline): what happened to the stored message `pk` after it came in: its copies with
   * every event (and each failed attempt's endpoint, status and answer), the fallback documents, the
   * dead letters, the cancellation that withdrew it and the acknowledgements that answer it.
   */
  async timelineOf(pk: string, messageId: string, senderSystem: string, episodeId: string): Promise<{
    copies: Array<Record<string, unknown>>;
    documents: Array<Record<string, unknown>>;
    deadLetters: Array<Record<string, unknown>>;
    cancellations: Array<Record<string, unknown>>;
    acknowledgements: Array<Record<string, unknown>>;
  }> {
    const [copies, documents, deadLetters, cancellations, acknowledgements] = await Promise.all([
      this.db.query(
        `SELECT c.id, c.recipient_hsa AS "recipientHsa", c.recipient_role AS "recipientRole", c.dialect, c.state, c.attempts,
           c.last_error AS "lastError", c.last_attempt AS "lastAttempt", c.delivered_at AS "deliveredAt", c.acknowledged_at AS "acknowledgedAt",
           c.manual_delivered_at AS "manualDeliveredAt", c.notify_by AS "notifyBy", c.fallback_at AS "fallbackAt",
           coalesce((SELECT json_agg(json_build_object('at', e.at, 'state', e.state, 'detail', e.detail, 'attempt', e.attempt) ORDER BY e.id)
             FROM copy_events e WHERE e.copy_id = c.id), '[]') AS events
         FROM copies c WHERE c.message_pk = $1 ORDER BY c.id`,
        [pk],
      ),
      this.db.query(
        `SELECT f.id, f.recipient_hsa AS "recipientHsa", f.kind, f.trigger, f.reference, f.status, f.created_at AS "createdAt",
           f.sent_via AS "sentVia", f.sent_at AS "sentAt", f.sent_by AS "sentBy", f.withdrawn_at AS "withdrawnAt"
         FROM fallback_documents f JOIN copies c ON c.id = f.copy_id WHERE c.message_pk = $1 ORDER BY f.id`,
        [pk],
      ),
      this.db.query(
        `SELECT id, reason, recipient_hsa AS "recipientHsa", last_error AS "lastError", created_at AS "createdAt",
           resolved_at AS "resolvedAt", resolution, resolved_by AS "resolvedBy"
         FROM dead_letters WHERE message_pk = $1 ORDER BY id`,
        [pk],
      ),
      this.db.query(
        `SELECT cancelled_by AS "cancelledBy", cancelled_at AS "cancelledAt" FROM message_cancellations WHERE sender_system = $1 AND message_id = $2`,
        [senderSystem, messageId],
      ),
      this.db.query(
        // An acknowledgement belongs to the episode of the message it answers (index messages_episode).
        `SELECT message_id AS "messageId", sender_hsa AS "senderHsa", received_at AS "receivedAt", canonical -> 'body' ->> 'status' AS status
         FROM messages WHERE episode_id = $2 AND type = 'acknowledgement' AND canonical -> 'body' ->> 'acknowledgesMessageId' = $1 ORDER BY id LIMIT 50`,
        [messageId, episodeId],
      ),
    ]);
    return { copies, documents, deadLetters, cancellations, acknowledgements };
  }

  /** Console (correct-and-replay of a copy): the message as corrected, read in its own dialect. */
  async correct(pk: string, payload: Buffer, canonical: CanonicalMessage): Promise<void> {
    await this.db.query('UPDATE messages SET payload = $2, canonical = $3 WHERE id = $1', [pk, payload, JSON.stringify(canonical)]);
  }
}

/** A search hit: a stored message with its copies, or a message refused at ingress (a dead letter). */
export interface MessageHit {
  readonly messageId: string | null;
  readonly type: string | null;
  readonly episodeId: string | null;
  readonly senderHsa: string | null;
  /** The sender's name as the message gives it. */
  readonly senderWrittenName: string | null;
  readonly senderSystem: string | null;
  readonly dialect: string | null;
  readonly receivedAt: Date;
  /** The reason a message refused at ingress was kept as a dead letter; null for a stored message. */
  readonly refusedAs: string | null;
  readonly deadLetterId: string | null;
  readonly copies: Array<{ recipientHsa: string; state: string }>;
}

