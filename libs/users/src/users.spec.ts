import { hashPassword, parseUsers, userFingerprint } from './users';

describe('users file', () => {
  const hash = hashPassword('pw');

  it('reads users and refuses a bad entry naming it', () => {
    const users = parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'viewer', passwordHash: hash }] }), 'u.json');
    expect(users.get('a')).toEqual({ username: 'a', role: 'viewer', passwordHash: hash });
    expect(() => parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'admin', passwordHash: hash }] }), 'u.json')).toThrow('u.json: users[0].role must be viewer or operator');
    expect(() => parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'viewer', passwordHash: 'scrypt$$' }] }), 'u.json')).toThrow('users[0].passwordHash');
    expect(() =>
      parseUsers(JSON.stringify({ users: [{ username: 'a', role: 'viewer', passwordHash: hash }, { username: 'a', role: 'operator', passwordHash: hash }] }), 'u.json'),
    ).toThrow('users[1].username "a" appears twice');
  });

  it('gives a user a fingerprint that changes with the role or the password', () => {
    const user = { username: 'a', role: 'viewer' as const, passwordHash: hash };
    expect(userFingerprint(user)).toBe(userFingerprint({ ...user }));
    expect(userFingerprint({ ...user, role: 'operator' })).not.toBe(userFingerprint(user));
    expect(userFingerprint({ ...user, passwordHash: hashPassword('pw') })).not.toBe(userFingerprint(user));
  });
});
