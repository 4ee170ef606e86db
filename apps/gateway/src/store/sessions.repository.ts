import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';

/** A console session as stored: the hash of its id (never the id), its user and their fingerprint. */
export interface NewSession {
  readonly idHash: string;
  readonly username: string;
  readonly role: string;
  readonly userFingerprint: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** A sign-in key's failures (console_login_failures): a hash of the user name or the client address. */
export interface FailureRow {
  readonly key_hash: string;
  readonly failures: number;
  readonly last_failure_at: Date;
}

/**
 * The console's sessions (console_sessions) and its count of failed sign-ins (console_login_failures),
 * shared by every console process. Both hold hashes only: of the session id, of the user name or
 * client address.
 */
@Injectable()
export class SessionsRepository {
  constructor(private readonly db: Database) {}

  /** Stores a new session; sessions over before `forgetBefore` go with it. */
  async create(session: NewSession, forgetBefore: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO console_sessions (id_hash, username, role, user_fingerprint, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)`,
      [session.idHash, session.username, session.role, session.userFingerprint, session.createdAt, session.expiresAt],
    );
    await this.db.query('DELETE FROM console_sessions WHERE expires_at < $1', [forgetBefore]);
  }

  /**
   * Marks a session used at `now` if it may be used: the same user, role and fingerprint, not revoked,
   * not expired, and used within `idleMs`. Whether it may.
   */
  async touch(idHash: string, user: { username: string; role: string; fingerprint: string }, now: Date, idleMs: number): Promise<boolean> {
    const rows = await this.db.query<{ username: string }>(
      `UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, $2)
       WHERE id_hash = $1 AND username = $3 AND role = $4 AND user_fingerprint = $5 AND revoked_at IS NULL
         AND expires_at > $2 AND last_seen_at > $2::timestamptz - $6 * interval '1 millisecond'
       RETURNING username`,
      [idHash, now, user.username, user.role, user.fingerprint, idleMs],
    );
    return rows.length === 1;
  }

  /** Ends one session. */
  async revoke(idHash: string, at: Date, reason: string): Promise<void> {
    await this.db.query('UPDATE console_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id_hash = $1 AND revoked_at IS NULL', [idHash, at, reason]);
  }

  /** Ends every session of these users; how many. */
  async revokeUsers(usernames: readonly string[], at: Date, reason: string): Promise<number> {
    const rows = await this.db.query('UPDATE console_sessions SET revoked_at = $2, revoked_reason = $3 WHERE username = ANY($1) AND revoked_at IS NULL RETURNING 1', [
      usernames,
      at,
      reason,
    ]);
    return rows.length;
  }

  /**
   * The failures of these keys, locked in `tx` (in key order). Rows exist before they are locked, so
   * that the first concurrent tries also queue on the lock; a new key has none.
   */
  async lockFailures(tx: Queryable, keyHashes: readonly string[]): Promise<FailureRow[]> {
    await tx.query(
      `INSERT INTO console_login_failures (key_hash, failures, last_failure_at) SELECT unnest($1::text[]), 0, '-infinity'
         ON CONFLICT (key_hash) DO NOTHING`,
      [keyHashes],
    );
    const rows = await tx.query<FailureRow>('SELECT key_hash, failures, last_failure_at FROM console_login_failures WHERE key_hash = ANY($1) ORDER BY key_hash FOR UPDATE', [
      keyHashes,
    ]);
    return rows.rows;
  }

  /** A key's failures as they now stand (after lockFailures in `tx`). */
  async setFailures(tx: Queryable, keyHash: string, failures: number, lastFailureAt: Date): Promise<void> {
    await tx.query('UPDATE console_login_failures SET failures = $2, last_failure_at = $3 WHERE key_hash = $1', [keyHash, failures, lastFailureAt]);
  }

  /**
   * A sign-in succeeded: the keys in `cleared` start afresh, those in `takenBack` count one failure
   * less; keys with no failure since `forgetBefore` go.
   */
  async succeeded(cleared: readonly string[], takenBack: readonly string[], forgetBefore: Date): Promise<void> {
    await this.db.query('DELETE FROM console_login_failures WHERE key_hash = ANY($1)', [cleared]);
    await this.db.query('UPDATE console_login_failures SET failures = greatest(failures - 1, 0) WHERE key_hash = ANY($1)', [takenBack]);
    await this.db.query('DELETE FROM console_login_failures WHERE last_failure_at < $1', [forgetBefore]);
  }
}
