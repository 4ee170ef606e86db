/**
 * Typed outcomes of the services behind the HTTP edge: a value, or a refusal that says what kind it is
 * and why. Services return them instead of throwing HTTP exceptions; the edge's one exception filter
 * (EdgeExceptionFilter) turns a refusal into the HTTP status and body (docs/api.md).
 */
export type RefusalKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict' | 'gone' | 'too-large' | 'too-many' | 'unavailable';

export interface Refusal {
  readonly refused: RefusalKind;
  /** A text naming the field or the item, or a body of its own (problems of a message, a refusal's reason). */
  readonly detail: string | Readonly<Record<string, unknown>>;
  /** Headers the answer carries (Retry-After). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The controller wrote its own audit entry for it (the edge's filter then writes none). */
  readonly audited?: boolean;
  /**
   * The request's body was not read (refused before it, or too large): the answer closes the
   * connection, so that the rest of that body is not taken for the next request.
   */
  readonly unreadBody?: boolean;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & Refusal);

export const done = <T>(value: T): Outcome<T> => ({ ok: true, value });

export function refuse(refused: RefusalKind, detail: Refusal['detail'], headers?: Refusal['headers']): { readonly ok: false } & Refusal {
  return { ok: false, refused, detail, ...(headers === undefined ? {} : { headers }) };
}

/** A refusal on its way to the exception filter (thrown by the edge: pipes, guards, controllers). */
export class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    const message = typeof refusal.detail === 'string' ? refusal.detail : refusal.detail['message'];
    super(typeof message === 'string' ? message : refusal.refused);
  }
}

/** The value of an outcome; a refusal goes to the exception filter. */
export function answer<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new Refused(outcome);
}

/** Throws a refusal from the edge. */
export function refusal(refused: RefusalKind, detail: Refusal['detail'], headers?: Refusal['headers']): Refused {
  return new Refused(refuse(refused, detail, headers));
}

/** Throws a refusal that the controller has audited with an entry of its own. */
export function auditedRefusal(refused: RefusalKind, detail: Refusal['detail']): Refused {
  return new Refused({ ...refuse(refused, detail), audited: true });
}

/** Throws a refusal of a request whose body was not read: the answer closes the connection (Refusal.unreadBody). */
export function unreadRefusal(refused: RefusalKind, detail: Refusal['detail'], headers?: Refusal['headers']): Refused {
  return new Refused({ ...refuse(refused, detail, headers), unreadBody: true });
}
