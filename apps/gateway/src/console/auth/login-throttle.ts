import type { LoginPolicy } from '../../config/gateway-config';

/** Failed sign-ins counted against one key (a user name, or a client address). */
export interface FailureCount {
  readonly failures: number;
  readonly lastFailureAt: Date;
}

/** Failures are forgotten after this many times the longest wait without a failure (1 hour by default). */
export const FORGET_AFTER_MAX_WAITS = 4;

/** The failures that still count at `now`: none once the key has been quiet long enough. */
export function countingFailures(state: FailureCount | undefined, now: Date, policy: Pick<LoginPolicy, 'backoffMaxMs'>): number {
  if (state === undefined || state.failures <= 0) return 0;
  return now.getTime() - state.lastFailureAt.getTime() >= FORGET_AFTER_MAX_WAITS * policy.backoffMaxMs ? 0 : state.failures;
}

/**
 * When the next sign-in against a key may be tried: at once while fewer than `allowed` failures
 * count; after that, the first wait after the last failure is `backoffMs`, doubling with each further
 * failure up to `backoffMaxMs`. Milliseconds to wait, 0 when a try is allowed now.
 */
export function waitMs(state: FailureCount | undefined, now: Date, allowed: number, policy: Pick<LoginPolicy, 'backoffMs' | 'backoffMaxMs'>): number {
  const failures = countingFailures(state, now, policy);
  if (failures < allowed) return 0;
  const exponent = Math.min(failures - allowed, 40);
  const wait = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** exponent);
  return Math.max(0, state!.lastFailureAt.getTime() + wait - now.getTime());
}

/** The count after one more failure at `now` (a quiet key starts again from one). */
export function afterFailure(state: FailureCount | undefined, now: Date, policy: Pick<LoginPolicy, 'backoffMaxMs'>): FailureCount {
  return { failures: countingFailures(state, now, policy) + 1, lastFailureAt: now };
}
