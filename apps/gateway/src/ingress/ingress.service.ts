import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { dayZero, notifyBy, type CanonicalMessage, type Problem } from '@svu/canonical';
import { CLOCK, type Clock } from '../clock/clock';
import { FORMATS, peekIds, readMessage, type Format } from '@svu/dialects';
import { Broker } from '../broker/broker';
import { followCancellation } from '../deadlines/cancellation-follow-up';
import { encodeJob } from '../broker/jobs';
import { Database, prepared, type Queryable } from '../store/database';
import { GroupCommit, isDataError } from '../store/group-commit';
import { MetricsService } from '../console/metrics.service';
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
 * How long a route job waits for the commits after it: at 500 requests/s this takes RabbitMQ from a
 * third of a core to a fifth, and adds at most this much to the time to delivery, not to the answer.
 */
const ROUTE_JOB_LINGER_MS = 10;

/**
 * Takes messages in: validates, and stores each valid message with one copy per recipient in the
 * same transaction (so nothing is accepted that is not stored); an invalid one is stored in the
 * dead-letter queue with its problems. Cancellations and acknowledgements act on earlier copies here,
 * inside that transaction. After the commit a route job is published, without holding up the answer;
 * if that fails the sweeper publishes it later.
 */
@Injectable()
export class IngressService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IngressService.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) config: Pick<GatewayConfig, 'ingressGroupWaitMs'>,
    private readonly metrics: MetricsService,
  ) {
    this.grouped = new GroupCommit<Incoming, AcceptResult>((items) => this.acceptMany(items), {
      maxBatch: 250,
      concurrency: 1,
      lingerMs: config.ingressGroupWaitMs,
      splitOn: isDataError,
    });
  }

  /**
   * Messages taken one at a time (HTTP requests) are stored in groups: each transaction takes every
   * message that arrived while the one before it was being stored, or within SVU_INGRESS_GROUP_WAIT
   * (3 ms) of the group's first, and each is answered after the commit that holds it. One group at a
   * time: at 500 requests/s that halves the transactions against two at a time; the wait brings
   * groups from about one message to about three, and PostgreSQL's and ingress's CPU down by a fifth.
   */
  private readonly grouped: GroupCommit<Incoming, AcceptResult>;

  /**
   * Route jobs, one per publish: the messages of every commit that ended while the previous job was
   * waiting for its confirm, or within ROUTE_JOB_LINGER_MS of the oldest, go out in one job, so that
   * under load the broker carries a few larger jobs rather than one per small HTTP group.
   */
  private readonly routeJobs = new GroupCommit<readonly string[], void>(
    async (groups) => {
      await this.broker.publish(this.broker.names.workExchange, 'route', encodeJob({ messagePks: groups.flat() }));
      return groups.map(() => undefined);
    },
    { maxBatch: 100, concurrency: 1, lingerMs: ROUTE_JOB_LINGER_MS },
  );

  /**
   * Before the process reports ready: compiles the message schema and runs each reader once, so that
   * the first requests after a start do not wait for that (it took ~75 ms, during which requests
   * arriving at full rate piled up).
   */
  onApplicationBootstrap(): void {
    for (const format of FORMATS) readMessage(format, Buffer.from(format === 'canonical' ? '{}' : '<warm-up/>'));
  }

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
    const valid = read.flatMap(({ item, result }) => (result.ok ? [{ item, message: result.value }] : []));
    const batch = batchOf(valid, now);
    // The common batch (valid messages that change nothing stored before) is one statement, its
    // own transaction; any other takes a transaction of several.
    const simple = valid.length === read.length && batch.late.every((late) => !late) && valid.every(({ message }) => !ACTS_ON_EARLIER.has(message.type));
    const { results, stored } = simple
      ? await this.storeSimple(batch).then((pks) => ({ results: this.outcomes(read, pks, []), stored: [...pks.values()] }))
      : await this.db.transaction(async (tx) => {
          const pks = await this.storeMessages(tx, batch);
          const deadLetters: DeadLettered[] = [];
          for (const { item, result } of read) {
            if (result.ok) continue;
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
            deadLetters.push({ deadLetterId, ...(ids.messageId === undefined ? {} : { messageId: ids.messageId }) });
          }
          return { results: this.outcomes(read, pks, deadLetters), stored: [...pks.values()] };
        });
    for (const [i, result] of results.entries()) {
      this.logger.log({ messageId: result.messageId, outcome: result.status }, 'message in');
      const { item, result: parsed } = read[i]!;
      if (result.status === 'accepted' && parsed.ok) this.metrics.messages.inc({ dialect: item.format, type: parsed.value.type });
      else if (result.status === 'invalid') this.metrics.invalidMessages.inc({ dialect: item.format });
    }
    // The answer does not wait for the route job's confirm: the messages are stored, and a job
    // that is not published (the process ends first, the broker refuses) is published by the sweeper.
    if (stored.length > 0) {
      this.routeJobs.add(stored).catch((error: Error) => this.logger.warn({ count: stored.length, err: error.message }, 'route job not published; the sweeper will'));
    }
    return results;
  }

  /** Each item's outcome: stored now, stored before (a duplicate), or invalid (`deadLetters` in order). */
  private outcomes(read: ReadonlyArray<{ result: ReturnType<typeof readMessage> }>, pks: ReadonlyMap<string, string>, deadLetters: readonly DeadLettered[]): AcceptResult[] {
    const seen = new Set<string>();
    let invalid = 0;
    return read.map(({ result }): AcceptResult => {
      if (result.ok) {
        const id = result.value.messageId;
        const accepted = pks.has(id) && !seen.has(id);
        seen.add(id);
        return { status: accepted ? 'accepted' : 'duplicate', messageId: id };
      }
      return { status: 'invalid', problems: result.problems, ...deadLetters[invalid++]! };
    });
  }

  /**
   * Stores a batch of messages that act on nothing stored before, with their copies and the copies'
   * first events, in one statement. Messages of one episode are stored one transaction at a time, so
   * that the order of their copy ids (which egress follows) is the order in which they were accepted
   * (committed), also with several ingress processes: the statement takes the episodes' locks before
   * it inserts anything, in one global order, so batches cannot deadlock.
   */
  private async storeSimple(batch: Batch): Promise<Map<string, string>> {
    if (batch.messages.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; message_id: string }>(STORE_SIMPLE, [...messageParams(batch), episodesOf(batch), ...copyParams(batch, new Set())]);
    return new Map(rows.map((r) => [r.message_id, r.id]));
  }

  /**
   * Stores valid messages and their copies in the transaction `tx`, with what cancellations,
   * acknowledgements and ready-for-discharge notices do besides; returns the primary key of each
   * message stored now, by message id (a message id seen before is left out).
   */
  private async storeMessages(tx: Queryable, batch: Batch): Promise<Map<string, string>> {
    if (batch.messages.length === 0) return new Map();
    const { now } = batch;
    // Episode locks first, as in storeSimple.
    await tx.query(episodeLocksSql(1), [episodesOf(batch)]);
    const inserted = await tx.query<{ id: string; message_id: string }>(insertMessagesSql(''), messageParams(batch));
    const pks = new Map(inserted.rows.map((r) => [r.message_id, r.id]));
    const withheld = new Set<string>();
    const lateOnArrival: Array<{ messageId: string; detail: string; at: Date }> = [];
    for (const [i, { message }] of batch.messages.entries()) {
      if (!pks.has(message.messageId) || !batch.first[i]) continue;
      for (const hsaId of await this.actOnEarlier(tx, message)) withheld.add(`${message.messageId} ${hsaId}`);
      if (message.type === 'ready-for-discharge') {
        // docs/rules.md, rule 4: day 0 is the Swedish date on which the notice was sent.
        await tx.query('INSERT INTO day_zero (episode_id, message_id, day_zero, sent_at, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING', [
          message.episodeId,
          message.messageId,
          dayZero(message),
          message.sentAt,
          now,
        ]);
      }
      if (batch.late[i]) lateOnArrival.push({ messageId: message.messageId, detail: `notifyBy ${batch.deadlines[i]}`, at: now });
    }
    await insertDeviations(tx, 'late-on-arrival', lateOnArrival);
    await tx.query(`WITH stored AS (SELECT id, message_id, episode_id, type, notify_by FROM messages WHERE id = ANY($1::bigint[])), ${copiesSql(2)} SELECT 1`, [
      [...pks.values()],
      ...copyParams(batch, withheld),
    ]);
    return pks;
  }

  /**
   * What a cancellation or an acknowledgement does to earlier copies. Returns the recipients to whom
   * a cancellation is not forwarded: docs/rules.md, rule 5, their copy of the cancelled message was still
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
      // Fallback documents follow (docs: README, Deadlines, fallback documents and day 0).
      const followed = await followCancellation(tx, { messageId: message.messageId, cancelsMessageId: message.body.cancelsMessageId, recipients: message.recipients.map((r) => r.hsaId) }, this.clock.now());
      for (const hsaId of followed.withdrawn) withheld.add(hsaId);
      for (const hsaId of followed.informedByHand) withheld.delete(hsaId);
      // A cancelled ready-for-discharge notice no longer sets day 0 (kept, marked, as history).
      await tx.query('UPDATE day_zero SET cancelled_at = $2 WHERE message_id = $1 AND cancelled_at IS NULL', [message.body.cancelsMessageId, this.clock.now()]);
    }
    if (message.type === 'acknowledgement') await this.acknowledge(tx, message);
    return withheld;
  }

  /** docs/rules.md, rule 6: an acknowledgement marks the acknowledged copy; a rejection is a deviation. */
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

/** Message types whose storing changes copies stored before (or records day 0). */
const ACTS_ON_EARLIER: ReadonlySet<string> = new Set(['cancellation', 'acknowledgement', 'ready-for-discharge']);

/** Takes the advisory lock of every episode in parameter $`param` (text[]), in one global order. */
function episodeLocksSql(param: number): string {
  return `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(e, 0) AS h FROM unnest($${param}::text[]) AS e ORDER BY 1) AS locks`;
}

/** Inserts the messages of `messageParams` ($1–$12) that `where` lets through; returns those not stored before. */
function insertMessagesSql(where: string): string {
  return `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late_on_arrival, received_at)
  SELECT message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, $12
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[], $9::jsonb[], $10::timestamptz[], $11::boolean[])
    WITH ORDINALITY AS m(message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, notify_by, late, n)
  ${where} ORDER BY n
  ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id, episode_id, type, notify_by`;
}

/**
 * The CTEs inserting one copy per recipient of each message in `stored` (id, message_id,
 * episode_id, type, notify_by) and the copies' first events, from `copyParams` at $first….
 * Copy ids follow the order of the batch, then of the recipients.
 */
function copiesSql(first: number): string {
  const [mid, hsa, role, withheld] = [first, first + 1, first + 2, first + 3];
  return `new_copies AS (
      INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, notify_by, state)
      SELECT s.id, s.message_id, s.episode_id, s.type, r.hsa, r.role, s.notify_by, CASE WHEN r.w THEN 'cancelled' ELSE 'received' END
      FROM unnest($${mid}::text[], $${hsa}::text[], $${role}::text[], $${withheld}::boolean[]) WITH ORDINALITY AS r(mid, hsa, role, w, n)
        JOIN stored s ON s.message_id = r.mid
      ORDER BY r.n RETURNING id, state),
    new_events AS (
      INSERT INTO copy_events (copy_id, state, detail)
      SELECT id, state, CASE WHEN state = 'cancelled' THEN 'the cancelled message was never delivered' END FROM new_copies ORDER BY id)`;
}

/** An invalid message as kept in the dead-letter queue, with its id when one could be read. */
interface DeadLettered {
  readonly deadLetterId: string;
  readonly messageId?: string;
}

interface Batch {
  readonly messages: ReadonlyArray<{ item: Incoming; message: CanonicalMessage }>;
  /** Whether each message is the first in the batch with its message id (only that one gets copies). */
  readonly first: readonly boolean[];
  readonly deadlines: ReadonlyArray<string | null>;
  readonly late: readonly boolean[];
  readonly now: Date;
}

function batchOf(messages: ReadonlyArray<{ item: Incoming; message: CanonicalMessage }>, now: Date): Batch {
  const deadlines = messages.map(({ message }) => (message.type === 'admission' ? notifyBy(message.body) : null));
  const seen = new Set<string>();
  const first = messages.map(({ message }) => {
    if (seen.has(message.messageId)) return false;
    seen.add(message.messageId);
    return true;
  });
  return { messages, first, deadlines, late: deadlines.map((deadline) => deadline !== null && now.toISOString() > deadline), now };
}

function episodesOf(batch: Batch): string[] {
  return [...new Set(batch.messages.map(({ message }) => message.episodeId))];
}

function messageParams({ messages, deadlines, late, now }: Batch): unknown[] {
  return [
    messages.map((v) => v.message.messageId),
    messages.map((v) => v.message.type),
    messages.map((v) => v.message.episodeId),
    messages.map((v) => v.message.sender.hsaId),
    messages.map((v) => v.item.format),
    messages.map((v) => v.item.via),
    messages.map((v) => v.message.sentAt),
    messages.map((v) => v.item.bytes),
    messages.map((v) => JSON.stringify(v.message)),
    deadlines,
    late,
    now,
  ];
}

/** One row per recipient of each first occurrence of a message; `withheld` holds "messageId hsaId" of copies stored cancelled. */
function copyParams(batch: Batch, withheld: ReadonlySet<string>): unknown[] {
  const rows = batch.messages.flatMap(({ message }, i) => (batch.first[i] ? message.recipients.map((r) => [message.messageId, r.hsaId, r.role] as const) : []));
  return [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => withheld.has(`${r[0]} ${r[1]}`))];
}

/** storeSimple's statement: `messageParams` ($1–$12), the episodes ($13), `copyParams` ($14–$17). */
const STORE_SIMPLE = prepared(`WITH locks AS (${episodeLocksSql(13)}),
  stored AS (${insertMessagesSql('WHERE (SELECT count(*) FROM locks) >= 0')}),
  ${copiesSql(14)}
  SELECT id, message_id FROM stored`);
