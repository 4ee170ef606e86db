import { EventPattern, Payload } from '@nestjs/microservices';
import type { Disposition } from '../broker/broker';
import { MessageController } from '../broker/broker.transport';
import type { DeliverJob } from '../broker/jobs';
import { JobsPipe } from '../broker/jobs.pipe';
import { QUEUE_PATTERNS } from '../broker/topology';
import { EgressService } from './egress.service';

/**
 * Deliver jobs (`svu.deliver`, and the retry queues that lead back to it): the copies they name are
 * claimed, delivered and recorded (EgressService.processAll), and the jobs acknowledged after that. A
 * message that is not a deliver job is dead-lettered (the poison queue keeps it as a dead letter).
 */
@MessageController()
export class EgressController {
  constructor(private readonly egress: EgressService) {}

  @EventPattern(QUEUE_PATTERNS.deliver)
  async deliver(@Payload(new JobsPipe('deliver')) jobs: ReadonlyArray<DeliverJob | undefined>): Promise<Disposition[]> {
    await this.egress.processAll(jobs.flatMap((job) => job?.copies ?? []));
    return jobs.map((job) => (job === undefined ? 'dead-letter' : 'ack'));
  }
}
