/** How often and how long a copy is retried. */
export interface RetryPolicy {
  /** Delay before the second attempt; doubles with every attempt. */
  readonly baseMs: number;
  /** Longest delay between two attempts. */
  readonly maxMs: number;
  /** How long after the first attempt a copy keeps being retried (24 h by docs/rules.md, rule 3). */
  readonly budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 5_000, maxMs: 3_600_000, budgetMs: 24 * 3_600_000 };

/**
 * Delay after the `attempt`-th failed attempt (1-based): exponential, capped, with ±20 % jitter so that
 * copies that failed together (an outage) do not all come back in the same instant.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/** Whether a copy first tried at `firstAttemptMs` is retried again at `nowMs` after `attempt` failures, and when. */
export function nextRetry(
  policy: RetryPolicy,
  attempt: number,
  firstAttemptMs: number,
  nowMs: number,
  random: () => number = Math.random,
): RetryDecision {
  const delayMs = backoffMs(policy, attempt, random);
  if (nowMs + delayMs > firstAttemptMs + policy.budgetMs) return { retry: false };
  return { retry: true, delayMs };
}
