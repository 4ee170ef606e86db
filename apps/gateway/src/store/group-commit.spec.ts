import { GroupCommit, isDataError } from './group-commit';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes the first item at once and everything that arrives meanwhile in the next write', async () => {
    const writes: number[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<number, string>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((i) => `r${i}`);
    });
    const first = group.add(1);
    await tick();
    const later = [group.add(2), group.add(3), group.add(4)];
    await tick();
    expect(writes).toEqual([[1]]);
    release();
    expect(await first).toBe('r1');
    expect(await Promise.all(later)).toEqual(['r2', 'r3', 'r4']);
    expect(writes).toEqual([[1], [2, 3, 4]]);
  });

  it('keeps groups within maxBatch and runs up to `concurrency` writes at once', async () => {
    const sizes: number[] = [];
    let running = 0;
    let most = 0;
    const group = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        running += 1;
        most = Math.max(most, running);
        await tick();
        running -= 1;
        return items;
      },
      { maxBatch: 3, concurrency: 2 },
    );
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => group.add(i)));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(most).toBe(2);
  });

  it('with lingerMs, holds a write until its oldest item has waited that long, or the group is full', async () => {
    jest.useFakeTimers();
    try {
      const writes: number[][] = [];
      const group = new GroupCommit<number, number>(
        (items) => {
          writes.push(items);
          return Promise.resolve(items);
        },
        { maxBatch: 3, concurrency: 1, lingerMs: 10 },
      );
      const first = [group.add(1), group.add(2)];
      await jest.advanceTimersByTimeAsync(9);
      expect(writes).toEqual([]);
      const third = group.add(3);
      const rest = [group.add(4), group.add(5)];
      await Promise.all([...first, third]);
      expect(writes).toEqual([[1, 2, 3]]); // full: written without waiting out the linger
      await jest.advanceTimersByTimeAsync(9);
      expect(writes).toEqual([[1, 2, 3]]);
      await jest.advanceTimersByTimeAsync(1);
      expect(await Promise.all(rest)).toEqual([4, 5]);
      expect(writes).toEqual([[1, 2, 3], [4, 5]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails a whole group when the store is gone, and only the refused item when the data is at fault', async () => {
    const gone = new GroupCommit<number, number>(async () => Promise.reject(new Error('connect ECONNREFUSED')), { maxBatch: 10, concurrency: 1, splitOn: isDataError });
    const blocked = gone.add(0);
    const all = [gone.add(1), gone.add(2)];
    await expect(blocked).rejects.toThrow('ECONNREFUSED');
    for (const p of all) await expect(p).rejects.toThrow('ECONNREFUSED');

    const writes: number[][] = [];
    const refusing = new GroupCommit<number, number>(
      (items) => {
        writes.push(items);
        if (items.includes(13)) return Promise.reject(Object.assign(new Error('invalid byte sequence'), { code: '22021' }));
        return Promise.resolve(items);
      },
      { maxBatch: 10, concurrency: 1, splitOn: isDataError },
    );
    const first = refusing.add(1);
    const rest = [refusing.add(12), refusing.add(13), refusing.add(14)];
    expect(await first).toBe(1);
    await expect(rest[1]).rejects.toThrow('invalid byte sequence');
    expect(await rest[0]).toBe(12);
    expect(await rest[2]).toBe(14);
    expect(writes).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });
});

describe('isDataError', () => {
  it('tells data exceptions, constraint violations and limits from connection failures', () => {
    expect(isDataError({ code: '22021' })).toBe(true);
    expect(isDataError({ code: '23505' })).toBe(true);
    expect(isDataError({ code: '54000' })).toBe(true);
    expect(isDataError({ code: '57P01' })).toBe(false);
    expect(isDataError({ code: '08006' })).toBe(false);
    expect(isDataError(new Error('Connection terminated unexpectedly'))).toBe(false);
  });
});
