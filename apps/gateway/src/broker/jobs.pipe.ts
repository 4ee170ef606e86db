import type { PipeTransform } from '@nestjs/common';
import type { MessageBatch } from './broker.transport';
import { decodeJob, type DeliverJob, type JobKind, type RouteJob } from './jobs';

/**
 * Decodes the jobs of a batch (`@Payload(new JobsPipe('route'))`): one entry per message, in order,
 * undefined for a message that is not such a job (schemas/jobs.schema.json), so that the handler can
 * say what becomes of each one.
 */
export class JobsPipe<K extends JobKind> implements PipeTransform<MessageBatch, Array<(K extends 'route' ? RouteJob : DeliverJob) | undefined>> {
  constructor(private readonly kind: K) {}

  transform(messages: MessageBatch): Array<(K extends 'route' ? RouteJob : DeliverJob) | undefined> {
    return messages.map((m) => decodeJob(m.content, this.kind));
  }
}
