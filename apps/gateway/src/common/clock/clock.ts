/** The time the gateway goes by; injectable so that tests can move it instead of sleeping. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('CLOCK');

/**
 * The clock console sessions and sign-in back-off go by: wall time, apart from the message clock
 * (CLOCK) that tests move through days of deadlines, so that moving one does not end sessions.
 */
export const SESSION_CLOCK = Symbol('SESSION_CLOCK');

/**
 * Wall time, for comparing with the store's own timestamps (PostgreSQL's `now()`: a copy's first
 * attempt, leases), which the message clock (CLOCK) that tests move must not be compared with
 * (docs/architecture.md, Time).
 */
export const WALL_CLOCK = Symbol('WALL_CLOCK');

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until moved (tests). */
export class ManualClock implements Clock {
  constructor(private current: Date) {}

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string): void {
    this.current = new Date(to);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
