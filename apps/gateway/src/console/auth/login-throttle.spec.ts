import { afterFailure, countingFailures, waitMs, type FailureCount } from './login-throttle';

const policy = { backoffMs: 1_000, backoffMaxMs: 60_000 };
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

/** The count after `n` failures one second apart, starting at second 0. */
function failures(n: number): FailureCount | undefined {
  let state: FailureCount | undefined;
  for (let i = 0; i < n; i++) state = afterFailure(state, at(i), policy);
  return state;
}

describe('sign-in back-off', () => {
  it('lets a try through at once while fewer failures than allowed count', () => {
    expect(waitMs(undefined, at(0), 3, policy)).toBe(0);
    expect(waitMs(failures(2), at(2), 3, policy)).toBe(0);
  });

  it('makes the next try wait after the allowed failures, doubling with each further one up to the longest wait', () => {
    // 3 failures at seconds 0, 1, 2: the next may come 1 s after the last.
    expect(waitMs(failures(3), at(2), 3, policy)).toBe(1_000);
    expect(waitMs(failures(3), at(3), 3, policy)).toBe(0);
    expect(waitMs(failures(4), at(3), 3, policy)).toBe(2_000);
    expect(waitMs(failures(5), at(4), 3, policy)).toBe(4_000);
    expect(waitMs(failures(20), at(19), 3, policy)).toBe(60_000);
    expect(waitMs(failures(2_000), at(1_999), 3, policy)).toBe(60_000);
  });

  it('forgets the failures of a key quiet for four longest waits', () => {
    const state = failures(10)!;
    expect(countingFailures(state, at(9 + 239), policy)).toBe(10);
    expect(countingFailures(state, at(9 + 240), policy)).toBe(0);
    expect(waitMs(state, at(9 + 240), 3, policy)).toBe(0);
    expect(afterFailure(state, at(9 + 240), policy)).toEqual({ failures: 1, lastFailureAt: at(249) });
  });

  it('counts a fifty-first wrong password against a limit of five as waiting, so the right one after it waits too', () => {
    let state: FailureCount | undefined;
    let refused = 0;
    for (let i = 0; i < 51; i++) {
      if (waitMs(state, at(i), 5, policy) > 0) refused += 1;
      else state = afterFailure(state, at(i), policy);
    }
    expect(refused).toBeGreaterThan(40);
    expect(waitMs(state, at(51), 5, policy)).toBeGreaterThan(0);
  });
});
