import type { Logger } from '@nestjs/common';

/**
 * Runs `work` every `everyMs`, never two rounds at once; a failed round is logged and the next one
 * tries again. `ready` can hold a round back (e.g. while the broker is away).
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly what: string,
    private readonly everyMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly ready: () => boolean = () => true,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.round(), this.everyMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async round(): Promise<void> {
    if (this.running || !this.ready()) return;
    this.running = true;
    try {
      await this.work();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, `${this.what} failed; the next round tries again`);
    } finally {
      this.running = false;
    }
  }
}
