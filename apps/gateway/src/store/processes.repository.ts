import { Injectable } from '@nestjs/common';
import { Database, type Queryable } from './database';

/**
 * The egress processes' heartbeats (egress_processes), by which the sweeper takes over the copies of a
 * process that stopped (CopiesRepository.takeOver). Egress writes its heartbeat on a connection of its
 * own (egress.service.ts), so that a pool busy with a burst of failures does not make it look dead.
 */
@Injectable()
export class ProcessesRepository {
  constructor(private readonly db: Database) {}

  /** Says that egress process `processId` is alive, over `connection`. */
  async beat(connection: Queryable, processId: string): Promise<void> {
    await connection.query('INSERT INTO egress_processes (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()', [processId]);
  }

  /** Sweeper: processes silent for a day are gone; their rows go. */
  async forgetStopped(): Promise<void> {
    await this.db.query("DELETE FROM egress_processes WHERE heartbeat_at < now() - interval '1 day'");
  }
}
