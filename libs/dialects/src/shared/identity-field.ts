import { problem, type Problem } from '@svu/canonical';
import { fromHyphenated, fromTenDigit } from '@svu/identity';
import { swedishYear } from '@svu/swedish-time';

/**
 * How the XML dialects write a personnummer or samordningsnummer, read back into the canonical 12
 * digits (docs/identity-numbers.md). A form the dialect does not carry (no separator, a space, the
 * other dialect's form) is a problem at `patient.id`; the number itself (date, birth number, check
 * digit) is checked afterwards, by the canonical rules, the same way for every dialect.
 */

/** lifecare: `YYYYMMDD-NNNC`. */
export function readHyphenatedId(raw: string, problems: Problem[]): string | undefined {
  const twelve = fromHyphenated(raw);
  if (twelve === undefined) problems.push(problem('format', ['patient', 'id'], 'must be written YYYYMMDD-NNNN'));
  return twelve;
}

/**
 * webcare: `YYMMDD-NNNC`, `+` instead of `-` from the year the person turns 100; the century comes
 * from the separator and the Swedish year of `sentAt`, so without a valid `sentAt` it cannot be read.
 */
export function readTenDigitId(raw: string, sentAt: string | undefined, problems: Problem[]): string | undefined {
  if (sentAt === undefined) {
    problems.push(problem('rule', ['patient', 'id'], 'cannot be read without a valid sentAt (the century depends on it)'));
    return undefined;
  }
  const twelve = fromTenDigit(raw, swedishYear(sentAt));
  if (twelve === undefined) {
    problems.push(problem('format', ['patient', 'id'], 'must be written YYMMDD-NNNC (+ instead of - from the 100th year)'));
  }
  return twelve;
}
