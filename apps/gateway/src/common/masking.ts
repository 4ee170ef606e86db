import type { CanonicalMessage } from '@svu/canonical';
import { maskIdentityNumberKeepingYear, maskIdentityNumbers } from '@svu/identity';

/** What a viewer sees instead of a patient's name. */
export const HIDDEN_NAME = '(hidden)';

/** Keys whose string values are a person's name wherever they stand in an answer. */
const NAME_KEYS = new Set(['givenName', 'familyName']);

/**
 * Keys whose values are an operator's own words (a discard reason, a note on an episode): free text
 * that may name a patient the gateway cannot know of (an invalid message's), so a viewer sees that
 * there is one, not what it says. A `reason` that is a code (`invalid-message`) is kept.
 */
const FREE_TEXT_KEYS = new Set(['reason', 'resolutionDetail', 'note']);
/** The same where every `reason` is the product's own computed words (a report's liability reason). */
const COMPUTED_REASON_FREE_TEXT_KEYS = new Set([...FREE_TEXT_KEYS].filter((k) => k !== 'reason'));

export interface ViewerMaskOptions {
  /**
   * The answer's `reason`s are computed by the gateway (the follow-up reports' liability reasons), not
   * an operator's words: a viewer sees them, with identity numbers and names masked as in any text.
   */
  readonly computedReasons?: boolean;
}
const CODE = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/** What a viewer sees instead of an operator's free text. */
export const HIDDEN_TEXT = '(text hidden from viewers)';

/** A canonical message as a viewer may see it: no identity number, and no patient names. */
export function maskMessage(message: CanonicalMessage): CanonicalMessage {
  if (message.patient === undefined) return message;
  const patient = { ...message.patient, id: maskIdentityNumberKeepingYear(message.patient.id) };
  if (patient.givenName !== undefined) patient.givenName = HIDDEN_NAME;
  if (patient.familyName !== undefined) patient.familyName = HIDDEN_NAME;
  return { ...message, patient };
}

/**
 * Whether a user of `role` may look things up by `text`: a viewer sees identity numbers masked, so it
 * may not search or ask by one either (a hit or a miss would answer a guessed number;
 * docs/console-security.md). Undefined when it may, else the refusal's text naming `field`.
 */
export function viewerProbeRefusal(role: string | undefined, field: string, text: string | undefined, what: string): string | undefined {
  if (role === 'operator' || text === undefined || maskIdentityNumbers(text) === text) return undefined;
  return `${field}: viewers may not ${what}`;
}

/** The original payload holds identity numbers in dialect forms, so a viewer does not get it at all. */
export function maskPayload(): null {
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * An API answer as a viewer may see it: every identity-number-shaped run in every string (message
 * ids, problem texts and errors included) masked by the same rule as the logs (`maskIdentityNumbers`
 * of libs/identity), the values of name fields hidden, and each of `names` (the patient's names,
 * where the caller knows them) hidden wherever it stands in a text, and operators' free text (a
 * discard reason, a note) hidden whole. Dates, numbers and non-plain
 * objects (files) are left as they are.
 */
export function maskForViewer<T>(value: T, names: readonly string[] = [], options: ViewerMaskOptions = {}): T {
  const freeTextKeys = options.computedReasons === true ? COMPUTED_REASON_FREE_TEXT_KEYS : FREE_TEXT_KEYS;
  // Whole words only, so that a short name does not eat into other words.
  const patterns = names
    .filter((n) => n.trim().length >= 2)
    .map((n) => new RegExp(`(?<![\\p{L}\\p{N}])${n.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'giu'));
  const text = (s: string) => patterns.reduce((out, pattern) => out.replace(pattern, HIDDEN_NAME), maskIdentityNumbers(s));
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key !== undefined && NAME_KEYS.has(key)) return HIDDEN_NAME;
      // A reason or a resolution may be a code (`invalid-message`), kept; a note never is (`karin-oberg` is a name).
      if (key !== undefined && freeTextKeys.has(key) && (key === 'note' || !CODE.test(v))) return HIDDEN_TEXT;
      return text(v);
    }
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
    return v;
  };
  return walk(value) as T;
}
