import { createHmac, randomBytes } from 'node:crypto';
import { signSession, verifySession, type Session } from './session';

const secret = randomBytes(32);
const session: Session = { username: 'vera.viewer', role: 'viewer', exp: 2_000, sid: 'abc' };

describe('session tokens', () => {
  it('verifies its own token until it expires', () => {
    const token = signSession(session, secret);
    expect(verifySession(token, secret, 1_000)).toEqual(session);
    expect(verifySession(token, secret, 2_001)).toBeUndefined();
  });

  it('refuses a token signed with another secret, or with the empty one, and never signs with an empty secret', () => {
    const empty = Buffer.alloc(0);
    expect(verifySession(signSession(session, randomBytes(32)), secret, 0)).toBeUndefined();
    expect(() => signSession(session, empty)).toThrow(/empty/);
    expect(verifySession(signSession(session, secret), empty, 0)).toBeUndefined();
  });

  it('refuses a token whose body was changed (another role)', () => {
    const [, mac] = signSession(session, secret).split('.');
    const body = Buffer.from(JSON.stringify({ ...session, role: 'operator' })).toString('base64url');
    expect(verifySession(`${body}.${mac}`, secret, 0)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['%E0%A4%A', 'bad percent-encoding'],
    ['a.b.c', 'three parts'],
    ['not base64!.x', 'bad characters'],
    ['x'.repeat(5_000), 'huge'],
  ])('refuses a malformed token without throwing: %s (%s)', (token) => {
    expect(verifySession(token, secret, 0)).toBeUndefined();
  });

  it('refuses a well-signed token without a user name or session id, or that is not an object', () => {
    for (const partial of [{ role: 'viewer', exp: 2_000, sid: 'a' }, { username: 'x', role: 'viewer', exp: 2_000 }, { ...session, role: 'admin' }, null, 42]) {
      const body = Buffer.from(JSON.stringify(partial)).toString('base64url');
      const token = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
      expect(verifySession(token, secret, 0)).toBeUndefined();
    }
  });
});
