import { maskIdentityNumbers } from '@svu/identity';

/**
 * What the console shows of a failed delivery attempt beside its error (docs/console.md): where it
 * went (the URL without credentials, query or fragment; an AMQP routing key), the HTTP status when
 * there was an answer, and the first bytes of the answer's body, identity numbers masked.
 */
export interface AttemptDetail {
  readonly endpoint: string;
  readonly status?: number;
  readonly responseStart?: string;
}

/** How many bytes of a recipient's answer are kept. */
export const RESPONSE_START_BYTES = 200;

/** A URL as the console may show it: no user name or password, no query (it may hold a key), no fragment. */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

// Control characters other than tab and newline (PostgreSQL's jsonb refuses NUL).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/**
 * The first `limit` bytes of a recipient's answer as text (UTF-8, a character cut at the end or not
 * UTF-8 shown as U+FFFD), control characters replaced, identity numbers masked; undefined when empty.
 */
export function responseStart(body: Uint8Array | undefined, limit = RESPONSE_START_BYTES): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  const cut = body.length > limit;
  let text = Buffer.from(body.subarray(0, limit)).toString('utf8').replace(CONTROL, '\uFFFD');
  // A multi-byte character cut by the limit decodes as U+FFFD at the end: dropped, as it was not sent whole.
  if (cut) text = `${text.replace(/\uFFFD$/, '')}…`;
  return maskIdentityNumbers(text);
}

/** The detail of an attempt, without the fields it does not have. */
export function attemptDetail(endpoint: string, status?: number, body?: Uint8Array): AttemptDetail {
  const start = responseStart(body);
  return { endpoint, ...(status === undefined ? {} : { status }), ...(start === undefined ? {} : { responseStart: start }) };
}
