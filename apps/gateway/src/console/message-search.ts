import { createHash } from 'node:crypto';
import { fromHyphenated, fromTenDigit, maskIdentityNumbers } from '@svu/identity';

/** The longest search text taken (message and episode ids are shorter). */
export const LONGEST_SEARCH = 200;

/** What a search text asks for: a message or episode id, and (when it is shaped like one) an identity number. */
export interface SearchKey {
  /** The text as typed (trimmed): a message id or an episode id, exactly. */
  readonly id: string;
  /** The canonical 12-digit identity number the text names, when it is shaped like one. */
  readonly identity?: string;
  /** True when the text is shaped like an identity number (viewers may not search by one). */
  readonly identityShaped: boolean;
}

/** The Swedish calendar year of `at` (a ten-digit number's century is read against it). */
export function swedishYear(at: Date): number {
  return Number(new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric' }).format(at));
}

/**
 * Reads a search text: every form an identity number is written in (12 digits, `YYYYMMDD-NNNC`,
 * `YYMMDD-NNNC` with `-` or `+`, ten digits, a space or another separator before the last four)
 * gives its canonical 12 digits, the century of a ten-digit form read against `year` as webcare's
 * readers do (docs/identity-numbers.md). A reservnummer cannot be told from an id, so it is searched
 * as an id only.
 */
export function searchKeyOf(text: string, year: number): SearchKey {
  const id = text.trim();
  const identityShaped = maskIdentityNumbers(id) !== id;
  if (!identityShaped) return { id, identityShaped };
  const compact = id.replace(/[\s_.:/]/g, (c, at: number) => (at === id.length - 5 ? '-' : c)).replace(/\s/g, '');
  let identity: string | undefined;
  if (/^\d{12}$/.test(compact)) identity = compact;
  else if (/^\d{10}$/.test(compact)) identity = fromTenDigit(`${compact.slice(0, 6)}-${compact.slice(6)}`, year);
  else identity = fromHyphenated(compact) ?? fromTenDigit(compact, year);
  return identity === undefined ? { id, identityShaped } : { id, identity, identityShaped };
}

/**
 * The key the store finds a patient's messages by: SHA-256 of the canonical identity number's bytes,
 * as migration 020 computes `messages.patient_id_hash` from `canonical.patient.id`.
 */
export function patientIdHash(identity: string): Buffer {
  return createHash('sha256').update(identity, 'utf8').digest();
}
