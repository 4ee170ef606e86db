/**
 * A recipient's health, shared by every egress process through the store. While a recipient is
 * failing its copies are not tried one by one: one probe at a time, on a backoff capped at
 * `ProbePolicy.maxMs`; the first success makes it healthy again and releases its whole backlog.
 * An operator can pause a recipient (announced maintenance: its copies wait) and resume it.
 */
export type RecipientState = 'healthy' | 'failing' | 'paused';

export interface ProbePolicy {
  /** Wait before the first probe after a recipient starts failing; doubles with every failed probe. */
  readonly baseMs: number;
  /** Longest wait between two probes (SVU_PROBE_MAX). */
  readonly maxMs: number;
}

export const DEFAULT_PROBE_POLICY: ProbePolicy = { baseMs: 1_000, maxMs: 30_000 };

export interface RecipientHealth {
  readonly failing: boolean;
  readonly failingSince: Date | null;
  readonly lastError: string | null;
  readonly lastFailureAt: Date | null;
  readonly lastSuccessAt: Date | null;
  /** When the next probe is due (failing only). */
  readonly probeAt: Date | null;
  /** Probes that failed since the recipient started failing. */
  readonly failedProbes: number;
  readonly pausedAt: Date | null;
  readonly pausedBy: string | null;
  /** Why it was paused (announced maintenance, …), as the operator gave it. */
  readonly pauseReason: string | null;
}

export const HEALTHY: RecipientHealth = {
  failing: false,
  failingSince: null,
  lastError: null,
  lastFailureAt: null,
  lastSuccessAt: null,
  probeAt: null,
  failedProbes: 0,
  pausedAt: null,
  pausedBy: null,
  pauseReason: null,
};

export type HealthEvent =
  /** A delivery attempt failed in a way worth retrying; `probe` when it was the recipient's probe. */
  | { readonly kind: 'failure'; readonly error: string; readonly probe: boolean }
  | { readonly kind: 'success' }
  | { readonly kind: 'pause'; readonly by: string; readonly reason: string }
  | { readonly kind: 'resume' }
  /** An operator asks for a probe at once. */
  | { readonly kind: 'retry-now' }
  /** The recipient accepts connections again (a reachability check between probes). */
  | { readonly kind: 'reachable' };

export interface HealthDecision {
  readonly next: RecipientHealth;
  /** A change operators are alerted to: the recipient started failing, or recovered. */
  readonly transition?: 'started-failing' | 'recovered';
  /** Its waiting copies may all go now (it became deliverable). */
  readonly release: boolean;
  /** Why an operator's action was refused. */
  readonly refused?: string;
  /** The probe was brought forward to now (retry now, or reachable again). */
  readonly probeNow?: true;
}

export function stateOf(health: RecipientHealth): RecipientState {
  if (health.pausedAt !== null) return 'paused';
  return health.failing ? 'failing' : 'healthy';
}

/**
 * Whether a failed attempt's error says the request never reached the recipient: nothing listened at
 * its address, or the address could not be reached or resolved. Only then does a connection that
 * succeeds again mean it is worth probing at once; a recipient that answered (HTTP 5xx) or took the
 * connection and then timed out waits for its probe on the backoff.
 */
export function neverReached(error: string | null): boolean {
  return error !== null && /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENOTFOUND|EAI_AGAIN|UND_ERR_CONNECT_TIMEOUT)\b/.test(error);
}

/** Wait before the next probe after `failedProbes` failed probes: base × 2^n, capped. */
export function probeDelayMs(policy: ProbePolicy, failedProbes: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, failedProbes), 30));
}

/** What an event does to a recipient's health at `now`. */
export function decide(health: RecipientHealth, event: HealthEvent, now: Date, policy: ProbePolicy): HealthDecision {
  const at = (ms: number) => new Date(now.getTime() + ms);
  switch (event.kind) {
    case 'failure': {
      const failed = { ...health, lastError: event.error, lastFailureAt: now };
      if (!health.failing) {
        return {
          next: { ...failed, failing: true, failingSince: now, failedProbes: 0, probeAt: at(probeDelayMs(policy, 0)) },
          transition: 'started-failing',
          release: false,
        };
      }
      // Copies that were already on their way when it started failing do not push the probe back;
      // only a failed probe does.
      if (!event.probe) return { next: failed, release: false };
      const failedProbes = health.failedProbes + 1;
      return { next: { ...failed, failedProbes, probeAt: at(probeDelayMs(policy, failedProbes)) }, release: false };
    }
    case 'success': {
      const next = { ...health, lastSuccessAt: now };
      if (!health.failing) return { next, release: false };
      return {
        next: { ...next, failing: false, failingSince: null, failedProbes: 0, probeAt: null },
        transition: 'recovered',
        release: health.pausedAt === null,
      };
    }
    case 'pause':
      if (health.pausedAt !== null) return { next: health, release: false, refused: 'the recipient is already paused' };
      return { next: { ...health, pausedAt: now, pausedBy: event.by, pauseReason: event.reason }, release: false };
    case 'resume':
      if (health.pausedAt === null) return { next: health, release: false, refused: 'the recipient is not paused' };
      return {
        next: { ...health, pausedAt: null, pausedBy: null, pauseReason: null, probeAt: health.failing ? now : health.probeAt },
        release: !health.failing,
      };
    case 'retry-now':
      if (health.pausedAt !== null) return { next: health, release: false, refused: 'the recipient is paused; resume it first' };
      if (!health.failing) return { next: health, release: true };
      return { next: { ...health, probeAt: now }, release: false, probeNow: true };
    case 'reachable':
      // Brings the probe forward, so that a backlog does not wait out the probe's backoff (up to
      // SVU_PROBE_MAX) after its recipient is back; the probe still decides whether it is healthy.
      if (!health.failing || health.pausedAt !== null || !neverReached(health.lastError) || (health.probeAt !== null && health.probeAt <= now)) {
        return { next: health, release: false };
      }
      return { next: { ...health, probeAt: now }, release: false, probeNow: true };
  }
}
