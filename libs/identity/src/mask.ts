/**
 * Anything shaped like a personal identity or coordination number: 10 or 12 digits, with or without
 * `-`, `+`, a space, `_`, `.`, `:` or `/` before the last four, a birth month 01-12 and a day 01-91 (coordination numbers
 * add 60). Organisation numbers (and so HSA ids, which start with one) have a month position of 20 or
 * more and are left alone. No check digit is required, nor a birth number other than 000: a mistyped
 * or refused number is still personal data (a space is no separator the dialects carry, but people
 * write one, and a sender may build an id with any separator; an invalid message's id is logged as sent).
 */
const IDENTITY_SHAPED = /(?<!\d)(?:\d{2})?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[1-8]\d|9[01])[-+ _.:/]?\d{4}(?!\d)/g;

/** `text` with every character after the first `keep` that `hidden` matches replaced by `*`. */
function hide(text: string, keep: number, hidden: RegExp): string {
  return text.slice(0, keep) + text.slice(keep).replace(hidden, '*');
}

/**
 * Log and error-text policy: replaces every digit of each identity-number-shaped run in `text` with
 * `*`; the rest is kept.
 */
export function maskIdentityNumbers(text: string): string {
  if (!/\d{6}/.test(text)) return text;
  return text.replace(IDENTITY_SHAPED, (run) => hide(run, 0, /\d/g));
}

/**
 * Viewer policy for a patient's own id field: keeps the birth year, hides the rest (`1941********`);
 * an id of four characters or fewer is hidden whole.
 */
export function maskIdentityNumberKeepingYear(id: string): string {
  return hide(id, id.length <= 4 ? 0 : 4, /[\s\S]/g);
}
