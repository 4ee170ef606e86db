import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from './users';

export interface Session {
  readonly username: string;
  readonly role: Role;
  /** Expiry, milliseconds since the epoch. */
  readonly exp: number;
}

/** A signed, expiring session token: base64url(JSON).base64url(HMAC-SHA256). */
export function signSession(session: Session, secret: Buffer): string {
  const body = Buffer.from(JSON.stringify(session)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export function verifySession(token: string, secret: Buffer, nowMs: number): Session | undefined {
  const [body, mac] = token.split('.');
  if (body === undefined || mac === undefined) return undefined;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Session;
    if (typeof session.exp !== 'number' || session.exp < nowMs) return undefined;
    if (session.role !== 'viewer' && session.role !== 'operator') return undefined;
    return session;
  } catch {
    return undefined;
  }
}
