import type { AttemptDetail } from './attempt-detail';

/** What one delivery attempt came to; a failure may say where it went and what came back (`attempt`). */
export type AttemptOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly error: string; readonly attempt?: AttemptDetail }
  | { readonly kind: 'permanent'; readonly error: string; readonly attempt?: AttemptDetail };

/** `outcome` with the detail of its attempt when it failed. */
export function withAttempt(outcome: AttemptOutcome, attempt: AttemptDetail): AttemptOutcome {
  return outcome.kind === 'delivered' ? outcome : { ...outcome, attempt };
}

/**
 * The outcome of an HTTP answer: 2xx delivers; 408 and 429 are worth another try, as is any 5xx;
 * any other 4xx says the request itself is wrong, so retrying cannot help.
 */
export function httpOutcome(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 408 || status === 429 || status >= 500 || status < 200) return { kind: 'retry', error: `HTTP ${status}` };
  if (status >= 400) return { kind: 'permanent', error: `HTTP ${status}` };
  return { kind: 'retry', error: `HTTP ${status}` };
}
