import { setImmediate as nextTurn } from 'node:timers/promises';
import { PasswordChecker, TooManySignIns, type ScryptFn } from './password-checker';
import { hashPassword } from '@svu/users';

describe('PasswordChecker', () => {
  const stored = hashPassword('rätt lösenord');

  it('accepts the right password and refuses a wrong one, or one for no user', async () => {
    const checker = new PasswordChecker(2);
    expect(await checker.verify('rätt lösenord', stored)).toBe(true);
    expect(await checker.verify('fel', stored)).toBe(false);
    expect(await checker.verify('rätt lösenord', undefined)).toBe(false);
    expect(await checker.verify('rätt lösenord', 'scrypt$zz$00')).toBe(false);
  });

  it('checks off the event loop: the loop turns while scrypt runs', async () => {
    const checker = new PasswordChecker(2);
    const order: string[] = [];
    const done = checker.verify('fel', stored).then(() => order.push('verified'));
    // scryptSync (or any check on the loop) would be done before the loop's next turn.
    setImmediate(() => order.push('loop turned'));
    await done;
    expect(order[0]).toBe('loop turned');
  });

  it('derives a key of the same cost for a user that does not exist (a dummy hash)', async () => {
    const calls: Array<{ salt: number; keyLength: number }> = [];
    const derive: ScryptFn = (_password, salt, keyLength) => {
      calls.push({ salt: salt.length, keyLength });
      return Promise.resolve(Buffer.alloc(keyLength));
    };
    const checker = new PasswordChecker(1, 10, derive);
    await checker.verify('x', stored);
    await checker.verify('x', undefined);
    expect(calls).toEqual([
      { salt: 16, keyLength: 32 },
      { salt: 16, keyLength: 32 },
    ]);
  });

  it('runs at most `concurrency` checks at once, queues the rest, and refuses beyond the queue', async () => {
    const release: Array<() => void> = [];
    let running = 0;
    let most = 0;
    const derive: ScryptFn = (_p, _s, keyLength) =>
      new Promise((resolve) => {
        running += 1;
        most = Math.max(most, running);
        release.push(() => {
          running -= 1;
          resolve(Buffer.alloc(keyLength));
        });
      });
    const checker = new PasswordChecker(2, 3, derive);
    const checks = Array.from({ length: 5 }, () => checker.verify('x', stored));
    await expect(checker.verify('x', stored)).rejects.toBeInstanceOf(TooManySignIns);
    while (release.length > 0 || running > 0) {
      await nextTurn();
      release.shift()?.();
    }
    expect(await Promise.all(checks)).toEqual([false, false, false, false, false]);
    expect(most).toBe(2);
    expect(checker.active).toBe(0);
  });
});
