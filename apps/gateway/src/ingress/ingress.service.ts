import { Injectable, Logger } from '@nestjs/common';
import { notifyBy, type CanonicalMessage, type Problem } from '@svu/canonical';
import { peekIds, readMessage, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { encodeJob } from '../broker/jobs';
import { Database, type Queryable } from '../store/database';
import { insertDeadLetter, insertDeviation, recordEvents } from '../store/records';

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
  ) {}

  /** Whether both the store and the broker can take a message now. */
  async canAccept(): Promise<boolean> {
    return this.broker.isConnected() && (await this.db.isReachable());
  }

  async accept(incoming: Incoming): Promise<AcceptResult> {
    return (await this.acceptMany([incoming]))[0]!;
  }

  /** Accepts several messages in one transaction; results in the same order. */
  async acceptMany(items: readonly Incoming[]): Promise<AcceptResult[]> {
    const read = items.map((item) => ({ item, result: readMessage(item.format, item.bytes) }));
    const now = new Date();
    const routed: string[] = [];
    const episodes = [...new Set(read.flatMap(({ result }) => (result.ok ? [result.value.episodeId] : [])))];
    const results = await this.db.transaction(async (tx) => {
      // Messages of one episode are stored one transaction at a time, so that the order of their
      // copy ids (which egress follows) is the order in which they were accepted (committed), also
      // with several ingress processes. Locks are taken in one global order, so batches cannot deadlock.
      await tx.query(
        'SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(e, 0) AS h FROM unnest($1::text[]) AS e ORDER BY 1) AS locks',
        [episodes],
      );
      const out: AcceptResult[] = [];
      for (const { item, result } of read) {
        if (!result.ok) {
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
          continue;
        }
        const message = result.value;
        const messagePk = await this.store(tx, item, message, now);
        if (messagePk === undefined) {
          out.push({ status: 'duplicate', messageId: message.messageId });
        } else {
          routed.push(messagePk);
          out.push({ status: 'accepted', messageId: message.messageId });
        }
      }
      return out;
    });
    for (const result of results) {
      this.logger.log({ messageId: result.status === 'invalid' ? result.messageId : result.messageId, outcome: result.status }, 'message in');
    }
    await Promise.all(
      routed.map((messagePk) =>
        this.broker
          .publish(this.broker.names.workExchange, 'route', encodeJob({ messagePk }))
          .catch((error: Error) => this.logger.warn({ messagePk, err: error.message }, 'route job not published; the sweeper will')),
      ),
    );
    return results;
  }

  /** Stores a valid message and its copies; undefined when the message id was seen before. */
  private async store(tx: Queryable, item: Incoming, message: CanonicalMessage, now: Date): Promise<string | undefined> {
    const deadline = message.type === 'admission' ? notifyBy(message.body) : null;
    const lateOnArrival = deadline !== null && now.toISOString() > deadline;
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (message_id) DO NOTHING RETURNING id`,
      [message.messageId, message.type, message.episodeId, message.sender.hsaId, item.format, item.via, message.sentAt, item.bytes, JSON.stringify(message), deadline, lateOnArrival],
    );
    const messagePk = inserted.rows[0]?.id;
    if (messagePk === undefined) return undefined;

    const recipients = message.recipients.map((r) => r.hsaId);
    // SPEC rule 5: pending copies of the cancelled message are cancelled, and the cancellation is not
    // forwarded to those recipients (they never saw the original); delivered ones get it forwarded.
    const withheld = new Set<string>();
    if (message.type === 'cancellation') {
      const cancelled = await tx.query<{ id: string; recipient_hsa: string }>(
        `UPDATE copies SET state = 'cancelled', updated_at = now()
         WHERE message_id = $1 AND recipient_hsa = ANY($2) AND state IN ('received', 'routed', 'retrying')
         RETURNING id, recipient_hsa`,
        [message.body.cancelsMessageId, recipients],
      );
      await recordEvents(tx, cancelled.rows.map((r) => r.id), 'cancelled', `by ${message.messageId}`);
      for (const row of cancelled.rows) withheld.add(row.recipient_hsa);
    }
    if (message.type === 'acknowledgement') await this.acknowledge(tx, message);

    const copies = await tx.query<{ id: string; state: string }>(
      `INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, state, notify_by)
       SELECT $1, $2, $3, $4, r.hsa, r.role, CASE WHEN r.hsa = ANY($8) THEN 'cancelled' ELSE 'received' END, $7
       FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS r(hsa, role, n) ORDER BY r.n
       RETURNING id, state`,
      [messagePk, message.messageId, message.episodeId, message.type, recipients, message.recipients.map((r) => r.role), deadline, [...withheld]],
    );
    await recordEvents(tx, copies.rows.filter((c) => c.state === 'received').map((c) => c.id), 'received');
    await recordEvents(tx, copies.rows.filter((c) => c.state === 'cancelled').map((c) => c.id), 'cancelled', 'the cancelled message was never delivered');
    if (lateOnArrival) {
      await insertDeviation(tx, 'late-on-arrival', { messageId: message.messageId, detail: `notifyBy ${deadline}` });
    }
    return messagePk;
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
        messageId: ack.body.acknowledgesMessageId,
        copyId: marked.rows[0]?.id ?? null,
        unitHsa: ack.sender.hsaId,
        detail: ack.body.reason ?? null,
      });
    }
  }
}
