/**
 * How the gateway and the command line name a service they cannot connect to: the URL as it may be
 * shown (its password replaced by `***`), the setting it came from, and why, in one line.
 */

/** A URL as it may be shown in an error or a log: its password, if any, replaced by `***`. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL the WHATWG parser takes: mask whatever stands between `user:` and `@`.
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
  }
}

/** Why a connection failed, in a few words: the error's message (for an AggregateError, its first error's), or its code. */
export function reasonOf(error: unknown): string {
  // Duck-typed: an error from another realm (a vm context, a test runner) is no `instanceof Error` here.
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') return String(error);
  const { message, errors, code, name } = error as { message: string; errors?: unknown[]; code?: string; name?: string };
  if (message !== '') return message;
  if (errors?.[0] !== undefined) return reasonOf(errors[0]);
  return code ?? name ?? 'unknown error';
}

/**
 * The error to show when `service` at `url` cannot be reached or refuses the connection:
 * `cannot connect to PostgreSQL at postgres://svu:***@db:5432/svu (DATABASE_URL): password
 * authentication failed for user "svu"`. `setting` names where the URL came from (an environment
 * variable, an option). The password appears nowhere in it, not even when the cause repeats it.
 */
export function connectionError(service: string, url: string, cause: unknown, setting?: string): Error {
  let reason = reasonOf(cause);
  for (const secret of passwordsOf(url)) reason = reason.split(secret).join('***');
  return new Error(`cannot connect to ${service} at ${withoutPassword(url)}${setting === undefined ? '' : ` (${setting})`}: ${reason}`, { cause });
}

/** The password of a URL as written and as decoded (an error may quote either); none when it has none. */
function passwordsOf(url: string): string[] {
  let raw: string | undefined;
  try {
    raw = new URL(url).password;
  } catch {
    raw = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]+)@/i.exec(url)?.[1];
  }
  if (raw === undefined || raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // not percent-encoded text: the raw form only
  }
  return [...new Set([raw, decoded])];
}
