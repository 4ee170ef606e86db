import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SESSION_CLOCK, type Clock } from '../../common/clock/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { Database } from '../../store/database';
import { SessionsRepository } from '../../store/sessions.repository';
import { afterFailure, FORGET_AFTER_MAX_WAITS, waitMs, type FailureCount } from './login-throttle';

interface Key {
  readonly hash: string;
  readonly allowed: number;
  /** A successful sign-in clears a user name's failures, but only takes back its own try from an address's. */
  readonly clearOnSuccess: boolean;
}

const keyHash = (kind: string, value: string) => createHash('sha256').update(`${kind}\0${value}`).digest('base64url');

/**
 * Back-off of sign-ins per user name and per client address, kept in the store so that every console
 * process counts the same failures. Each try is counted as a failure before its password is checked
 * (under a row lock), so concurrent tries cannot slip past the limit; a successful one is taken back.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    private readonly db: Database,
    private readonly store: SessionsRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(SESSION_CLOCK) private readonly clock: Clock,
  ) {}

  private keys(username: string, address: string): Key[] {
    const policy = this.config.login;
    return [
      { hash: keyHash('user', username.toLowerCase()), allowed: policy.userAttempts, clearOnSuccess: true },
      { hash: keyHash('address', address), allowed: policy.addressAttempts, clearOnSuccess: false },
    ];
  }

  /** Counts a try; `{ retryAfterMs }` when it must wait instead (nothing is counted then). */
  async begin(username: string, address: string): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    const keys = this.keys(username, address);
    const now = this.clock.now();
    const policy = this.config.login;
    return this.db.transaction(async (tx) => {
      const hashes = keys.map((k) => k.hash);
      const rows = await this.store.lockFailures(tx, hashes);
      const state = new Map<string, FailureCount>(rows.map((r) => [r.key_hash, { failures: r.failures, lastFailureAt: r.last_failure_at }]));
      const wait = Math.max(...keys.map((k) => waitMs(state.get(k.hash), now, k.allowed, policy)));
      if (wait > 0) return { ok: false as const, retryAfterMs: wait };
      for (const key of keys) {
        const next = afterFailure(state.get(key.hash), now, policy);
        await this.store.setFailures(tx, key.hash, next.failures, next.lastFailureAt);
      }
      return { ok: true as const };
    });
  }

  /** The try succeeded: the user name starts afresh, and the address's count takes this try back. */
  async succeeded(username: string, address: string): Promise<void> {
    const keys = this.keys(username, address);
    const cleared = keys.filter((k) => k.clearOnSuccess).map((k) => k.hash);
    const kept = keys.filter((k) => !k.clearOnSuccess).map((k) => k.hash);
    // Keys quiet long enough count nothing any more; they go, so the table holds only recent ones.
    const forgetBefore = new Date(this.clock.now().getTime() - FORGET_AFTER_MAX_WAITS * this.config.login.backoffMaxMs);
    await this.store.succeeded(cleared, kept, forgetBefore);
  }
}
