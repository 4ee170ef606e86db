import { SenderLimiter, TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('starts full, empties, and refills at its rate up to its capacity', () => {
    const bucket = new TokenBucket(10, 10, 0);
    expect(bucket.waitFor(10, 0)).toBe(0);
    bucket.take(10, 0);
    expect(bucket.waitFor(1, 0)).toBe(100);
    expect(bucket.available(500)).toBeCloseTo(5);
    expect(bucket.available(60_000)).toBe(10);
  });
});

describe('SenderLimiter', () => {
  const limits = { messagesPerSecond: 2, bytesPerSecond: 1_000 };

  it('refuses a sender over its message rate with the wait, without touching another sender', () => {
    const limiter = new SenderLimiter();
    expect(limiter.take('a', limits, 10, 0)).toEqual({ ok: true });
    expect(limiter.take('a', limits, 10, 0)).toEqual({ ok: true });
    expect(limiter.take('a', limits, 10, 0)).toEqual({ ok: false, retryAfterMs: 500, limit: 'messages' });
    expect(limiter.take('b', limits, 10, 0)).toEqual({ ok: true });
    expect(limiter.take('a', limits, 10, 500)).toEqual({ ok: true });
  });

  it('refuses a sender over its bytes a second, and takes no message token for a refused one', () => {
    const limiter = new SenderLimiter();
    expect(limiter.take('a', limits, 900, 0)).toEqual({ ok: true });
    expect(limiter.take('a', limits, 200, 0)).toEqual({ ok: false, retryAfterMs: 100, limit: 'bytes' });
    expect(limiter.take('a', limits, 100, 0)).toEqual({ ok: true });
  });

  it('takes new limits into force when they change', () => {
    const limiter = new SenderLimiter();
    limiter.take('a', limits, 1, 0);
    limiter.take('a', limits, 1, 0);
    expect(limiter.take('a', limits, 1, 0).ok).toBe(false);
    expect(limiter.take('a', { ...limits, messagesPerSecond: 5 }, 1, 0).ok).toBe(true);
  });
});
