import { Injectable } from '@nestjs/common';
import { Database } from './database';

/**
 * The egress processes' heartbeats (egress_processes), by which the sweeper takes over the copies of a
 * process that stopped (CopiesRepository.takeOver). Egress writes its heartbeat itself, on a connection
 * of its own (egress.service.ts).
 */
@Injectable()
export class ProcessesRepository {
  constructor(private readonly db: Database) {}

  /** Sweeper: processes silent for a day are gone; their rows go. */
  async forgetStopped(): Promise<void> {
    await this.db.query("DELETE FROM egress_processes WHERE heartbeat_at < now() - interval '1 day'");
  }
}
