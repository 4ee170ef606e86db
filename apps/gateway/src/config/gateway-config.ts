import { Temporal } from '@js-temporal/polyfill';
import type { ProbePolicy, RetryPolicy } from '@svu/delivery';

/** The services one gateway process can run; `npm start` runs them all. */
export const SERVICE_NAMES = ['ingress', 'router', 'egress', 'deadlines', 'console'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Everything the gateway reads from its environment, checked once at start. */
export interface GatewayConfig {
  readonly amqpUrl: string;
  readonly databaseUrl: string;
  readonly directoryPath: string;
  readonly port: number;
  readonly fallbackMarginMs: number;
  readonly retry: RetryPolicy;
  /** How often a failing recipient is probed (docs/recovery.md). */
  readonly probe: ProbePolicy;
  /** How often an egress process says it is alive. */
  readonly heartbeatEveryMs: number;
  /** How long after its last heartbeat a process counts as dead and its copies are taken over. */
  readonly takeoverAfterMs: number;
  readonly services: ReadonlySet<ServiceName>;
  /** Messages a consumer takes from a queue before acknowledging (bounded prefetch). */
  readonly prefetch: number;
  /** How long a copy may sit without progress before the sweeper sends it on again. */
  readonly staleAfterMs: number;
  readonly sweepEveryMs: number;
  /** How often the deadline watcher looks for copies due for fallback. */
  readonly deadlineEveryMs: number;
  /** How long one delivery attempt may take before it counts as failed. */
  readonly deliveryTimeoutMs: number;
  /** How long the HTTP server keeps an idle keep-alive connection open. */
  readonly httpKeepAliveMs: number;
  /** How long an HTTP ingress group waits for more messages before it is stored. */
  readonly ingressGroupWaitMs: number;
  /** Prefix of every queue and exchange name (tests give each run its own). */
  readonly topologyPrefix: string;
  readonly logLevel: string;
  /** Log to this file instead of standard output. */
  readonly logFile: string | undefined;
  /** The console's users file (roles viewer and operator, scrypt password hashes). */
  readonly usersPath: string;
  /** Signs console sessions; set the same value in every console process. Random per process when unset. */
  readonly sessionSecret: Buffer | undefined;
  readonly sessionMs: number;
  /** Which payment-liability rule set applies to which municipality. */
  readonly reportRulesPath: string;
  /** Items a bulk action handles per second. */
  readonly bulkPerSecond: number;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** An ISO 8601 duration (`PT2H`, `PT0.5S`, `P1D`) in milliseconds; days are 24 elapsed hours. */
export function durationMs(name: string, value: string): number {
  try {
    const ms = Temporal.Duration.from(value).total({ unit: 'milliseconds', relativeTo: '2020-01-01T00:00:00+00:00[UTC]' });
    if (ms < 0) throw new Error('negative');
    return ms;
  } catch {
    throw new Error(`${name} must be an ISO 8601 duration such as PT2H, got ${JSON.stringify(value)}`);
  }
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function positive(name: string, ms: number): number {
  if (ms <= 0) throw new Error(`${name} must be longer than zero`);
  return ms;
}

/** Reads and checks the environment; throws one error naming the variable at the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const get = (name: string, fallback: string) => env[name] ?? fallback;
  const services = get('SVU_SERVICES', SERVICE_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const service of services) {
    if (!(SERVICE_NAMES as readonly string[]).includes(service)) {
      throw new Error(`SVU_SERVICES names the unknown service ${JSON.stringify(service)} (known: ${SERVICE_NAMES.join(', ')})`);
    }
  }
  return {
    amqpUrl: get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'),
    databaseUrl: get('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/svu'),
    directoryPath: get('SVU_DIRECTORY', 'config/directory.json'),
    port: integer('PORT', get('PORT', '8080'), 0, 65_535),
    fallbackMarginMs: durationMs('SVU_FALLBACK_MARGIN', get('SVU_FALLBACK_MARGIN', 'PT2H')),
    retry: {
      baseMs: durationMs('SVU_RETRY_BASE', get('SVU_RETRY_BASE', 'PT5S')),
      maxMs: durationMs('SVU_RETRY_MAX', get('SVU_RETRY_MAX', 'PT1H')),
      budgetMs: durationMs('SVU_RETRY_BUDGET', get('SVU_RETRY_BUDGET', 'PT24H')),
    },
    probe: {
      baseMs: durationMs('SVU_PROBE_BASE', get('SVU_PROBE_BASE', 'PT1S')),
      maxMs: durationMs('SVU_PROBE_MAX', get('SVU_PROBE_MAX', 'PT30S')),
    },
    heartbeatEveryMs: positive('SVU_HEARTBEAT_EVERY', durationMs('SVU_HEARTBEAT_EVERY', get('SVU_HEARTBEAT_EVERY', 'PT1S'))),
    takeoverAfterMs: positive('SVU_TAKEOVER_AFTER', durationMs('SVU_TAKEOVER_AFTER', get('SVU_TAKEOVER_AFTER', 'PT10S'))),
    services: new Set(services as ServiceName[]),
    prefetch: integer('SVU_PREFETCH', get('SVU_PREFETCH', '1000'), 1, 5_000),
    staleAfterMs: durationMs('SVU_STALE_AFTER', get('SVU_STALE_AFTER', 'PT30S')),
    sweepEveryMs: durationMs('SVU_SWEEP_EVERY', get('SVU_SWEEP_EVERY', 'PT5S')),
    deadlineEveryMs: durationMs('SVU_DEADLINE_EVERY', get('SVU_DEADLINE_EVERY', 'PT5S')),
    deliveryTimeoutMs: durationMs('SVU_DELIVERY_TIMEOUT', get('SVU_DELIVERY_TIMEOUT', 'PT10S')),
    httpKeepAliveMs: durationMs('SVU_HTTP_KEEP_ALIVE', get('SVU_HTTP_KEEP_ALIVE', 'PT65S')),
    ingressGroupWaitMs: durationMs('SVU_INGRESS_GROUP_WAIT', get('SVU_INGRESS_GROUP_WAIT', 'PT0.003S')),
    topologyPrefix: get('SVU_TOPOLOGY_PREFIX', 'svu'),
    logLevel: get('LOG_LEVEL', 'info'),
    logFile: env['SVU_LOG_FILE'],
    usersPath: get('SVU_USERS', 'config/users.json'),
    sessionSecret: env['SVU_SESSION_SECRET'] === undefined ? undefined : Buffer.from(env['SVU_SESSION_SECRET']),
    sessionMs: durationMs('SVU_SESSION_TTL', get('SVU_SESSION_TTL', 'PT8H')),
    reportRulesPath: get('SVU_REPORT_RULES', 'config/report-rules.json'),
    bulkPerSecond: integer('SVU_BULK_PER_SECOND', get('SVU_BULK_PER_SECOND', '50'), 1, 10_000),
  };
}

/** How the pipeline's consumers take messages: batches of up to a quarter of the prefetch, two at a time. */
export function consumeOptions(config: GatewayConfig): { prefetch: number; batchSize: number; batchWaitMs: number; concurrency: number } {
  return { prefetch: config.prefetch, batchSize: Math.max(1, Math.floor(config.prefetch / 4)), batchWaitMs: 20, concurrency: 2 };
}
