import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Role = 'viewer' | 'operator';

export interface User {
  readonly username: string;
  readonly role: Role;
  /** `scrypt$<salt hex>$<hash hex>` */
  readonly passwordHash: string;
}

const KEY_LENGTH = 32;

/** Hashes a password for the users file (`npx svu hash-password`). */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, KEY_LENGTH).toString('hex')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || saltHex === undefined || hashHex === undefined) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = scryptSync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Reads the users file: `{ "users": [{ "username", "role": "viewer" | "operator", "passwordHash" }] }`. */
export function loadUsers(path: string): Map<string, User> {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { users?: unknown };
  if (!Array.isArray(json.users)) throw new Error(`${path}: "users" must be a list`);
  const users = new Map<string, User>();
  json.users.forEach((entry: Record<string, unknown>, i) => {
    const { username, role, passwordHash } = entry;
    if (typeof username !== 'string' || username === '') throw new Error(`${path}: users[${i}].username is required`);
    if (role !== 'viewer' && role !== 'operator') throw new Error(`${path}: users[${i}].role must be viewer or operator`);
    if (typeof passwordHash !== 'string' || !passwordHash.startsWith('scrypt$')) throw new Error(`${path}: users[${i}].passwordHash must be a scrypt hash (npx svu hash-password)`);
    users.set(username, { username, role, passwordHash });
  });
  return users;
}
