/**
 * At most `limit` tasks at a time per key; the others wait in arrival order. Hand-written: the
 * common limiters (p-limit and the like) limit one pool, not one per key, and are ESM-only.
 */
export class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const active = this.active.get(key) ?? 0;
    if (active < this.limit) this.active.set(key, active + 1);
    else {
      // The slot is handed over by the task that finishes (see below): the count stays as it is.
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(key);
        if (queue === undefined) this.waiting.set(key, [resolve]);
        else queue.push(resolve);
      });
    }
    try {
      return await task();
    } finally {
      const queue = this.waiting.get(key);
      const next = queue?.shift();
      if (queue !== undefined && queue.length === 0) this.waiting.delete(key);
      if (next !== undefined) next();
      else {
        const left = (this.active.get(key) ?? 1) - 1;
        if (left === 0) this.active.delete(key);
        else this.active.set(key, left);
      }
    }
  }

  /** Tasks running and waiting for `key`. */
  load(key: string): { running: number; waiting: number } {
    return { running: this.active.get(key) ?? 0, waiting: this.waiting.get(key)?.length ?? 0 };
  }
}
