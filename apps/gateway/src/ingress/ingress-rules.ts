import { dayZero, notifyBy, type CanonicalMessage, type MessageType } from '@svu/canonical';
import type { RefusalReason } from '../store/records';

/**
 * What storing a message does, decided without the store (docs/rules.md, rules 2 and 4–6): which
 * copies it creates and which of them are withheld, whether it acts on copies stored before, whether
 * it may, and what it records beside. Pure functions over the message and over what the store has
 * read; the ingress statements only carry out these decisions.
 */

/** A refusal of a valid message, with the detail the sender system is told. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly detail: string;
}

/** A valid message of a batch, with the sender system whose credential came with it. */
export interface Sent {
  readonly senderSystem: string;
  readonly message: CanonicalMessage;
}

/** Message ids are unique per sender system: the key of a message in a batch. */
export function keyOf(senderSystem: string, message: Pick<CanonicalMessage, 'messageId'>): string {
  return `${senderSystem}\n${message.messageId}`;
}

/** Types whose storing changes copies stored before (cancellation, acknowledgement) or records day 0 (rule 4). */
const ACTS_ON_EARLIER: ReadonlySet<MessageType> = new Set<MessageType>(['cancellation', 'acknowledgement', 'ready-for-discharge']);

export function actsOnEarlier(type: MessageType): boolean {
  return ACTS_ON_EARLIER.has(type);
}

/** What the rules say of each message of a batch, in the batch's order. */
export interface BatchPlan {
  /** Whether each is the first in the batch with its sender system and message id: only that one gets copies. */
  readonly first: readonly boolean[];
  /** Rule 2: an admission's notifyBy; null for other types. */
  readonly deadlines: ReadonlyArray<string | null>;
  /** Rule 2: an admission that arrives already past its notifyBy is late on arrival (a deviation). */
  readonly late: readonly boolean[];
}

export function planBatch(messages: readonly Sent[], now: Date): BatchPlan {
  const deadlines = messages.map(({ message }) => (message.type === 'admission' ? notifyBy(message.body) : null));
  const seen = new Set<string>();
  const first = messages.map(({ senderSystem, message }) => {
    const key = keyOf(senderSystem, message);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const at = now.toISOString();
  return { first, deadlines, late: deadlines.map((deadline) => deadline !== null && at > deadline) };
}

/**
 * Whether a batch changes nothing stored before, so that it can be stored in one statement: every
 * message valid and allowed, none late on arrival, none acting on earlier copies.
 */
export function changesNothingStored(messages: readonly Sent[], plan: BatchPlan, allValid: boolean): boolean {
  return allValid && plan.late.every((late) => !late) && messages.every(({ message }) => !actsOnEarlier(message.type));
}

/** A copy to create: one per recipient of the first occurrence of each message (rule 1). */
export interface NewCopy {
  readonly senderSystem: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly role: string;
  /** Rule 5: stored cancelled (never sent): the cancellation of a message this recipient never got. */
  readonly withheld: boolean;
}

/** `withheld` holds `withheldKey(key, hsaId)` of the copies to store withheld. */
export function copiesToCreate(messages: readonly Sent[], plan: BatchPlan, withheld: ReadonlySet<string> = new Set()): NewCopy[] {
  return messages.flatMap(({ senderSystem, message }, i) =>
    plan.first[i]
      ? message.recipients.map((r) => ({
          senderSystem,
          messageId: message.messageId,
          recipientHsa: r.hsaId,
          role: r.role,
          withheld: withheld.has(withheldKey(keyOf(senderSystem, message), r.hsaId)),
        }))
      : [],
  );
}

export function withheldKey(messageKey: string, recipientHsa: string): string {
  return `${messageKey} ${recipientHsa}`;
}

/** A message stored before under the id a cancellation names. */
export interface NamedMessage {
  readonly senderSystem: string;
  readonly episodeId: string;
}

/**
 * Rule 5: only the original sender may cancel, within the same episode. The owner is the sender
 * system (docs/senders.md): a message of another system, or of another episode, with that id is not
 * cancelled, and the cancellation is refused rather than forwarded — alike whether another system
 * has a message with that id or none has, so that the answer tells no one which ids exist.
 */
export function judgeCancellation(
  senderSystem: string,
  cancellation: Extract<CanonicalMessage, { type: 'cancellation' }>,
  named: readonly NamedMessage[],
): Refusal | undefined {
  if (named.some((m) => m.senderSystem === senderSystem && m.episodeId === cancellation.episodeId)) return undefined;
  return {
    reason: 'cancellation-not-owner',
    detail: `no message ${cancellation.body.cancelsMessageId} of sender system ${senderSystem} in episode ${cancellation.episodeId}`,
  };
}

/**
 * Rule 5: the recipients from whom a cancellation is withheld (its copy stored cancelled): those whose
 * copy of the cancelled message was still pending and is now cancelled, and those whose copy only a
 * fallback document would have delivered, now withdrawn — they never got the message. Never those
 * who got it by fax or letter: the cancellation goes to them the same way.
 */
export function withheldRecipients(cancelledPending: Iterable<string>, withdrawn: Iterable<string>, informedByHand: Iterable<string>): Set<string> {
  const withheld = new Set<string>([...cancelledPending, ...withdrawn]);
  for (const hsaId of informedByHand) withheld.delete(hsaId);
  return withheld;
}

/** What an acknowledgement does once the copies it names have been marked (rule 6). */
export type AcknowledgementOutcome =
  | { readonly refusal: Refusal }
  | { readonly refusal?: undefined; readonly rejection?: { readonly messageId: string; readonly copyId: string; readonly unitHsa: string; readonly detail: string | null } };

/**
 * Rule 6: an acknowledgement acts only on a copy addressed to the unit that acknowledges, in the
 * acknowledgement's episode (refused when there is none); a rejection is a deviation.
 */
export function judgeAcknowledgement(ack: Extract<CanonicalMessage, { type: 'acknowledgement' }>, markedCopyIds: readonly string[]): AcknowledgementOutcome {
  const [firstCopy] = markedCopyIds;
  if (firstCopy === undefined) {
    return {
      refusal: { reason: 'acknowledgement-not-addressed', detail: `no copy of message ${ack.body.acknowledgesMessageId} was sent to ${ack.sender.hsaId}` },
    };
  }
  if (ack.body.status !== 'rejected') return {};
  return { rejection: { messageId: ack.body.acknowledgesMessageId, copyId: firstCopy, unitHsa: ack.sender.hsaId, detail: ack.body.reason ?? null } };
}

/** The history row an acknowledgement writes on the copies it marks. */
export function acknowledgementDetail(ack: Extract<CanonicalMessage, { type: 'acknowledgement' }>): string {
  return ack.body.status === 'rejected' ? `rejected: ${ack.body.reason ?? ''}` : 'received';
}

/** Rule 4: what a ready-for-discharge notice records: day 0 is the Swedish date on which it was sent. */
export function dayZeroOf(message: CanonicalMessage): { episodeId: string; messageId: string; dayZero: string; sentAt: string } | undefined {
  if (message.type !== 'ready-for-discharge') return undefined;
  return { episodeId: message.episodeId, messageId: message.messageId, dayZero: dayZero(message), sentAt: message.sentAt };
}
