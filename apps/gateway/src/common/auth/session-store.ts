import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { SESSION_CLOCK, type Clock } from '../clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { Database } from '../../store/database';
import { signSession, verifySession, type Session } from './session';
import { userFingerprint, type User } from '@svu/users';
import { UsersService } from './users.service';

const idHash = (sid: string) => createHash('sha256').update(sid).digest('base64url');

/** The secret that signs sessions: SVU_SESSION_SECRET, or random for this process alone. */
@Injectable()
export class SessionSecret {
  readonly value: Buffer;
  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.value = config.sessionSecret ?? randomBytes(32);
  }
}

/**
 * Console sessions in the store (console_sessions), shared by every console process. A token is
 * signed (so a forged one is refused without a query) and names its session row; a request is let
 * through only while the row is not revoked, not expired, used within the idle time, and its user is
 * still in the users file with the same role and password.
 */
@Injectable()
export class SessionStore implements OnModuleInit {
  private readonly logger = new Logger(SessionStore.name);

  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly secret: SessionSecret,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(SESSION_CLOCK) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // Every process revokes in the store what its own reload sees; the check per request does not
    // wait for that (it compares with the file in force), so a process that reloads later is no gap.
    this.users.onChange((previous, current) => {
      const gone = [...previous.values()].filter((u) => {
        const now = current.get(u.username);
        return now === undefined || userFingerprint(now) !== userFingerprint(u);
      });
      if (gone.length === 0) return;
      void this.revokeUsers(gone.map((u) => u.username), 'user removed or changed in the users file').catch((error: Error) =>
        this.logger.warn({ err: error.message }, 'sessions of changed users not revoked in the store; they are refused anyway'),
      );
    });
  }

  /** Begins a session for `user`; the token and when it expires. */
  async create(user: User): Promise<{ token: string; session: Session; expiresAt: Date }> {
    const now = this.clock.now();
    const sid = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.config.sessionMs);
    await this.db.query(
      `INSERT INTO console_sessions (id_hash, username, role, user_fingerprint, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)`,
      [idHash(sid), user.username, user.role, userFingerprint(user), now, expiresAt],
    );
    // Sessions long over are of no use to anyone; they go when new ones begin.
    await this.db.query('DELETE FROM console_sessions WHERE expires_at < $1', [new Date(now.getTime() - 24 * 3_600_000)]);
    const session: Session = { username: user.username, role: user.role, exp: expiresAt.getTime(), sid };
    return { token: signSession(session, this.secret.value), session, expiresAt };
  }

  /** The session of a token if it may be used now (and marks it used); undefined otherwise. */
  async check(token: string): Promise<Session | undefined> {
    const now = this.clock.now();
    const session = verifySession(token, this.secret.value, now.getTime());
    if (session === undefined) return undefined;
    const user = this.users.get(session.username);
    if (user === undefined || user.role !== session.role) return undefined;
    const rows = await this.db.query<{ username: string }>(
      `UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, $2)
       WHERE id_hash = $1 AND username = $3 AND role = $4 AND user_fingerprint = $5 AND revoked_at IS NULL
         AND expires_at > $2 AND last_seen_at > $2::timestamptz - $6 * interval '1 millisecond'
       RETURNING username`,
      [idHash(session.sid), now, user.username, user.role, userFingerprint(user), this.config.sessionIdleMs],
    );
    return rows.length === 1 ? session : undefined;
  }

  /** Ends one session (sign-out). */
  async revoke(session: Session, reason: string): Promise<void> {
    await this.db.query('UPDATE console_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id_hash = $1 AND revoked_at IS NULL', [idHash(session.sid), this.clock.now(), reason]);
  }

  /** Ends every session of these users. */
  async revokeUsers(usernames: readonly string[], reason: string): Promise<number> {
    const rows = await this.db.query('UPDATE console_sessions SET revoked_at = $2, revoked_reason = $3 WHERE username = ANY($1) AND revoked_at IS NULL RETURNING 1', [
      usernames,
      this.clock.now(),
      reason,
    ]);
    if (rows.length > 0) this.logger.log({ sessions: rows.length, reason }, 'console sessions revoked');
    return rows.length;
  }
}
