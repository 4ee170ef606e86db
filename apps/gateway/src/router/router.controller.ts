import { EventPattern, Payload } from '@nestjs/microservices';
import type { Disposition } from '../broker/broker';
import { MessageController } from '../broker/broker.transport';
import type { RouteJob } from '../broker/jobs';
import { JobsPipe } from '../broker/jobs.pipe';
import { QUEUE_PATTERNS } from '../broker/topology';
import { RouterService } from './router.service';

/**
 * Route jobs (`svu.route`): the stored messages they name are routed together, in one transaction,
 * and the jobs acknowledged after its commit. A message that is not a route job is dead-lettered
 * (the poison queue keeps it as a dead letter).
 */
@MessageController()
export class RouterController {
  constructor(private readonly router: RouterService) {}

  @EventPattern(QUEUE_PATTERNS.route)
  async route(@Payload(new JobsPipe('route')) jobs: ReadonlyArray<RouteJob | undefined>): Promise<Disposition[]> {
    await this.router.route([...new Set(jobs.flatMap((job) => job?.messagePks ?? []))]);
    return jobs.map((job) => (job === undefined ? 'dead-letter' : 'ack'));
  }
}
