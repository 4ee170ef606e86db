import { addHours, swedishDate } from '@svu/swedish-time';
import type { AdmissionBody, CanonicalMessage } from './generated/canonical';

/** Hours from admission (or the later assessment) within which every recipient must be notified. */
export const NOTIFY_WITHIN_HOURS = 24;

/** The instant by which an admission notification must reach every recipient (docs/rules.md, rule 2). */
export function notifyBy(body: AdmissionBody): string {
  const { admittedAt, assessedAt } = body;
  const start = assessedAt !== undefined && assessedAt > admittedAt ? assessedAt : admittedAt;
  return addHours(start, NOTIFY_WITHIN_HOURS);
}

/** Day 0 of a ready-for-discharge notice: the Swedish date on which it was sent, whatever the hour. */
export function dayZero(message: Pick<CanonicalMessage, 'sentAt'>): string {
  return swedishDate(message.sentAt);
}

/** What `svu inspect` prints. */
export interface Inspection {
  readonly type: CanonicalMessage['type'];
  readonly messageId: string;
  readonly episodeId: string;
  readonly notifyBy?: string;
  readonly dayZero?: string;
}

/** The identity of a message and its deadline or day 0, where its type has one. */
export function inspectMessage(message: CanonicalMessage): Inspection {
  const base = { type: message.type, messageId: message.messageId, episodeId: message.episodeId };
  if (message.type === 'admission') return { ...base, notifyBy: notifyBy(message.body) };
  if (message.type === 'ready-for-discharge') return { ...base, dayZero: dayZero(message) };
  return base;
}
