import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { CanonicalMessage, Problem } from '@svu/canonical';
import { CLOCK, type Clock } from '../common/clock/clock';
import { FORMATS, peekIds, readMessage, type Format } from '@svu/dialects';
import { maySendAs, type SenderSystem } from '@svu/directory';
import { createHash } from 'node:crypto';
import { Broker } from '../broker/broker';
import { followCancellation } from '../deadlines';
import { encodeJob } from '../broker/jobs';
import { Database, type Queryable } from '../store/database';
import { GroupCommit, isDataError } from '../store/group-commit';
import { MetricsService } from '../common/metrics.service';
import { insertDeadLetter, type RefusalReason } from '../store/records';
import { insertDeviation, insertDeviations } from '../store/deviations.repository';
import { AuditRepository } from '../store/audit.repository';
import { CopiesRepository } from '../store/copies.repository';
import { DocumentsRepository } from '../store/documents.repository';
import { DeadLettersRepository } from '../store/dead-letters.repository';
import { MessagesRepository, type MessageToStore, type StoredMessage } from '../store/messages.repository';
import {
  acknowledgementDetail,
  changesNothingStored,
  copiesToCreate,
  dayZeroOf,
  judgeAcknowledgement,
  judgeCancellation,
  keyOf as messageKey,
  planBatch,
  withheldKey,
  withheldRecipients,
  type BatchPlan,
  type Refusal,
} from './ingress-rules';

/** How a message came in. */
export type IngressVia = 'http' | 'amqp' | 'replay';

export interface Incoming {
  readonly format: Format;
  readonly bytes: Buffer;
  readonly via: IngressVia;
  /** The sender system whose credential came with the message (docs/senders.md). */
  readonly sender: SenderSystem;
}

export type AcceptResult =
  | { readonly status: 'accepted' | 'duplicate'; readonly messageId: string }
  | { readonly status: 'invalid'; readonly problems: readonly Problem[]; readonly deadLetterId: string; readonly messageId?: string }
  | { readonly status: 'refused'; readonly reason: RefusalReason; readonly detail: string; readonly deadLetterId: string; readonly messageId: string };


/**
 * How long a route job waits for the commits after it, so that under load fewer, larger jobs go out
 * (docs/benchmarks.md has the figures); adds at most this much to the time to delivery, not to the answer.
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
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'ingressGroupWaitMs' | 'refusedBodyMax'>,
    private readonly metrics: MetricsService,
    private readonly copies: CopiesRepository,
    private readonly audit: AuditRepository,
    private readonly messages: MessagesRepository,
    private readonly documents: DocumentsRepository,
    private readonly deadLetters: DeadLettersRepository,
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
   * of the group's first, and each is answered after the commit that holds it. One group at a time,
   * and the wait, make fewer and larger transactions under load (docs/benchmarks.md has the figures).
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
   * the first requests after a start do not wait for that (while it ran, requests arriving at full
   * rate piled up; docs/benchmarks.md).
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
    const now = this.clock.now();
    const entries = items.map((item): Entry => {
      const result = readMessage(item.format, item.bytes);
      if (!result.ok) return { item, kind: 'invalid', problems: result.problems };
      const message = result.value;
      // The sender named in the message must be one the credential may send as (docs/senders.md).
      if (!maySendAs(item.sender, message.sender.hsaId)) {
        return { item, kind: 'refused', message, refusal: { reason: 'sender-not-allowed', detail: `sender system ${item.sender.id} may not send as ${message.sender.hsaId}` } };
      }
      return { item, kind: 'valid', message };
    });
    const valid = entries.flatMap((e) => (e.kind === 'valid' ? [{ item: e.item, message: e.message }] : []));
    const batch = batchOf(valid, now);
    // The common batch (valid messages that change nothing stored before) is one statement, its
    // own transaction; any other takes a transaction of several.
    const simple = changesNothingStored(sentOf(batch), batch, valid.length === entries.length);
    const { pks, refusals, deadLetters, cancelled } = simple
      ? { pks: await this.storeSimple(batch), refusals: new Map<number, Refusal>(), deadLetters: new Map<number, string>(), cancelled: [] as string[] }
      : await this.db.transaction(async (tx) => {
          const stored = await this.storeMessages(tx, batch);
          const kept = new Map<number, string>();
          // Refused and invalid messages are kept as dead letters, in the order of the batch.
          let v = 0;
          for (const [i, entry] of entries.entries()) {
            if (entry.kind === 'valid') {
              const refusal = stored.refusals.get(v++);
              if (refusal !== undefined) kept.set(i, await this.keepRefused(tx, entry.item, entry.message, refusal));
            } else if (entry.kind === 'refused') kept.set(i, await this.keepRefused(tx, entry.item, entry.message, entry.refusal));
            else kept.set(i, await this.keepInvalid(tx, entry.item, entry.problems));
          }
          return { pks: stored.pks, refusals: stored.refusals, deadLetters: kept, cancelled: stored.cancelled };
        });
    if (cancelled.length > 0) this.releaseAfterCancelled(cancelled);
    const results = await this.outcomes(entries, batch, pks, refusals, deadLetters);
    for (const [i, result] of results.entries()) {
      this.logger.log(
        { messageId: result.messageId, senderSystem: items[i]!.sender.id, outcome: result.status, ...(result.status === 'refused' ? { reason: result.reason } : {}) },
        'message in',
      );
      const entry = entries[i]!;
      if (result.status === 'accepted' && entry.kind === 'valid') this.metrics.messages.inc({ dialect: entry.item.format, type: entry.message.type });
      else if (result.status === 'invalid') this.metrics.invalidMessages.inc({ dialect: entry.item.format });
    }
    const stored = [...pks.values()];
    // The answer does not wait for the route job's confirm: the messages are stored, and a job
    // that is not published (the process ends first, the broker refuses) is published by the sweeper.
    if (stored.length > 0) {
      this.routeJobs.add(stored).catch((error: Error) => this.logger.warn({ count: stored.length, err: error.message }, 'route job not published; the sweeper will'));
    }
    return results;
  }

  /**
   * A cancelled copy settles: the next copy of its episode to the same recipient, if it waits, is sent
   * at once (a deliver job), read after the commit that cancelled it. Should this fail, the sweeper
   * sends it on after SVU_STALE_AFTER.
   */
  private releaseAfterCancelled(copyIds: readonly string[]): void {
    void (async () => {
      const next = await this.copies.nextAfterCommit(copyIds);
      if (next.length === 0) return;
      await this.broker.publish(this.broker.names.workExchange, 'deliver', encodeJob({ copies: next.map((r) => ({ copyId: r.id, attempt: r.attempts })) }));
    })().catch((error: Error) => this.logger.warn({ count: copyIds.length, err: error.message }, 'copies held back by cancelled copies not released; the sweeper will'));
  }

  /**
   * Keeps messages that came over AMQP without a sender system (no `user_id`, or one no system has)
   * as dead letters `unauthenticated`, without their bodies: only what describes them.
   */
  async keepUnauthenticated(messages: ReadonlyArray<{ format: Format; bytes: Buffer; why: string; routingKey: string }>): Promise<void> {
    if (messages.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const m of messages) {
        const digest = createHash('sha256').update(m.bytes).digest('hex');
        await insertDeadLetter(tx, { reason: 'unauthenticated', dialect: m.format, lastError: `${m.why}; body not kept: ${m.bytes.length} bytes, sha256 ${digest}, routing key ${m.routingKey}` });
      }
    });
    this.logger.warn({ count: messages.length }, 'unauthenticated AMQP messages refused');
  }

  /** Each item's outcome: stored now, stored before (a duplicate, or a conflict when its content differs), invalid or refused. */
  private async outcomes(
    entries: readonly Entry[],
    batch: Batch,
    pks: ReadonlyMap<string, string>,
    refusals: ReadonlyMap<number, Refusal>,
    deadLetters: ReadonlyMap<number, string>,
  ): Promise<AcceptResult[]> {
    const results: Array<AcceptResult | undefined> = [];
    const repeats: Array<{ index: number; entry: Extract<Entry, { kind: 'valid' }> }> = [];
    let v = 0;
    for (const [i, entry] of entries.entries()) {
      if (entry.kind === 'invalid') {
        const ids = peekIds(entry.item.format, entry.item.bytes);
        results.push({ status: 'invalid', problems: entry.problems, deadLetterId: deadLetters.get(i)!, ...(ids.messageId === undefined ? {} : { messageId: ids.messageId }) });
        continue;
      }
      if (entry.kind === 'refused') {
        results.push({ status: 'refused', ...entry.refusal, deadLetterId: deadLetters.get(i)!, messageId: entry.message.messageId });
        continue;
      }
      const refusal = refusals.get(v);
      const first = batch.first[v++];
      if (refusal !== undefined) results.push({ status: 'refused', ...refusal, deadLetterId: deadLetters.get(i)!, messageId: entry.message.messageId });
      else if (first === true && pks.has(keyOf(entry.item.sender, entry.message))) results.push({ status: 'accepted', messageId: entry.message.messageId });
      else {
        results.push(undefined);
        repeats.push({ index: i, entry });
      }
    }
    if (repeats.length > 0) {
      // A message id the sender system used before: the same message again is a duplicate (stored
      // once, answered as stored); another message under that id is a conflict, kept as a dead letter.
      const same = await this.messages.sameAsStored(
        repeats.map((r) => ({ senderSystem: r.entry.item.sender.id, messageId: r.entry.message.messageId, canonical: r.entry.message })),
      );
      const sameByN = new Map(same.map((row) => [row.n, row.same]));
      for (const [n, { index, entry }] of repeats.entries()) {
        const isSame = sameByN.get(n + 1);
        if (isSame === true) {
          results[index] = { status: 'duplicate', messageId: entry.message.messageId };
          continue;
        }
        // Not stored at all (the first of the batch with that id was refused), or another message.
        const refusal: Refusal =
          isSame === false
            ? { reason: 'message-id-conflict', detail: `sender system ${entry.item.sender.id} sent another message with message id ${entry.message.messageId} before` }
            : { reason: 'message-id-conflict', detail: `a message with message id ${entry.message.messageId} in the same batch was refused` };
        const deadLetterId = await this.db.transaction((tx) => this.keepRefused(tx, entry.item, entry.message, refusal));
        results[index] = { status: 'refused', ...refusal, deadLetterId, messageId: entry.message.messageId };
      }
    }
    return results as AcceptResult[];
  }

  /** An invalid message as a dead letter, with its problems. */
  private keepInvalid(tx: Queryable, item: Incoming, problems: readonly Problem[]): Promise<string> {
    const ids = peekIds(item.format, item.bytes);
    return insertDeadLetter(tx, {
      reason: 'invalid-message',
      messageId: ids.messageId ?? null,
      episodeId: ids.episodeId ?? null,
      type: ids.type ?? null,
      dialect: item.format,
      problems,
      senderSystem: item.sender.id,
      ...this.refusedBody(item.bytes),
    });
  }

  /**
   * A valid message refused at ingress: kept as a dead letter with the reason (its body cut to
   * SVU_REFUSED_BODY_MAX), recorded in the audit log as the sender system's, and for a cancellation
   * or acknowledgement that may not act, as a deviation.
   */
  private async keepRefused(tx: Queryable, item: Incoming, message: CanonicalMessage, refusal: Refusal): Promise<string> {
    const deadLetterId = await insertDeadLetter(tx, {
      reason: refusal.reason,
      messageId: message.messageId,
      episodeId: message.episodeId,
      type: message.type,
      dialect: item.format,
      senderSystem: item.sender.id,
      ...this.refusedBody(item.bytes, refusal.detail),
    });
    await this.audit.insert(
      { username: `sender-system:${item.sender.id}`, role: 'sender', action: 'ingress-refused', target: `dead-letter:${deadLetterId}`, detail: { reason: refusal.reason, messageId: message.messageId, senderHsaId: message.sender.hsaId, via: item.via } },
      tx,
    );
    if (refusal.reason === 'cancellation-not-owner' || refusal.reason === 'acknowledgement-not-addressed') {
      await insertDeviation(tx, refusal.reason, { at: this.clock.now(), messageId: message.messageId, unitHsa: message.sender.hsaId, detail: refusal.detail });
    }
    return deadLetterId;
  }

  /** A refused body as kept: at most SVU_REFUSED_BODY_MAX bytes, with a note when it was cut. */
  private refusedBody(bytes: Buffer, detail?: string): { payload: Buffer; lastError: string | null } {
    const max = this.config.refusedBodyMax;
    const cut = bytes.length > max ? `body cut to its first ${max} of ${bytes.length} bytes` : undefined;
    const lastError = [detail, cut].filter((part) => part !== undefined).join('; ');
    return { payload: cut === undefined ? bytes : bytes.subarray(0, max), lastError: lastError === '' ? null : lastError };
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
    return pksOf(await this.messages.storeSimple(messagesOf(batch), batch.now, copiesOf(batch, new Set())));
  }

  /**
   * Stores valid messages and their copies in the transaction `tx`, with what cancellations,
   * acknowledgements and ready-for-discharge notices do besides; returns the primary key of each
   * message stored now, by sender system and message id (a message id seen before is left out), and
   * the messages refused because they may not act on what they name (by their place in the batch).
   */
  private async storeMessages(tx: Queryable, batch: Batch): Promise<{ pks: Map<string, string>; refusals: Map<number, Refusal>; cancelled: string[] }> {
    const refusals = new Map<number, Refusal>();
    const cancelled: string[] = [];
    if (batch.messages.length === 0) return { pks: new Map(), refusals, cancelled };
    const { now } = batch;
    // Episode locks first, as in storeSimple.
    const messages = messagesOf(batch);
    await this.messages.lockEpisodes(tx, messages);
    const pks = pksOf(await this.messages.insert(tx, messages, now));
    const withheld = new Set<string>();
    const lateOnArrival: Array<{ messageId: string; detail: string; at: Date }> = [];
    for (const [i, { item, message }] of batch.messages.entries()) {
      const key = keyOf(item.sender, message);
      const pk = pks.get(key);
      if (pk === undefined || !batch.first[i]) continue;
      const acted = await this.actOnEarlier(tx, item.sender, pk, message);
      if (!acted.ok) {
        // Refused: the message is not kept as a message (nothing refers to it yet), only as a dead letter.
        await this.messages.deleteRefused(tx, pk);
        pks.delete(key);
        refusals.set(i, acted.refusal);
        continue;
      }
      for (const hsaId of acted.withheld) withheld.add(withheldKey(key, hsaId));
      cancelled.push(...acted.cancelled);
      const zero = dayZeroOf(message);
      if (zero !== undefined) {
        // docs/rules.md, rule 4: day 0 is the Swedish date on which the notice was sent.
        await this.messages.recordDayZero(tx, zero, now);
      }
      if (batch.late[i]) lateOnArrival.push({ messageId: message.messageId, detail: `notifyBy ${batch.deadlines[i]}`, at: now });
    }
    await insertDeviations(tx, 'late-on-arrival', lateOnArrival);
    await this.copies.accept(tx, [...pks.values()], copiesOf(batch, withheld));
    return { pks, refusals, cancelled };
  }

  /**
   * What a cancellation or an acknowledgement does to earlier copies, or why it may not. Returns the
   * recipients to whom a cancellation is not forwarded: docs/rules.md, rule 5, their copy of the cancelled
   * message was still pending and is now cancelled, so they never saw it.
   */
  private async actOnEarlier(
    tx: Queryable,
    sender: SenderSystem,
    pk: string,
    message: CanonicalMessage,
  ): Promise<{ ok: true; withheld: Set<string>; cancelled: string[] } | { ok: false; refusal: Refusal }> {
    const withheld = new Set<string>();
    const cancelledCopies: string[] = [];
    if (message.type === 'cancellation') {
      const target = message.body.cancelsMessageId;
      // docs/rules.md, rule 5: only the original sender may cancel, within the same episode. The owner is the
      // sender system (docs/senders.md): a message of another system, or of another episode, with
      // that id is not cancelled, and the cancellation is refused rather than forwarded.
      const named = await this.messages.othersWithId(tx, target, pk);
      const refused = judgeCancellation(sender.id, message, named);
      if (refused !== undefined) return { ok: false, refusal: refused };
      const cancelled = await this.copies.cancelPending(
        tx,
        { messageId: target, recipients: message.recipients.map((r) => r.hsaId), senderSystem: sender.id, episodeId: message.episodeId },
        message.messageId,
      );
      cancelledCopies.push(...cancelled.map((r) => r.id));
      // Fallback documents follow (README, Deadlines, fallback documents and day 0).
      const followed = await followCancellation(tx, { copies: this.copies, documents: this.documents, audit: this.audit }, { messageId: message.messageId, cancelsMessageId: message.body.cancelsMessageId, recipients: message.recipients.map((r) => r.hsaId), senderSystem: sender.id, episodeId: message.episodeId }, this.clock.now());
      for (const hsaId of withheldRecipients(cancelled.map((r) => r.recipient_hsa), followed.withdrawn, followed.informedByHand)) withheld.add(hsaId);
      // Their open dead letters are resolved: a replay would send what the sender withdrew.
      await this.deadLetters.resolveCancelled(tx, { messageId: target, recipients: message.recipients.map((r) => r.hsaId), senderSystem: sender.id, episodeId: message.episodeId }, message.messageId);
      // A cancelled ready-for-discharge notice no longer sets day 0 (kept, marked, as history).
      await this.messages.cancelDayZero(tx, target, message.episodeId, this.clock.now());
    }
    if (message.type === 'acknowledgement') {
      const refusal = await this.acknowledge(tx, message);
      if (refusal !== undefined) return { ok: false, refusal };
    }
    return { ok: true, withheld, cancelled: cancelledCopies };
  }

  /**
   * docs/rules.md, rule 6: an acknowledgement marks the acknowledged copy; a rejection is a deviation. It acts
   * only on a copy addressed to the unit that acknowledges, in the acknowledgement's episode; false when there is none.
   */
  private async acknowledge(tx: Queryable, ack: Extract<CanonicalMessage, { type: 'acknowledgement' }>): Promise<Refusal | undefined> {
    const at = this.clock.now();
    const marked = await this.copies.acknowledge(
      tx,
      { messageId: ack.body.acknowledgesMessageId, recipientHsa: ack.sender.hsaId, episodeId: ack.episodeId },
      acknowledgementDetail(ack),
      at,
    );
    const outcome = judgeAcknowledgement(ack, marked);
    if (outcome.refusal !== undefined) return outcome.refusal;
    if (outcome.rejection !== undefined) {
      const { messageId, copyId, unitHsa, detail } = outcome.rejection;
      await insertDeviation(tx, 'rejected-by-recipient', { at, messageId, copyId, unitHsa, detail });
    }
    return undefined;
  }
}

/** A message as read at ingress: valid, invalid, or refused before it reaches the store. */
type Entry =
  | { readonly item: Incoming; readonly kind: 'valid'; readonly message: CanonicalMessage }
  | { readonly item: Incoming; readonly kind: 'invalid'; readonly problems: readonly Problem[] }
  | { readonly item: Incoming; readonly kind: 'refused'; readonly message: CanonicalMessage; readonly refusal: Refusal };

/** Message ids are unique per sender system: the key of a message in a batch. */
function keyOf(sender: SenderSystem, message: CanonicalMessage): string {
  return messageKey(sender.id, message);
}

interface Batch extends BatchPlan {
  readonly messages: ReadonlyArray<{ item: Incoming; message: CanonicalMessage }>;
  readonly now: Date;
}

function batchOf(messages: ReadonlyArray<{ item: Incoming; message: CanonicalMessage }>, now: Date): Batch {
  return { messages, ...planBatch(messages.map(({ item, message }) => ({ senderSystem: item.sender.id, message })), now), now };
}

function sentOf(batch: Batch) {
  return batch.messages.map(({ item, message }) => ({ senderSystem: item.sender.id, message }));
}

/** The messages of a batch as the store takes them. */
function messagesOf({ messages, deadlines, late }: Batch): MessageToStore[] {
  return messages.map(({ item, message }, i) => ({
    messageId: message.messageId,
    type: message.type,
    episodeId: message.episodeId,
    senderHsa: message.sender.hsaId,
    dialect: item.format,
    ingress: item.via,
    sentAt: message.sentAt,
    payload: item.bytes,
    canonical: message,
    notifyBy: deadlines[i] ?? null,
    lateOnArrival: late[i] ?? false,
    senderSystem: item.sender.id,
  }));
}

/** The copies the rules create (docs/rules.md, rules 1 and 5); `withheld` holds withheldKey()s. */
function copiesOf(batch: Batch, withheld: ReadonlySet<string>) {
  return copiesToCreate(sentOf(batch), batch, withheld);
}

/** The primary keys of the messages stored now, by keyOf. */
function pksOf(stored: readonly StoredMessage[]): Map<string, string> {
  return new Map(stored.map((r) => [messageKey(r.sender_system, { messageId: r.message_id }), r.id]));
}
