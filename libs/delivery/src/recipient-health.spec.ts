import { decide, HEALTHY, neverReached, probeDelayMs, stateOf, type ProbePolicy, type RecipientHealth } from './recipient-health';

const policy: ProbePolicy = { baseMs: 1_000, maxMs: 30_000 };
const t0 = new Date('2026-03-01T10:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

function failingSince(at: Date, failedProbes = 0): RecipientHealth {
  return decide({ ...HEALTHY, failedProbes }, { kind: 'failure', error: 'HTTP 503', probe: false }, at, policy).next;
}

describe('probe backoff', () => {
  it('doubles from the base and stops at the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => probeDelayMs(policy, n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('never waits longer than the maximum, however long the outage (2 hours of probes every 30 s)', () => {
    let health = failingSince(t0);
    let now = t0;
    for (let i = 0; i < 250; i++) {
      now = health.probeAt!;
      health = decide(health, { kind: 'failure', error: 'timed out', probe: true }, now, policy).next;
      expect(health.probeAt!.getTime() - now.getTime()).toBeLessThanOrEqual(policy.maxMs);
    }
    expect(now.getTime() - t0.getTime()).toBeGreaterThan(2 * 3_600_000);
    // Back a moment after the last probe: the next one is at most SVU_PROBE_MAX away.
    expect(health.probeAt!.getTime() - now.getTime()).toBe(30_000);
  });
});

describe('recipient health', () => {
  it('starts failing at the first failure, with since, last error and a first probe after the base delay', () => {
    const d = decide(HEALTHY, { kind: 'failure', error: 'ECONNREFUSED', probe: false }, t0, policy);
    expect(d.transition).toBe('started-failing');
    expect(stateOf(d.next)).toBe('failing');
    expect(d.next).toMatchObject({ failingSince: t0, lastError: 'ECONNREFUSED', lastFailureAt: t0, failedProbes: 0, probeAt: later(1_000) });
  });

  it('does not push the probe back for copies that were already on their way, only for a failed probe', () => {
    const failing = failingSince(t0);
    const stray = decide(failing, { kind: 'failure', error: 'timed out', probe: false }, later(500), policy);
    expect(stray.transition).toBeUndefined();
    expect(stray.next).toMatchObject({ probeAt: later(1_000), failedProbes: 0, lastError: 'timed out', failingSince: t0 });
    const probe = decide(stray.next, { kind: 'failure', error: 'HTTP 503', probe: true }, later(1_000), policy);
    expect(probe.next).toMatchObject({ probeAt: later(3_000), failedProbes: 1, failingSince: t0 });
  });

  it('recovers at the first success and releases the backlog', () => {
    const d = decide(failingSince(t0, 0), { kind: 'success' }, later(60_000), policy);
    expect(d.transition).toBe('recovered');
    expect(d.release).toBe(true);
    expect(stateOf(d.next)).toBe('healthy');
    expect(d.next).toMatchObject({ failingSince: null, probeAt: null, failedProbes: 0, lastSuccessAt: later(60_000), lastError: 'HTTP 503' });
  });

  it('a success while healthy only notes the time', () => {
    const d = decide(HEALTHY, { kind: 'success' }, t0, policy);
    expect(d).toEqual({ next: { ...HEALTHY, lastSuccessAt: t0 }, release: false });
  });

  it('pause holds the copies back whatever the transport does; resume releases them, or probes at once when failing', () => {
    const paused = decide(HEALTHY, { kind: 'pause', by: 'operator', reason: 'announced maintenance' }, t0, policy).next;
    expect(stateOf(paused)).toBe('paused');
    expect(paused.pausedBy).toBe('operator');
    expect(paused.pauseReason).toBe('announced maintenance');
    // A success while paused (a copy already on its way) does not release the backlog.
    const failingPaused = decide(paused, { kind: 'failure', error: 'HTTP 503', probe: false }, later(1), policy).next;
    expect(stateOf(failingPaused)).toBe('paused');
    expect(decide(failingPaused, { kind: 'success' }, later(2), policy).release).toBe(false);
    expect(decide(paused, { kind: 'resume' }, later(5), policy)).toMatchObject({ release: true });
    const resumedFailing = decide(failingPaused, { kind: 'resume' }, later(5), policy);
    expect(resumedFailing.release).toBe(false);
    expect(resumedFailing.next.probeAt).toEqual(later(5));
    expect(stateOf(resumedFailing.next)).toBe('failing');
  });

  it('retry now probes a failing recipient at once and is refused while paused', () => {
    const failing = failingSince(t0, 0);
    const d = decide({ ...failing, probeAt: later(30_000) }, { kind: 'retry-now' }, later(10), policy);
    expect(d.next.probeAt).toEqual(later(10));
    expect(d.refused).toBeUndefined();
    const paused = decide(failing, { kind: 'pause', by: 'operator', reason: 'announced maintenance' }, later(1), policy).next;
    expect(decide(paused, { kind: 'retry-now' }, later(2), policy).refused).toMatch(/paused/);
    expect(decide(HEALTHY, { kind: 'resume' }, t0, policy).refused).toMatch(/not paused/);
    // Pausing twice is refused, and the first pause (who, since when) stands.
    const again = decide(paused, { kind: 'pause', by: 'someone else', reason: 'another' }, later(3), policy);
    expect(again.refused).toMatch(/already paused/);
    expect(again.next).toBe(paused);
    expect(decide(HEALTHY, { kind: 'retry-now' }, t0, policy).release).toBe(true);
  });
});

describe('reachable again between probes', () => {
  const refused = (at: Date) => decide(HEALTHY, { kind: 'failure', error: 'ECONNREFUSED', probe: false }, at, policy).next;

  it('brings the probe forward when nothing listened and the recipient accepts connections again', () => {
    let health = refused(t0);
    for (let i = 0; i < 10; i++) health = decide(health, { kind: 'failure', error: 'ECONNREFUSED', probe: true }, health.probeAt!, policy).next;
    const now = new Date(health.probeAt!.getTime() - 25_000);
    const d = decide(health, { kind: 'reachable' }, now, policy);
    expect(d.next.probeAt).toEqual(now);
    expect(d.probeNow).toBe(true);
    // Still failing: the probe decides, and nothing is released before it succeeds.
    expect(d.next.failing).toBe(true);
    expect(d.release).toBe(false);
    expect(d.transition).toBeUndefined();
  });

  it('leaves the backoff alone for a recipient that answered or took the connection and then timed out, a paused or healthy one', () => {
    const answered = failingSince(t0);
    expect(decide(answered, { kind: 'reachable' }, later(10), policy).next).toBe(answered);
    expect(decide(answered, { kind: 'reachable' }, later(10), policy).probeNow).toBeUndefined();
    const timedOut = decide(HEALTHY, { kind: 'failure', error: 'timed out', probe: false }, t0, policy).next;
    expect(decide(timedOut, { kind: 'reachable' }, later(10), policy).next).toBe(timedOut);
    const paused = decide(refused(t0), { kind: 'pause', by: 'operator', reason: 'announced maintenance' }, later(1), policy).next;
    expect(decide(paused, { kind: 'reachable' }, later(10), policy).next).toBe(paused);
    expect(decide(HEALTHY, { kind: 'reachable' }, t0, policy).next).toBe(HEALTHY);
  });

  it('names the errors that mean the request never reached the recipient', () => {
    expect(['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT'].every(neverReached)).toBe(true);
    expect(['timed out', 'HTTP 503', 'ECONNRESET', 'AMQP: channel closed', null].some(neverReached)).toBe(false);
  });
});
