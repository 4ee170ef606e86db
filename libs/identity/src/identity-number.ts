import { dateExists } from '@svu/swedish-time';
import { luhnCheckDigit } from './luhn';

/** The kinds of Swedish patient identity. */
export type IdentityKind = 'personnummer' | 'samordningsnummer' | 'reservnummer';

const TWELVE = /^(\d{4})(\d{2})(\d{2})(\d{3})(\d)$/;
const RESERVNUMMER = /^[A-Z0-9-]{1,20}$/;

/** Samordningsnummer carry the birth day plus 60. */
const SAMORDNING_DAY_OFFSET = 60;

/** The birth number (the three digits before the check digit) that is never issued (docs/identity-numbers.md). */
const UNISSUED_BIRTH_NUMBER = '000';

/** Birth date `YYYY-MM-DD` of a 12-digit personnummer or samordningsnummer, or undefined if it does not exist. */
export function birthDate(kind: 'personnummer' | 'samordningsnummer', id: string): string | undefined {
  const m = TWELVE.exec(id);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  let day = Number(m[3]);
  if (kind === 'samordningsnummer') {
    if (day <= SAMORDNING_DAY_OFFSET) return undefined;
    day -= SAMORDNING_DAY_OFFSET;
  }
  if (!dateExists(year, month, day)) return undefined;
  return `${m[1]}-${m[2]}-${String(day).padStart(2, '0')}`;
}

/**
 * Checks a canonical identity and returns the reason it is invalid, or undefined when it is valid.
 * `latestBirthDate` is the Swedish date of the message's sending: nobody is born after it.
 */
export function identityProblem(kind: IdentityKind, id: string, latestBirthDate?: string): string | undefined {
  if (kind === 'reservnummer') {
    return RESERVNUMMER.test(id) ? undefined : 'must be a reservnummer: 1-20 of A-Z, 0-9 and -';
  }
  const m = TWELVE.exec(id);
  if (m === null) return 'must be 12 digits YYYYMMDDNNNC';
  const born = birthDate(kind, id);
  if (born === undefined) {
    return kind === 'samordningsnummer'
      ? 'is not a samordningsnummer: the birth day plus 60 does not give a date that exists'
      : 'is not a personnummer: the birth date does not exist';
  }
  if (latestBirthDate !== undefined && born > latestBirthDate) {
    return `birth date ${born} lies after the message was sent`;
  }
  if (m[4] === UNISSUED_BIRTH_NUMBER) return 'birth number 000 is never issued';
  if (luhnCheckDigit(id.slice(2, 11)) !== Number(m[5])) return 'check digit is wrong (Luhn)';
  return undefined;
}

/** Completes a 12-digit identity from its last nine digits with a correct Luhn digit (for test data). */
export function withCheckDigit(elevenDigits: string): string {
  return elevenDigits + String(luhnCheckDigit(elevenDigits.slice(2)));
}
