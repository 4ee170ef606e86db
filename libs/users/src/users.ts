import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jsonSyntaxError } from '@svu/canonical';

export type Role = 'viewer' | 'operator';

export interface User {
  readonly username: string;
  readonly role: Role;
  /** `scrypt$<salt hex>$<hash hex>` */
  readonly passwordHash: string;
}

const KEY_LENGTH = 32;

/** Hashes a password for the users file (`npx svu hash-password`); synchronous, for the command line and tests only. */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, KEY_LENGTH).toString('hex')}`;
}

/** The parts of a stored hash, or undefined when it is not one this gateway writes. */
export function parseHash(stored: string): { salt: Buffer; hash: Buffer } | undefined {
  const [scheme, saltHex, hashHex, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || saltHex === undefined || hashHex === undefined || rest.length > 0) return undefined;
  if (!/^(?:[0-9a-f]{2})+$/i.test(saltHex) || !/^(?:[0-9a-f]{2}){16,64}$/i.test(hashHex)) return undefined;
  return { salt: Buffer.from(saltHex, 'hex'), hash: Buffer.from(hashHex, 'hex') };
}

/**
 * What a session remembers of its user: a change of role or password in the users file changes it,
 * and so ends the user's sessions.
 */
export function userFingerprint(user: User): string {
  return createHash('sha256').update(`${user.username}\0${user.role}\0${user.passwordHash}`).digest('base64url');
}

/** Reads the users file: `{ "users": [{ "username", "role": "viewer" | "operator", "passwordHash" }] }`. */
export function loadUsers(path: string): Map<string, User> {
  return parseUsers(readFileSync(path, 'utf8'), path);
}

/**
 * Checks the users file's text; throws one error (`<path>: <what is wrong>`, one line) naming the
 * entry and field at the first problem, or the line and column where the text stops being JSON.
 */
export function parseUsers(text: string, path: string): Map<string, User> {
  let json: { users?: unknown } | null;
  try {
    json = JSON.parse(text) as { users?: unknown } | null;
  } catch (error) {
    throw new Error(`${path}: ${jsonSyntaxError(text, error)}`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.users)) throw new Error(`${path}: "users" must be a list`);
  const users = new Map<string, User>();
  json.users.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${path}: users[${i}] must be an object`);
    const { username, role, passwordHash } = entry as Record<string, unknown>;
    if (typeof username !== 'string' || username === '') throw new Error(`${path}: users[${i}].username is required`);
    if (role !== 'viewer' && role !== 'operator') throw new Error(`${path}: users[${i}].role must be viewer or operator`);
    if (typeof passwordHash !== 'string' || parseHash(passwordHash) === undefined) throw new Error(`${path}: users[${i}].passwordHash must be a scrypt hash (npx svu hash-password)`);
    if (users.has(username)) throw new Error(`${path}: users[${i}].username ${JSON.stringify(username)} appears twice`);
    users.set(username, { username, role, passwordHash });
  });
  return users;
}
