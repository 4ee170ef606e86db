import { Inject, Injectable, Logger } from '@nestjs/common';
import { dayZero, notifyBy, type CanonicalMessage, type Problem } from '@svu/canonical';
import { CLOCK, type Clock } from '../clock/clock';
import { peekIds, readMessage, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { Database, type Queryable } from '../store/database';
import { GroupCommit, isDataError } from '../store/group-commit';
import { insertDeadLetter, insertDeviation, insertDeviations, recordEvents } from '../store/records';

/** How a message came in. */
export type IngressVia = 'http' | 'amqp' | 'replay';

export interface Incoming {
  readonly format: Format;
  readonly bytes: Buffer;
  readonly via: IngressVia;
}

export type AcceptResult =
  | { readonly status: 'accepted' | 'duplicate'; readonly messageId: string }
  | { readonly status: 'invalid'; readonly problems: readonly Problem[]; readonly deadLetterId: string; readonly messageId?: string };

/**
 * Takes messages in: validates, and stores each valid message with one copy per recipient in the
 * same transaction (so nothing is accepted that is not stored); an invalid one is stored in the
 * dead-letter queue with its problems. Cancellations and acknowledgements act on earlier copies here,
 * inside that transaction. After the commit a route job is published; if that fails the sweeper
 * publishes it later.
 */
@Injectable()
export class IngressService {
  private readonly logger = new Logger(IngressService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Messages taken one at a time (HTTP requests) are stored in groups: each transaction takes every
   * message that arrived while the ones before it were being stored, and each is answered after the
   * commit that holds it.
   */
  private readonly grouped = new GroupCommit<Incoming, AcceptResult>((items) => this.acceptMany(items), { maxBatch: 250, concurrency: 2, splitOn: isDataError });

  /** Whether the broker link is up; the store tells for itself when a transaction fails. */
  canAccept(): boolean {
    return this.broker.isConnected();
  }

  accept(incoming: Incoming): Promise<AcceptResult> {
    return this.grouped.add(incoming);
  }

  /** Accepts several messages in one transaction; results in the same order. */
  async acceptMany(items: readonly Incoming[]): Promise<AcceptResult[]> {
    const read = items.map((item) => ({ item, result: readMessage(item.format, item.bytes) }));
    const now = this.clock.now();
    const episodes = [...new Set(read.flatMap(({ result }) => (result.ok ? [result.value.episodeId] : [])))];
    const { results, stored } = await this.db.transaction(async (tx) => {
      // Messages of one episode are stored one transaction at a time, so that the order of their
      // copy ids (which egress follows) is the order in which they were accepted (committed), also
      // with several ingress processes. Locks are taken in one global order, so batches cannot deadlock.
      await tx.query(
        'SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(e, 0) AS h FROM unnest($1::text[]) AS e ORDER BY 1) AS locks',
        [episodes],
      );
      const valid = read.flatMap(({ item, result }) => (result.ok ? [{ item, message: result.value }] : []));
      const storedPks = await this.storeMessages(tx, valid, now);
      const out: AcceptResult[] = [];
      const seen = new Set<string>();
      for (const { item, result } of read) {
        if (result.ok) {
          const id = result.value.messageId;
          const accepted = storedPks.has(id) && !seen.has(id);
          seen.add(id);
          out.push({ status: accepted ? 'accepted' : 'duplicate', messageId: id });
          continue;
        }
        const ids = peekIds(item.format, item.bytes);
        const deadLetterId = await insertDeadLetter(tx, {
          reason: 'invalid-message',
          messageId: ids.messageId ?? null,
          episodeId: ids.episodeId ?? null,
          type: ids.type ?? null,
          dialect: item.format,
          problems: result.problems,
          payload: item.bytes,
        });
        out.push({ status: 'invalid', problems: result.problems, deadLetterId, ...(ids.messageId === undefined ? {} : { messageId: ids.messageId }) });
      }
      return { results: out, stored: [...storedPks.values()] };
    });
    for (const result of results) {
      this.logger.log({ messageId: result.messageId, outcome: result.status }, 'message in');
    }
    if (stored.length > 0) {
      await this.broker
        .publish(this.broker.names.workExchange, 'route', encodeJob({ messagePks: stored }))
        .catch((error: Error) => this.logger.warn({ count: stored.length, err: error.message }, 'route job not published; the sweeper will'));
    }
    return results;
  }

  /**
   * Stores valid messages and their copies with a few set-based statements; returns the primary key
   * of each message stored now, by message id (a message id seen before is left out).
   */
  private async storeMessages(tx: Queryable, valid: ReadonlyArray<{ item: Incoming; message: CanonicalMessage }>, now: Date): Promise<Map<string, string>> {
    if (valid.length === 0) return new Map();
    const deadlines = valid.map(({ message }) => (message.type === 'admission' ? notifyBy(message.body) : null));
    const late = deadlines.map((deadline) => deadline !== null && now.toISOString() > deadline);
    const inserted = await tx.query<{ id: string; message_id: string }>(
      `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival, received_at)
       SELECT message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, $12
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[], $9::jsonb[], $10::timestamptz[], $11::boolean[])
         WITH ORDINALITY AS m(message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, n)
       ORDER BY n
       ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id`,
      [
        valid.map((v) => v.message.messageId),
        valid.map((v) => v.message.type),
        valid.map((v) => v.message.episodeId),
        valid.map((v) => v.message.sender.hsaId),
        valid.map((v) => v.item.format),
        valid.map((v) => v.item.via),
        valid.map((v) => v.message.sentAt),
        valid.map((v) => v.item.bytes),
        valid.map((v) => JSON.stringify(v.message)),
        deadlines,
        late,
        now,
      ],
    );
    const pks = new Map(inserted.rows.map((r) => [r.message_id, r.id]));
    const copyRows: Array<[string, string, string, string, string, string, string | null, boolean]> = [];
    const counted = new Set<string>();
    const lateOnArrival: Array<{ messageId: string; detail: string; at: Date }> = [];
    for (const [i, { message }] of valid.entries()) {
      const pk = pks.get(message.messageId);
      if (pk === undefined || counted.has(pk)) continue;
      counted.add(pk);
      const withheld = await this.actOnEarlier(tx, message);
      if (message.type === 'ready-for-discharge') {
        // SPEC rule 4: day 0 is the Swedish date on which the notice was sent.
        await tx.query('INSERT INTO day_zero (episode_id, message_id, day_zero, sent_at, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING', [
          message.episodeId,
          message.messageId,
          dayZero(message),
          message.sentAt,
          now,
        ]);
      }
      if (late[i]) lateOnArrival.push({ messageId: message.messageId, detail: `notifyBy ${deadlines[i]}`, at: now });
      for (const r of message.recipients) {
        copyRows.push([pk, message.messageId, message.episodeId, message.type, r.hsaId, r.role, deadlines[i] ?? null, withheld.has(r.hsaId)]);
      }
    }
    await insertDeviations(tx, 'late-on-arrival', lateOnArrival);
    const col = <K extends number>(k: K) => copyRows.map((row) => row[k]);
    // The copies and their first events in one statement.
    await tx.query(
      `WITH copies AS (
         INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, notify_by, state)
         SELECT pk, mid, ep, t, hsa, role, nb, CASE WHEN w THEN 'cancelled' ELSE 'received' END
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::boolean[])
           WITH ORDINALITY AS c(pk, mid, ep, t, hsa, role, nb, w, n)
         ORDER BY n RETURNING id, state)
       INSERT INTO copy_events (copy_id, state, detail)
       SELECT id, state, CASE WHEN state = 'cancelled' THEN 'the cancelled message was never delivered' END FROM copies ORDER BY id`,
      [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)],
    );
    return pks;
  }

  /**
   * What a cancellation or an acknowledgement does to earlier copies. Returns the recipients to whom
   * a cancellation is not forwarded: SPEC rule 5, their copy of the cancelled message was still
   * pending and is now cancelled, so they never saw it.
   */
  private async actOnEarlier(tx: Queryable, message: CanonicalMessage): Promise<Set<string>> {
    const withheld = new Set<string>();
    if (message.type === 'cancellation') {
      const cancelled = await tx.query<{ id: string; recipient_hsa: string }>(
        `UPDATE copies SET state = 'cancelled', updated_at = now()
         WHERE message_id = $1 AND recipient_hsa = ANY($2) AND state IN ('received', 'routed', 'retrying')
         RETURNING id, recipient_hsa`,
        [message.body.cancelsMessageId, message.recipients.map((r) => r.hsaId)],
      );
      await recordEvents(tx, cancelled.rows.map((r) => r.id), 'cancelled', `by ${message.messageId}`);
      for (const row of cancelled.rows) withheld.add(row.recipient_hsa);
      // A cancelled ready-for-discharge notice no longer sets day 0 (kept, marked, as history).
      await tx.query('UPDATE day_zero SET cancelled_at = $2 WHERE message_id = $1 AND cancelled_at IS NULL', [message.body.cancelsMessageId, this.clock.now()]);
    }
    if (message.type === 'acknowledgement') await this.acknowledge(tx, message);
    return withheld;
  }

  /** SPEC rule 6: an acknowledgement marks the acknowledged copy; a rejection is a deviation. */
  private async acknowledge(tx: Queryable, ack: Extract<CanonicalMessage, { type: 'acknowledgement' }>): Promise<void> {
    const marked = await tx.query<{ id: string }>(
      `UPDATE copies SET acknowledged_at = now(), updated_at = now(),
         state = CASE WHEN state = 'delivered' THEN 'acknowledged' ELSE state END
       WHERE message_id = $1 AND recipient_hsa = $2 RETURNING id`,
      [ack.body.acknowledgesMessageId, ack.sender.hsaId],
    );
    const rejected = ack.body.status === 'rejected';
    await recordEvents(tx, marked.rows.map((r) => r.id), 'acknowledged', rejected ? `rejected: ${ack.body.reason ?? ''}` : 'received');
    if (rejected) {
      await insertDeviation(tx, 'rejected-by-recipient', {
        at: this.clock.now(),
        messageId: ack.body.acknowledgesMessageId,
        copyId: marked.rows[0]?.id ?? null,
        unitHsa: ack.sender.hsaId,
        detail: ack.body.reason ?? null,
      });
    }
  }
}
