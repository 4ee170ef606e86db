import { KeyedLimiter } from './keyed-limiter';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedLimiter', () => {
  it('runs at most the limit per key at a time, the rest in arrival order, keys apart', async () => {
    const limiter = new KeyedLimiter(2);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const task = (name: string) => () => {
      started.push(name);
      const gate = deferred();
      gates.set(name, gate);
      return gate.promise.then(() => name);
    };
    const runs = ['a1', 'a2', 'a3', 'a4'].map((n) => limiter.run('a', task(n)));
    const other = limiter.run('b', task('b1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a1', 'a2', 'b1']);
    expect(limiter.load('a')).toEqual({ running: 2, waiting: 2 });
    gates.get('a2')!.resolve();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    gates.get('a1')!.resolve();
    gates.get('a3')!.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('a4')!.resolve();
    gates.get('b1')!.resolve();
    expect(await Promise.all([...runs, other])).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
    expect(limiter.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a task that fails', async () => {
    const limiter = new KeyedLimiter(1);
    await expect(limiter.run('a', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await limiter.run('a', () => Promise.resolve(7))).toBe(7);
    expect(limiter.load('a')).toEqual({ running: 0, waiting: 0 });
  });
});
