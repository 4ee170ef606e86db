import { isoDurationMs } from '@svu/swedish-time';
import type { ProbePolicy, RetryPolicy } from '@svu/delivery';
import { LONGEST_DURATION, LONGEST_TIMER } from './duration-limits';
import { loadFallbackDelays, type FallbackDelays } from './fallback-config';

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
  /** Per type other than admission and acknowledgement: fallback this long after acceptance (SVU_FALLBACK_CONFIG). */
  readonly fallbackDelays: FallbackDelays;
  /** How long a letter marked sent takes to reach its recipient (SVU_POSTAL_DELAY); a fax arrives when sent. */
  readonly postalDelayMs: number;
  readonly retry: RetryPolicy;
  /** How often a failing recipient is probed (docs/recovery.md). */
  readonly probe: ProbePolicy;
  /** How often an egress process says it is alive. */
  readonly heartbeatEveryMs: number;
  /** How long after its last heartbeat a process counts as dead and its copies are taken over. */
  readonly takeoverAfterMs: number;
  /** How long a start waits for PostgreSQL while it is unreachable, starting up or shutting down (SVU_START_WAIT). */
  readonly startWaitMs: number;
  readonly services: ReadonlySet<ServiceName>;
  /** Messages a consumer takes from a queue before acknowledging (bounded prefetch). */
  readonly prefetch: number;
  /** Copies one egress process has on their way to one recipient at most (SVU_RECIPIENT_IN_FLIGHT). */
  readonly recipientInFlight: number;
  /** Copies one egress process has on their way to one AMQP recipient at most (SVU_AMQP_IN_FLIGHT). */
  readonly amqpInFlight: number;
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
  /** Folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf for fallback documents (SVU_FONT_DIR); Debian's folders when unset. */
  readonly fontDir: string | undefined;
  /** The console's users file (roles viewer and operator, scrypt password hashes). */
  readonly usersPath: string;
  /** Signs console sessions; set the same value in every console process. Random per process when unset. */
  readonly sessionSecret: Buffer | undefined;
  /** Absolute lifetime of a console session. */
  readonly sessionMs: number;
  /** A console session not used for this long is over. */
  readonly sessionIdleMs: number;
  /** How many console processes serve one store (SVU_CONSOLE_PROCESSES); above 1 a shared session secret is required. */
  readonly consoleProcesses: number;
  /** Sign-in throttling (docs/console-security.md). */
  readonly login: LoginPolicy;
  /** Express's `trust proxy`: false, a hop count, or the addresses of trusted proxies (SVU_TRUST_PROXY). */
  readonly trustProxy: false | number | readonly string[];
  /** Further origins the console may be used from besides its own (SVU_CONSOLE_ORIGINS). */
  readonly consoleOrigins: readonly string[];
  /** Which payment-liability rule set applies to which municipality. */
  readonly reportRulesPath: string;
  /** SVU_REPORT_RULES is set: its file must exist (the default file may be absent: the law's default for every municipality). */
  readonly reportRulesNamed: boolean;
  /** Items a bulk action handles per second. */
  readonly bulkPerSecond: number;
  /** How long each kind of data is kept, and how the pruning job runs (docs/retention.md). */
  readonly retention: RetentionConfig;
  /** How often the store-derived gauges are counted again (by the process that runs deadlines). */
  readonly storeMetricsEveryMs: number;
  /** The sender systems file (credentials, the HSA ids each may send as, limits): docs/senders.md. Ingress needs it at start; the console replays with it. */
  readonly sendersPath: string;
  /** Limits of a sender system that sets none (SVU_SENDER_RATE, SVU_SENDER_BYTES). */
  readonly senderDefaults: { readonly messagesPerSecond: number; readonly bytesPerSecond: number };
  /** Bytes of a refused body kept in its dead letter at most (SVU_REFUSED_BODY_MAX). */
  readonly refusedBodyMax: number;
  /** How long the body of a message refused at ingress is kept (SVU_REFUSED_RETENTION); the record stays. */
  readonly refusedRetentionMs: number;
  /** HTTPS: certificate and key files (SVU_TLS_CERT, SVU_TLS_KEY); client CA bundle asks for client certificates (SVU_TLS_CA). */
  readonly tls: { readonly certPath: string; readonly keyPath: string; readonly caPath: string | undefined } | undefined;
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
  'SVU_PROBE_BASE',
  'SVU_PROBE_MAX',
  'SVU_HEARTBEAT_EVERY',
  'SVU_TAKEOVER_AFTER',
  'SVU_START_WAIT',
  'SVU_PREFETCH',
  'SVU_RECIPIENT_IN_FLIGHT',
  'SVU_AMQP_IN_FLIGHT',
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
  // Sender credentials for ingress (config/senders.json in development); read by the ingress sender check,
  // and by the console to replay a dead letter as its sender system (a console alone starts without it).
  'SVU_SENDERS',
  'SVU_SENDER_RATE',
  'SVU_SENDER_BYTES',
  'SVU_REFUSED_BODY_MAX',
  'SVU_REFUSED_RETENTION',
  'SVU_TLS_CERT',
  'SVU_TLS_KEY',
  'SVU_TLS_CA',
  'SVU_SESSION_SECRET',
  'SVU_SESSION_TTL',
  'SVU_CONSOLE_PROCESSES',
  'SVU_SESSION_IDLE',
  'SVU_LOGIN_USER_ATTEMPTS',
  'SVU_LOGIN_ADDRESS_ATTEMPTS',
  'SVU_LOGIN_BACKOFF',
  'SVU_LOGIN_BACKOFF_MAX',
  'SVU_LOGIN_CONCURRENCY',
  'SVU_TRUST_PROXY',
  'SVU_CONSOLE_ORIGINS',
  'SVU_FALLBACK_CONFIG',
  'SVU_POSTAL_DELAY',
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

/** `AMQP_URL` as a list of node URLs: comma-separated, each an amqp:// or amqps:// URL; no empty entry. */
export function amqpUrls(value: string): string[] {
  const urls = value.split(',').map((s) => s.trim());
  if (urls.every((url) => url === '')) throw new Error('AMQP_URL must name at least one amqp:// or amqps:// URL');
  for (const [i, url] of urls.entries()) {
    // `amqp://a,,amqp://b` or a trailing comma: a slip, not a node; said by position (the URLs hold passwords).
    if (url === '') throw new Error(`AMQP_URL node ${i + 1} of ${urls.length} is empty (two commas in a row, or one at an end)`);
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new Error(`AMQP_URL holds a value that is not a URL (node ${i + 1} of ${urls.length})`);
    }
    if (protocol !== 'amqp:' && protocol !== 'amqps:') throw new Error(`AMQP_URL node ${i + 1} must be amqp:// or amqps://, got ${protocol}//`);
  }
  return urls;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Back-off of failed sign-ins, per user name and per client address. */
export interface LoginPolicy {
  /** Failed sign-ins allowed for one user name before each further one waits. */
  readonly userAttempts: number;
  /** Failed sign-ins allowed from one client address before each further one waits. */
  readonly addressAttempts: number;
  /** The first wait; it doubles with each further failure. */
  readonly backoffMs: number;
  /** The longest wait. */
  readonly backoffMaxMs: number;
  /** Password checks (scrypt) running at once; more sign-ins wait their turn. */
  readonly concurrency: number;
}

/** The shortest session secret accepted: 32 bytes, the size of the HMAC-SHA256 key it becomes. */
export const MIN_SESSION_SECRET_BYTES = 32;

/** How the sample secrets (deploy/k8s/overlays/example/secrets) mark a value still to be replaced. */
const PLACEHOLDER_PREFIX = 'REPLACE-';

function sessionSecretOf(env: NodeJS.ProcessEnv, consoleProcesses: number, runsConsole: boolean): Buffer | undefined {
  const raw = env['SVU_SESSION_SECRET'];
  if (raw === undefined) {
    if (runsConsole && consoleProcesses > 1) {
      throw new Error(`SVU_SESSION_SECRET is required when SVU_CONSOLE_PROCESSES is ${consoleProcesses}: every console process must sign sessions with the same secret`);
    }
    return undefined;
  }
  // The example overlay's secret files hold placeholders (REPLACE-…), long enough to pass the length check.
  if (raw.startsWith(PLACEHOLDER_PREFIX)) {
    throw new Error(`SVU_SESSION_SECRET still holds the sample placeholder (${PLACEHOLDER_PREFIX}…); make a secret with: openssl rand -base64 48`);
  }
  const secret = Buffer.from(raw, 'utf8');
  if (secret.length < MIN_SESSION_SECRET_BYTES) {
    throw new Error(`SVU_SESSION_SECRET must be at least ${MIN_SESSION_SECRET_BYTES} bytes (it is ${secret.length}); make one with: openssl rand -base64 48`);
  }
  return secret;
}

function originsOf(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return list.map((entry) => {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin === undefined || origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      throw new Error(`SVU_CONSOLE_ORIGINS must list origins such as https://svu.example.se, got ${JSON.stringify(entry)}`);
    }
    return origin;
  });
}

function trustProxyOf(raw: string | undefined): false | number | readonly string[] {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'false') return false;
  if (/^\d+$/.test(raw.trim())) return integer('SVU_TRUST_PROXY', raw.trim(), 0, 10);
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // `true` would believe X-Forwarded-For from anyone, and so let a client pick the address its sign-in
  // failures are counted against; name the proxies instead.
  if (list.some((s) => s === 'true' || s === '*')) throw new Error('SVU_TRUST_PROXY must be a hop count or the addresses of the trusted proxies, not "true"');
  return list;
}

/**
 * An ISO 8601 duration (`PT2H`, `PT0.5S`, `P1D`) in milliseconds, in fixed lengths (`isoDurationMs`:
 * a month 30 days, a year 365). Never negative, never longer than `longest` (100 years unless a
 * timer waits for it).
 */
export function durationMs(name: string, value: string, longest: { readonly ms: number; readonly text: string } = LONGEST_DURATION): number {
  let ms: number;
  try {
    ms = isoDurationMs(value);
  } catch {
    throw new Error(`${name} must be an ISO 8601 duration such as PT2H, got ${JSON.stringify(value)}`);
  }
  if (ms < 0) throw new Error(`${name} must not be negative, got ${JSON.stringify(value)}`);
  if (ms > longest.ms) throw new Error(`${name} must be at most ${longest.text}, got ${JSON.stringify(value)}`);
  return ms;
}

/** A duration that must be longer than zero; `timer`: also no longer than a timer can wait. */
function positiveDuration(env: NodeJS.ProcessEnv, name: string, fallback: string, timer = false): number {
  const raw = env[name] ?? fallback;
  const ms = durationMs(name, raw, timer ? LONGEST_TIMER : LONGEST_DURATION);
  if (ms <= 0) throw new Error(`${name} must be longer than zero, got ${JSON.stringify(raw)}`);
  return ms;
}

/** A duration that may be zero (it then turns something off, documented per setting) but no longer than a timer can wait. */
function timerDuration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  return durationMs(name, env[name] ?? fallback, LONGEST_TIMER);
}

const DAY_MS = 86_400_000;
function atLeastADay(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const raw = env[name] ?? fallback;
  const ms = durationMs(name, raw);
  if (ms < DAY_MS) throw new Error(`${name} must be at least P1D, got ${JSON.stringify(raw)}`);
  return ms;
}

/** `longer` must not be shorter than `shorter` (e.g. the longest retry wait and the first). */
function notShorter<T extends number>(names: [string, string], [shorter, longer]: [number, T]): T {
  if (longer < shorter) throw new Error(`${names[1]} must not be shorter than ${names[0]}`);
  return longer;
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
  const consoleProcesses = integer('SVU_CONSOLE_PROCESSES', get('SVU_CONSOLE_PROCESSES', '1'), 1, 1_000);
  return {
    amqpUrls: amqpUrls(get('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672')),
    databaseUrl: get('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/svu'),
    dbPool: integer('SVU_DB_POOL', get('SVU_DB_POOL', '10'), 1, 1_000),
    dbStatementTimeoutMs: timerDuration(env, 'SVU_DB_STATEMENT_TIMEOUT', 'PT0S'),
    directoryPath: get('SVU_DIRECTORY', 'config/directory.json'),
    port: integer('PORT', get('PORT', '8080'), 0, 65_535),
    fallbackMarginMs: durationMs('SVU_FALLBACK_MARGIN', get('SVU_FALLBACK_MARGIN', 'PT2H')),
    fallbackDelays: loadFallbackDelays(get('SVU_FALLBACK_CONFIG', 'config/fallback.json'), env['SVU_FALLBACK_CONFIG'] !== undefined),
    postalDelayMs: durationMs('SVU_POSTAL_DELAY', get('SVU_POSTAL_DELAY', 'P1D')),
    retry: {
      baseMs: positiveDuration(env, 'SVU_RETRY_BASE', 'PT5S', true),
      maxMs: notShorter(['SVU_RETRY_BASE', 'SVU_RETRY_MAX'], [positiveDuration(env, 'SVU_RETRY_BASE', 'PT5S', true), positiveDuration(env, 'SVU_RETRY_MAX', 'PT1H', true)]),
      budgetMs: positiveDuration(env, 'SVU_RETRY_BUDGET', 'PT24H'),
    },
    probe: {
      baseMs: positiveDuration(env, 'SVU_PROBE_BASE', 'PT1S', true),
      maxMs: notShorter(['SVU_PROBE_BASE', 'SVU_PROBE_MAX'], [positiveDuration(env, 'SVU_PROBE_BASE', 'PT1S', true), positiveDuration(env, 'SVU_PROBE_MAX', 'PT30S', true)]),
    },
    heartbeatEveryMs: positiveDuration(env, 'SVU_HEARTBEAT_EVERY', 'PT1S', true),
    // A process is taken over when it has not beaten for this long: shorter than a beat would take over live ones.
    startWaitMs: positiveDuration(env, 'SVU_START_WAIT', 'PT2M', true),
    takeoverAfterMs: notShorter(['SVU_HEARTBEAT_EVERY', 'SVU_TAKEOVER_AFTER'], [positiveDuration(env, 'SVU_HEARTBEAT_EVERY', 'PT1S', true) * 2, positiveDuration(env, 'SVU_TAKEOVER_AFTER', 'PT10S', true)]),
    services: new Set(services as ServiceName[]),
    prefetch: integer('SVU_PREFETCH', get('SVU_PREFETCH', '1000'), 1, 5_000),
    recipientInFlight: integer('SVU_RECIPIENT_IN_FLIGHT', get('SVU_RECIPIENT_IN_FLIGHT', '16'), 1, 1_000),
    amqpInFlight: integer('SVU_AMQP_IN_FLIGHT', get('SVU_AMQP_IN_FLIGHT', '256'), 1, 10_000),
    staleAfterMs: positiveDuration(env, 'SVU_STALE_AFTER', 'PT30S'),
    sweepEveryMs: positiveDuration(env, 'SVU_SWEEP_EVERY', 'PT5S', true),
    deadlineEveryMs: positiveDuration(env, 'SVU_DEADLINE_EVERY', 'PT5S', true),
    deliveryTimeoutMs: positiveDuration(env, 'SVU_DELIVERY_TIMEOUT', 'PT10S', true),
    httpKeepAliveMs: positiveDuration(env, 'SVU_HTTP_KEEP_ALIVE', 'PT65S', true),
    ingressGroupWaitMs: timerDuration(env, 'SVU_INGRESS_GROUP_WAIT', 'PT0.003S'),
    topologyPrefix: get('SVU_TOPOLOGY_PREFIX', 'svu'),
    logLevel: get('LOG_LEVEL', 'info'),
    logFile: env['SVU_LOG_FILE'],
    fontDir: env['SVU_FONT_DIR'],
    usersPath: get('SVU_USERS', 'config/users.json'),
    sessionSecret: sessionSecretOf(env, consoleProcesses, services.includes('console')),
    sessionMs: positiveDuration(env, 'SVU_SESSION_TTL', 'PT8H'),
    sessionIdleMs: positiveDuration(env, 'SVU_SESSION_IDLE', 'PT30M'),
    consoleProcesses,
    login: {
      userAttempts: integer('SVU_LOGIN_USER_ATTEMPTS', get('SVU_LOGIN_USER_ATTEMPTS', '5'), 1, 1_000),
      addressAttempts: integer('SVU_LOGIN_ADDRESS_ATTEMPTS', get('SVU_LOGIN_ADDRESS_ATTEMPTS', '20'), 1, 100_000),
      backoffMs: positiveDuration(env, 'SVU_LOGIN_BACKOFF', 'PT1S'),
      backoffMaxMs: notShorter(['SVU_LOGIN_BACKOFF', 'SVU_LOGIN_BACKOFF_MAX'], [positiveDuration(env, 'SVU_LOGIN_BACKOFF', 'PT1S'), positiveDuration(env, 'SVU_LOGIN_BACKOFF_MAX', 'PT15M')]),
      concurrency: integer('SVU_LOGIN_CONCURRENCY', get('SVU_LOGIN_CONCURRENCY', '2'), 1, 64),
    },
    trustProxy: trustProxyOf(env['SVU_TRUST_PROXY']),
    consoleOrigins: originsOf(env['SVU_CONSOLE_ORIGINS']),
    reportRulesPath: get('SVU_REPORT_RULES', 'config/report-rules.json'),
    reportRulesNamed: env['SVU_REPORT_RULES'] !== undefined,
    bulkPerSecond: integer('SVU_BULK_PER_SECOND', get('SVU_BULK_PER_SECOND', '50'), 1, 10_000),
    retention: {
      // Zero would prune what was just written: at least a day.
      payloadsMs: atLeastADay(env, 'SVU_RETAIN_PAYLOADS', 'P90D'),
      deadLettersMs: atLeastADay(env, 'SVU_RETAIN_DEAD_LETTERS', 'P90D'),
      documentsMs: atLeastADay(env, 'SVU_RETAIN_DOCUMENTS', 'P90D'),
      // The log of who viewed a patient's data outlives the data (docs/retention.md).
      auditMs: notShorter(['SVU_RETAIN_PAYLOADS', 'SVU_RETAIN_AUDIT'], [atLeastADay(env, 'SVU_RETAIN_PAYLOADS', 'P90D'), atLeastADay(env, 'SVU_RETAIN_AUDIT', 'P3650D')]),
      everyMs: positiveDuration(env, 'SVU_RETENTION_EVERY', 'PT1H', true),
      batchSize: integer('SVU_RETENTION_BATCH', get('SVU_RETENTION_BATCH', '1000'), 1, 100_000),
    },
    storeMetricsEveryMs: positiveDuration(env, 'SVU_STORE_METRICS_EVERY', 'PT15S', true),
    sendersPath: get('SVU_SENDERS', 'config/senders.json'),
    senderDefaults: {
      messagesPerSecond: integer('SVU_SENDER_RATE', get('SVU_SENDER_RATE', '1000'), 1, 100_000),
      bytesPerSecond: integer('SVU_SENDER_BYTES', get('SVU_SENDER_BYTES', String(16 * 1024 * 1024)), 256 * 1024, 10_000_000_000),
    },
    refusedBodyMax: integer('SVU_REFUSED_BODY_MAX', get('SVU_REFUSED_BODY_MAX', String(64 * 1024)), 0, 256 * 1024),
    refusedRetentionMs: positiveDuration(env, 'SVU_REFUSED_RETENTION', 'P30D'),
    tls: tlsOf(env),
  };
}

function tlsOf(env: NodeJS.ProcessEnv): GatewayConfig['tls'] {
  const [certPath, keyPath, caPath] = [env['SVU_TLS_CERT'], env['SVU_TLS_KEY'], env['SVU_TLS_CA']];
  if (certPath === undefined && keyPath === undefined) {
    if (caPath !== undefined) throw new Error('SVU_TLS_CA needs SVU_TLS_CERT and SVU_TLS_KEY (client certificates are asked for over HTTPS only)');
    return undefined;
  }
  if (certPath === undefined || keyPath === undefined) throw new Error('SVU_TLS_CERT and SVU_TLS_KEY go together: set both to serve HTTPS');
  return { certPath, keyPath, caPath };
}

/** How the pipeline's consumers take messages: batches of up to a quarter of the prefetch, two at a time. */
export function consumeOptions(config: GatewayConfig): { prefetch: number; batchSize: number; batchWaitMs: number; concurrency: number } {
  return { prefetch: config.prefetch, batchSize: Math.max(1, Math.floor(config.prefetch / 4)), batchWaitMs: 20, concurrency: 2 };
}
