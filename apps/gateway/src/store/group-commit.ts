interface Waiting<T, R> {
  readonly item: T;
  readonly at: number;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: items handed in one by one (HTTP requests, delivery outcomes) are written together —
 * each write takes everything that arrived while the writes before it were running, up to `maxBatch`
 * — and each caller learns its own item's result once the write holding it is done. Under load this
 * turns many small transactions into a few larger ones; when idle an item is written at once. A group
 * whose write fails for a reason `splitOn` says is about the data is written again item by item, so
 * that one item the store refuses cannot fail the others with it; any other failure (the store is
 * gone) fails the whole group at once. With `lingerMs`, a write waits until its oldest item has
 * waited that long (or the group is full), so that a steady trickle goes out in fewer, larger writes.
 */
export class GroupCommit<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: {
      readonly maxBatch: number;
      readonly concurrency: number;
      readonly lingerMs?: number;
      readonly splitOn?: (error: unknown) => boolean;
    } = {
      maxBatch: 250,
      concurrency: 1,
    },
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, at: performance.now(), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const linger = this.options.lingerMs ?? 0;
      if (linger > 0 && this.waiting.length < this.options.maxBatch) {
        const dueIn = this.waiting[0]!.at + linger - performance.now();
        if (dueIn > 0) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, dueIn);
          return;
        }
      }
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.running += 1;
      void this.writeGroup(batch).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  private async writeGroup(batch: ReadonlyArray<Waiting<T, R>>): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1 || this.options.splitOn?.(error) !== true) {
        for (const w of batch) w.reject(error);
        return;
      }
      for (const w of batch) await this.writeGroup([w]);
    }
  }
}

/**
 * Whether a PostgreSQL error is about the data written rather than the connection or the server:
 * SQLSTATE classes 22 (data exception), 23 (integrity constraint) and 54 (program limit exceeded).
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
