import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@svu/users';

export const VIEWER = { username: 'vera.viewer', password: 'viewer-password-1' };
export const OPERATOR = { username: 'otto.operator', password: 'operator-password-1' };

/** A users file with one viewer and one operator. */
export function writeUsers(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'svu-users-')), 'users.json');
  writeFileSync(
    path,
    JSON.stringify({
      users: [
        { username: VIEWER.username, role: 'viewer', passwordHash: hashPassword(VIEWER.password) },
        { username: OPERATOR.username, role: 'operator', passwordHash: hashPassword(OPERATOR.password) },
      ],
    }),
    // Readable by its owner only, as the gateway asks of a users file (it warns otherwise).
    { mode: 0o600 },
  );
  return path;
}

/** Signs in and returns the bearer token. */
export async function signIn(baseUrl: string, user: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${baseUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
