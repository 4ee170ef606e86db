/** Work passed between the gateway's stages over RabbitMQ. The store holds the truth; a job only points at it. */

/** Route (translate and address) the copies of these stored messages. */
export interface RouteJob {
  readonly messagePks: readonly string[];
}

/** One copy to deliver; `attempt` is the number of attempts made before, so that a stale duplicate is recognised. */
export interface CopyRef {
  readonly copyId: string;
  readonly attempt: number;
  /** How often it has waited for an earlier copy of its episode. */
  readonly deferrals?: number;
}

/** Deliver these copies. */
export interface DeliverJob {
  readonly copies: readonly CopyRef[];
}

export function encodeJob(job: RouteJob | DeliverJob): Buffer {
  return Buffer.from(JSON.stringify(job));
}

/** Parses a job; undefined when the message is not one. */
export function decodeJob<T extends RouteJob | DeliverJob>(content: Buffer, key: keyof T): T | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as T;
    return typeof value === 'object' && value !== null && Array.isArray(value[key]) ? value : undefined;
  } catch {
    return undefined;
  }
}
