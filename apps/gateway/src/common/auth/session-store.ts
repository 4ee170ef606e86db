import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { SESSION_CLOCK, type Clock } from '../clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { SessionsRepository } from '../../store/sessions.repository';
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
    private readonly store: SessionsRepository,
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
    // Sessions long over are of no use to anyone; they go when new ones begin.
    await this.store.create(
      { idHash: idHash(sid), username: user.username, role: user.role, userFingerprint: userFingerprint(user), createdAt: now, expiresAt },
      new Date(now.getTime() - 24 * 3_600_000),
    );
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
    const usable = await this.store.touch(idHash(session.sid), { username: user.username, role: user.role, fingerprint: userFingerprint(user) }, now, this.config.sessionIdleMs);
    return usable ? session : undefined;
  }

  /** Ends one session (sign-out). */
  async revoke(session: Session, reason: string): Promise<void> {
    await this.store.revoke(idHash(session.sid), this.clock.now(), reason);
  }

  /** Ends every session of these users. */
  async revokeUsers(usernames: readonly string[], reason: string): Promise<number> {
    const revoked = await this.store.revokeUsers(usernames, this.clock.now(), reason);
    if (revoked > 0) this.logger.log({ sessions: revoked, reason }, 'console sessions revoked');
    return revoked;
  }
}
