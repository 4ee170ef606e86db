import { createAjv, formatProblem, jsonSyntaxError, problemsFromAjv, problemsLine } from '@svu/canonical';
import type { ValidateFunction } from 'ajv';
import jobsSchema from '../../../../schemas/jobs.schema.json';

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

/** The two kinds of job, by the routing key they are published with (and the queue they land in). */
export type JobKind = 'route' | 'deliver';
type JobOf<K extends JobKind> = K extends 'route' ? RouteJob : DeliverJob;

export function encodeJob(job: RouteJob | DeliverJob): Buffer {
  return Buffer.from(JSON.stringify(job));
}

const ajv = createAjv({ removeUnknown: false }).addSchema(jobsSchema);
const validators: Record<JobKind, ValidateFunction> = {
  route: ajv.getSchema('jobs.schema.json#/$defs/routeJob')!,
  deliver: ajv.getSchema('jobs.schema.json#/$defs/deliverJob')!,
};

/**
 * Checks a job against schemas/jobs.schema.json: the job, or why it is not one, naming the field
 * (`not a route job: messagePks[0]: must be a store key: …`). Every key a job points with must be a store key, so that a
 * wrong one is refused here rather than failing the statement of the whole batch it came in.
 */
export function checkJob<K extends JobKind>(content: Buffer, kind: K): { ok: true; job: JobOf<K> } | { ok: false; problem: string } {
  const text = content.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not a ${kind} job: ${jsonSyntaxError(text, error)}` };
  }
  const validate = validators[kind];
  if (validate(value)) return { ok: true, job: value as JobOf<K> };
  const problems = problemsFromAjv(validate.errors ?? []).map((p) => (p.path.length === 0 ? p.message : formatProblem(p)));
  return { ok: false, problem: `not a ${kind} job: ${problemsLine(problems.length > 0 ? problems : ['is not one'])}` };
}

/** Parses a job; undefined when the message is not one (checkJob says why). */
export function decodeJob<K extends JobKind>(content: Buffer, kind: K): JobOf<K> | undefined {
  const checked = checkJob(content, kind);
  return checked.ok ? checked.job : undefined;
}
