import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { parseHash } from '@svu/users';

export type ScryptFn = (password: string, salt: Buffer, keyLength: number) => Promise<Buffer>;

const asyncScrypt: ScryptFn = (password, salt, keyLength) =>
  new Promise((resolve, reject) => scrypt(password, salt, keyLength, (error, key) => (error === null ? resolve(key) : reject(error))));

/** Thrown when more sign-ins wait for a password check than the checker queues. */
export class TooManySignIns extends Error {}

/**
 * Checks passwords against scrypt hashes off the event loop (crypto.scrypt runs in libuv's thread
 * pool), at most `concurrency` at a time so that sign-ins cannot take every pool thread from the
 * database driver and file reads. A user who does not exist is checked against a dummy hash of the
 * same cost, so the answer takes as long as for a real user with a wrong password.
 */
export class PasswordChecker {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly dummy = `scrypt$${randomBytes(16).toString('hex')}$${'00'.repeat(32)}`;

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting = 200,
    private readonly derive: ScryptFn = asyncScrypt,
  ) {}

  /** True when `password` matches `stored`; with `stored` undefined (no such user) always false, at the same cost. */
  async verify(password: string, stored: string | undefined): Promise<boolean> {
    const parsed = parseHash(stored ?? this.dummy) ?? parseHash(this.dummy)!;
    await this.slot();
    try {
      const actual = await this.derive(password, parsed.salt, parsed.hash.length);
      return stored !== undefined && actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
    } finally {
      this.release();
    }
  }

  /** Password checks running now (for tests and metrics). */
  get active(): number {
    return this.running;
  }

  private async slot(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1;
      return;
    }
    if (this.waiting.length >= this.maxWaiting) throw new TooManySignIns('too many sign-ins at once');
    // The slot is handed over by release(), so `running` stays counted for the waiter.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.running -= 1;
    else next();
  }
}
