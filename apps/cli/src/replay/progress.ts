/**
 * Progress of a replay: a bar redrawn in place on a terminal, plain lines otherwise (so that CI logs
 * get no carriage returns or escape codes).
 */
export class Progress {
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number,
  ) {}

  step(done: number, label: string): void {
    if (this.out.isTTY === true) {
      const width = 30;
      const filled = Math.round((done / Math.max(1, this.total)) * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label}`;
      this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 100) - 1)}`);
      this.drawn = true;
    } else {
      this.out.write(`${done}/${this.total} ${label}\n`);
    }
  }

  /** Ends the bar's line before other output. */
  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
