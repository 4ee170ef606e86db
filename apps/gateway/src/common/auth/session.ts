import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from '@svu/users';

export interface Session {
  readonly username: string;
  readonly role: Role;
  /** Expiry, milliseconds since the epoch. */
  readonly exp: number;
  /** The session's id (its row in console_sessions holds only a hash of it). */
  readonly sid: string;
}

/** Longer tokens are refused unread: a real one is about 200 characters. */
export const MAX_TOKEN_LENGTH = 2_048;

/** A signed, expiring session token: base64url(JSON).base64url(HMAC-SHA256). */
export function signSession(session: Session, secret: Buffer): string {
  if (secret.length === 0) throw new Error('a session secret must not be empty');
  const body = Buffer.from(JSON.stringify(session)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/**
 * The session a token carries when it is well formed, signed with `secret` and not expired;
 * undefined for anything else (never throws, whatever the token holds).
 */
export function verifySession(token: string, secret: Buffer, nowMs: number): Session | undefined {
  if (secret.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const [body, mac] = parts as [string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]+$/.test(mac)) return undefined;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Session> | null;
    if (session === null || typeof session !== 'object') return undefined;
    if (typeof session.exp !== 'number' || session.exp < nowMs) return undefined;
    if (session.role !== 'viewer' && session.role !== 'operator') return undefined;
    if (typeof session.username !== 'string' || session.username === '' || typeof session.sid !== 'string' || session.sid === '') return undefined;
    return { username: session.username, role: session.role, exp: session.exp, sid: session.sid };
  } catch {
    return undefined;
  }
}
