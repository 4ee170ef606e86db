/** Work passed between the gateway's stages over RabbitMQ. The store holds the truth; a job only points at it. */

/** Route (translate and address) the copies of one stored message. */
export interface RouteJob {
  readonly messagePk: string;
}

/** Deliver one copy; `attempt` is the number of attempts made before, so that a stale duplicate is recognised. */
export interface DeliverJob {
  readonly copyId: string;
  readonly attempt: number;
  /** How often this job has waited for an earlier copy of its episode. */
  readonly deferrals?: number;
}

export function encodeJob(job: RouteJob | DeliverJob): Buffer {
  return Buffer.from(JSON.stringify(job));
}

/** Parses a job; undefined when it is not one (such a message goes to the poison queue's record). */
export function decodeJob<T extends RouteJob | DeliverJob>(content: Buffer, key: keyof T): T | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as T;
    return typeof value === 'object' && value !== null && key in value ? value : undefined;
  } catch {
    return undefined;
  }
}
