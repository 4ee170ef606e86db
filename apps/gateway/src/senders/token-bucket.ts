/**
 * A token bucket: `rate` tokens a second, holding at most `capacity`. In memory, so limits built on
 * it hold per process (docs/senders.md).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Tokens available at `now` (milliseconds). */
  available(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1_000) * this.rate);
      this.last = now;
    }
    return this.tokens;
  }

  /** Milliseconds until `n` tokens are there (0 when they are now). */
  waitFor(n: number, now: number): number {
    const missing = Math.min(n, this.capacity) - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.rate) * 1_000);
  }

  take(n: number, now: number): void {
    this.available(now);
    this.tokens -= n;
  }
}

export interface Limits {
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
}

/** What a limit check says: go on, or wait this long (for Retry-After). */
export type LimitDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number; readonly limit: 'messages' | 'bytes' };

/**
 * Rate and byte limits per sender system, each its own pair of buckets (one second's worth of burst),
 * so a sender over its limit is refused without touching another's budget.
 */
export class SenderLimiter {
  private readonly buckets = new Map<string, { limits: Limits; messages: TokenBucket; bytes: TokenBucket }>();

  /** Takes one message of `bytes` from the sender's budget, or says how long to wait; takes nothing when refused. */
  take(sender: string, limits: Limits, bytes: number, now: number): LimitDecision {
    const pair = this.pair(sender, limits, now);
    const messagesWait = pair.messages.waitFor(1, now);
    if (messagesWait > 0) return { ok: false, retryAfterMs: messagesWait, limit: 'messages' };
    const bytesWait = pair.bytes.waitFor(bytes, now);
    if (bytesWait > 0) return { ok: false, retryAfterMs: bytesWait, limit: 'bytes' };
    pair.messages.take(1, now);
    pair.bytes.take(bytes, now);
    return { ok: true };
  }

  /** Forgets every budget (the senders file changed: limits may have). */
  reset(): void {
    this.buckets.clear();
  }

  private pair(sender: string, limits: Limits, now: number) {
    let pair = this.buckets.get(sender);
    if (pair === undefined || pair.limits.messagesPerSecond !== limits.messagesPerSecond || pair.limits.bytesPerSecond !== limits.bytesPerSecond) {
      pair = {
        limits,
        messages: new TokenBucket(limits.messagesPerSecond, Math.max(1, limits.messagesPerSecond), now),
        bytes: new TokenBucket(limits.bytesPerSecond, limits.bytesPerSecond, now),
      };
      this.buckets.set(sender, pair);
    }
    return pair;
  }
}
