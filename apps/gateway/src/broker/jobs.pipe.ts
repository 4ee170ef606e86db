import type { PipeTransform } from '@nestjs/common';
import type { MessageBatch } from './broker.transport';
import { decodeJob, type DeliverJob, type RouteJob } from './jobs';

/**
 * Decodes the jobs of a batch (`@Payload(new JobsPipe<RouteJob>('messagePks'))`): one entry per
 * message, in order, undefined for a message that is not such a job, so that the handler can say
 * what becomes of each one.
 */
export class JobsPipe<T extends RouteJob | DeliverJob> implements PipeTransform<MessageBatch, Array<T | undefined>> {
  constructor(private readonly key: keyof T) {}

  transform(messages: MessageBatch): Array<T | undefined> {
    return messages.map((m) => decodeJob<T>(m.content, this.key));
  }
}
