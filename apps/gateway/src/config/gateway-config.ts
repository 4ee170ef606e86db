import { Temporal } from '@js-temporal/polyfill';
import type { RetryPolicy } from '@svu/delivery';

/** The services one gateway process can run; `npm start` runs them all. */
export const SERVICE_NAMES = ['ingress', 'router', 'egress', 'deadlines', 'console'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Everything the gateway reads from its environment, checked once at start. */
export interface GatewayConfig {
  /** One URL per RabbitMQ cluster node (`AMQP_URL` may list several, comma-separated); tried in turn. */
  readonly amqpUrls: readonly string[];
  readonly databaseUrl: string;
  /** Connections this process keeps to PostgreSQL at most. */
  readonly dbPool: number;
  /** Longest a statement may run before PostgreSQL cancels it (0: no limit). */
  readonly dbStatementTimeoutMs: number;
  readonly directoryPath: string;
  readonly port: number;
  readonly fallbackMarginMs: number;
  readonly retry: RetryPolicy;
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
  /** How long each kind of data is kept, and how the pruning job runs (docs/retention.md). */
  readonly retention: RetentionConfig;
  /** How often the store-derived gauges are counted again (by the process that runs deadlines). */
  readonly storeMetricsEveryMs: number;
}

export interface RetentionConfig {
  /** Original payload and translated copies of a message all of whose copies are settled. */
  readonly payloadsMs: number;
  /** Dead letters resolved (replayed or discarded). */
  readonly deadLettersMs: number;
  /** Fallback documents sent by hand (the PDF). */
  readonly documentsMs: number;
  /** Audit log entries. */
  readonly auditMs: number;
  readonly everyMs: number;
  /** Rows deleted or cleared per statement. */
  readonly batchSize: number;
}

/**
 * Every environment variable the gateway reads (and the Node runtime variables a deployment may set).
 * deploy/ checks that compose files and Kubernetes manifests set no other name, so a misspelt
 * variable fails CI instead of being ignored in production.
 */
export const KNOWN_ENV_NAMES: readonly string[] = [
  'AMQP_URL',
  'DATABASE_URL',
  'SVU_DB_POOL',
  'SVU_DB_STATEMENT_TIMEOUT',
  'SVU_DIRECTORY',
  'PORT',
  'SVU_SERVICES',
  'SVU_FALLBACK_MARGIN',
  'SVU_RETRY_BASE',
  'SVU_RETRY_MAX',
  'SVU_RETRY_BUDGET',
  'SVU_PREFETCH',
  'SVU_STALE_AFTER',
  'SVU_SWEEP_EVERY',
  'SVU_DEADLINE_EVERY',
  'SVU_DELIVERY_TIMEOUT',
  'SVU_HTTP_KEEP_ALIVE',
  'SVU_INGRESS_GROUP_WAIT',
  'SVU_TOPOLOGY_PREFIX',
  'LOG_LEVEL',
  'SVU_LOG_FILE',
  'SVU_USERS',
  // Sender credentials for ingress (config/senders.json in development); read by the ingress sender check.
  'SVU_SENDERS',
  'SVU_SESSION_SECRET',
  'SVU_SESSION_TTL',
  'SVU_REPORT_RULES',
  'SVU_BULK_PER_SECOND',
  'SVU_FONT_DIR',
  'SVU_RETAIN_PAYLOADS',
  'SVU_RETAIN_DEAD_LETTERS',
  'SVU_RETAIN_DOCUMENTS',
  'SVU_RETAIN_AUDIT',
  'SVU_RETENTION_EVERY',
  'SVU_RETENTION_BATCH',
  'SVU_STORE_METRICS_EVERY',
  // Node runtime
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'TZ',
];

/** `AMQP_URL` as a list of node URLs: comma-separated, each an amqp:// or amqps:// URL. */
export function amqpUrls(value: string): string[] {
  const urls = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (urls.length === 0) throw new Error('AMQP_URL must name at least one amqp:// or amqps:// URL');
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new Error(`AMQP_URL holds a value that is not a URL (node ${urls.indexOf(url) + 1} of ${urls.length})`);
    }
    if (protocol !== 'amqp:' && protocol !== 'amqps:') throw new Error(`AMQP_URL node ${urls.indexOf(url) + 1} must be amqp:// or amqps://, got ${protocol}//`);
  }
  return urls;
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
    amqpUrls: amqpUrls(get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672')),
    databaseUrl: get('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/svu'),
    dbPool: integer('SVU_DB_POOL', get('SVU_DB_POOL', '10'), 1, 1_000),
    dbStatementTimeoutMs: durationMs('SVU_DB_STATEMENT_TIMEOUT', get('SVU_DB_STATEMENT_TIMEOUT', 'PT0S')),
    directoryPath: get('SVU_DIRECTORY', 'config/directory.json'),
    port: integer('PORT', get('PORT', '8080'), 0, 65_535),
    fallbackMarginMs: durationMs('SVU_FALLBACK_MARGIN', get('SVU_FALLBACK_MARGIN', 'PT2H')),
    retry: {
      baseMs: durationMs('SVU_RETRY_BASE', get('SVU_RETRY_BASE', 'PT5S')),
      maxMs: durationMs('SVU_RETRY_MAX', get('SVU_RETRY_MAX', 'PT1H')),
      budgetMs: durationMs('SVU_RETRY_BUDGET', get('SVU_RETRY_BUDGET', 'PT24H')),
    },
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
    retention: {
      payloadsMs: durationMs('SVU_RETAIN_PAYLOADS', get('SVU_RETAIN_PAYLOADS', 'P90D')),
      deadLettersMs: durationMs('SVU_RETAIN_DEAD_LETTERS', get('SVU_RETAIN_DEAD_LETTERS', 'P90D')),
      documentsMs: durationMs('SVU_RETAIN_DOCUMENTS', get('SVU_RETAIN_DOCUMENTS', 'P90D')),
      auditMs: durationMs('SVU_RETAIN_AUDIT', get('SVU_RETAIN_AUDIT', 'P3650D')),
      everyMs: durationMs('SVU_RETENTION_EVERY', get('SVU_RETENTION_EVERY', 'PT1H')),
      batchSize: integer('SVU_RETENTION_BATCH', get('SVU_RETENTION_BATCH', '1000'), 1, 100_000),
    },
    storeMetricsEveryMs: durationMs('SVU_STORE_METRICS_EVERY', get('SVU_STORE_METRICS_EVERY', 'PT15S')),
  };
}

/** How the pipeline's consumers take messages: batches of up to a quarter of the prefetch, two at a time. */
export function consumeOptions(config: GatewayConfig): { prefetch: number; batchSize: number; batchWaitMs: number; concurrency: number } {
  return { prefetch: config.prefetch, batchSize: Math.max(1, Math.floor(config.prefetch / 4)), batchWaitMs: 20, concurrency: 2 };
}
