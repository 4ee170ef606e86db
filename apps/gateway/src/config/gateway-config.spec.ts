import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_ENV_NAMES, loadConfig } from './gateway-config';

const SECRET = 'x'.repeat(32);

describe('loadConfig: console sessions and sign-in', () => {
  it('takes a session secret of 32 bytes or more, and leaves it unset (random per process) when not given', () => {
    expect(loadConfig({ SVU_SESSION_SECRET: SECRET }).sessionSecret).toEqual(Buffer.from(SECRET));
    expect(loadConfig({}).sessionSecret).toBeUndefined();
  });

  it.each([
    ['', 0],
    ['short', 5],
    ['x'.repeat(31), 31],
    ['å'.repeat(15), 30],
  ])('refuses a session secret under 32 bytes: %j', (secret, bytes) => {
    expect(() => loadConfig({ SVU_SESSION_SECRET: secret })).toThrow(`SVU_SESSION_SECRET must be at least 32 bytes (it is ${bytes})`);
  });

  it('refuses the sample placeholder of the example overlay, naming the variable', () => {
    const sample = readFileSync(join(__dirname, '../../../../deploy/k8s/overlays/example/secrets/session.env'), 'utf8').match(/^SVU_SESSION_SECRET=(.*)$/m)![1]!;
    expect(sample).toMatch(/^REPLACE-/);
    expect(() => loadConfig({ SVU_SESSION_SECRET: sample })).toThrow(/^SVU_SESSION_SECRET still holds the sample placeholder \(REPLACE-…\); make a secret with: openssl rand -base64 48$/);
  });

  it('refuses to run more than one console process without a shared secret', () => {
    expect(() => loadConfig({ SVU_CONSOLE_PROCESSES: '2' })).toThrow(/SVU_SESSION_SECRET is required when SVU_CONSOLE_PROCESSES is 2/);
    expect(loadConfig({ SVU_CONSOLE_PROCESSES: '2', SVU_SESSION_SECRET: SECRET }).consoleProcesses).toBe(2);
    // A process that runs no console signs no sessions.
    expect(loadConfig({ SVU_CONSOLE_PROCESSES: '2', SVU_SERVICES: 'ingress' }).sessionSecret).toBeUndefined();
    expect(() => loadConfig({ SVU_CONSOLE_PROCESSES: '0' })).toThrow(/SVU_CONSOLE_PROCESSES must be a whole number/);
  });

  it('reads the idle time and the sign-in policy, with their defaults', () => {
    const config = loadConfig({});
    expect(config.sessionIdleMs).toBe(30 * 60_000);
    expect(config.login).toEqual({ userAttempts: 5, addressAttempts: 20, backoffMs: 1_000, backoffMaxMs: 15 * 60_000, concurrency: 2 });
    const set = loadConfig({ SVU_SESSION_IDLE: 'PT5M', SVU_LOGIN_USER_ATTEMPTS: '3', SVU_LOGIN_BACKOFF: 'PT2S', SVU_LOGIN_CONCURRENCY: '1' });
    expect(set.sessionIdleMs).toBe(300_000);
    expect(set.login).toMatchObject({ userAttempts: 3, backoffMs: 2_000, concurrency: 1 });
    expect(() => loadConfig({ SVU_SESSION_IDLE: '30 minutes' })).toThrow(/SVU_SESSION_IDLE must be an ISO 8601 duration/);
  });

  it('trusts a proxy only when told which (a hop count or addresses), never any', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ SVU_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ SVU_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig({ SVU_TRUST_PROXY: 'true' })).toThrow(/SVU_TRUST_PROXY/);
  });

  it('reads further console origins, and refuses what is not an origin', () => {
    expect(loadConfig({ SVU_CONSOLE_ORIGINS: 'https://svu.region.se, https://svu.region.se:8443/' }).consoleOrigins).toEqual(['https://svu.region.se', 'https://svu.region.se:8443']);
    expect(() => loadConfig({ SVU_CONSOLE_ORIGINS: 'https://svu.region.se/console' })).toThrow(/SVU_CONSOLE_ORIGINS/);
    expect(() => loadConfig({ SVU_CONSOLE_ORIGINS: 'svu.region.se' })).toThrow(/SVU_CONSOLE_ORIGINS/);
  });
});


describe('loadConfig', () => {
  it('takes AMQP_URL as a comma-separated list of cluster nodes', () => {
    const config = loadConfig({ AMQP_URL: 'amqp://u:p@rabbit-0:5672, amqps://u:p@rabbit-1:5671 ,amqp://u:p@rabbit-2' });
    expect(config.amqpUrls).toEqual(['amqp://u:p@rabbit-0:5672', 'amqps://u:p@rabbit-1:5671', 'amqp://u:p@rabbit-2']);
    expect(loadConfig({}).amqpUrls).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
  });

  it('refuses a node that is not an AMQP URL, naming the variable and not echoing credentials', () => {
    expect(() => loadConfig({ AMQP_URL: 'amqp://a, http://u:secret@b' })).toThrow(/^AMQP_URL node 2 must be amqp:\/\/ or amqps:\/\//);
    expect(() => loadConfig({ AMQP_URL: 'amqp://a,not a url' })).toThrow(/AMQP_URL/);
    expect(() => loadConfig({ AMQP_URL: ' , ' })).toThrow(/AMQP_URL must name at least one/);
  });

  it.each([
    ['amqp://u:secret@a,,amqp://u:secret@b', 2, 3],
    ['amqp://u:secret@a,amqp://u:secret@b,', 3, 3],
    [', amqp://u:secret@a', 1, 2],
    ['amqp://u:secret@a, ,amqp://u:secret@b', 2, 3],
  ])('refuses an empty node in AMQP_URL=%j, naming its position and no credentials', (value, position, count) => {
    expect(() => loadConfig({ AMQP_URL: value })).toThrow(new RegExp(`^AMQP_URL node ${position} of ${count} is empty \\(two commas in a row, or one at an end\\)$`));
  });

  it('reads the pool size and statement timeout', () => {
    const config = loadConfig({ SVU_DB_POOL: '4', SVU_DB_STATEMENT_TIMEOUT: 'PT30S' });
    expect(config.dbPool).toBe(4);
    expect(config.dbStatementTimeoutMs).toBe(30_000);
    expect(loadConfig({}).dbPool).toBe(10);
    expect(loadConfig({}).dbStatementTimeoutMs).toBe(0);
    expect(() => loadConfig({ SVU_DB_POOL: '0' })).toThrow(/SVU_DB_POOL/);
  });

  it('keeps payloads of settled messages 90 days by default, the audit log longer', () => {
    const day = 86_400_000;
    const { retention } = loadConfig({});
    expect(retention.payloadsMs).toBe(90 * day);
    expect(retention.auditMs).toBeGreaterThan(retention.payloadsMs);
    expect(loadConfig({ SVU_RETAIN_PAYLOADS: 'P30D' }).retention.payloadsMs).toBe(30 * day);
    // Months and years in fixed lengths (README, Configuration): 30 and 365 days.
    expect(loadConfig({ SVU_RETAIN_PAYLOADS: 'P3M', SVU_RETAIN_AUDIT: 'P10Y' }).retention).toMatchObject({ payloadsMs: 90 * day, auditMs: 3650 * day });
    expect(() => loadConfig({ SVU_RETAIN_DOCUMENTS: 'ninety days' })).toThrow(/SVU_RETAIN_DOCUMENTS/);
  });

  it('keeps the audit log at least as long as payloads: equal is taken, shorter refused naming both settings', () => {
    expect(loadConfig({ SVU_RETAIN_PAYLOADS: 'P400D', SVU_RETAIN_AUDIT: 'P400D' }).retention.auditMs).toBe(400 * 86_400_000);
    expect(() => loadConfig({ SVU_RETAIN_PAYLOADS: 'P400D', SVU_RETAIN_AUDIT: 'P399D' })).toThrow('SVU_RETAIN_AUDIT must not be shorter than SVU_RETAIN_PAYLOADS');
    // Raising payload retention past the audit default needs the audit setting raised too.
    expect(() => loadConfig({ SVU_RETAIN_PAYLOADS: 'P4000D' })).toThrow('SVU_RETAIN_AUDIT must not be shorter than SVU_RETAIN_PAYLOADS');
  });

  // Zero, negative and out-of-range durations and counts: refused at start with the setting's name.
  it.each([
    ['SVU_RETENTION_EVERY', 'PT0S', /^SVU_RETENTION_EVERY must be longer than zero, got "PT0S"$/],
    ['SVU_RETENTION_EVERY', '-PT1H', /^SVU_RETENTION_EVERY must not be negative, got "-PT1H"$/],
    ['SVU_RETENTION_EVERY', 'P30D', /^SVU_RETENTION_EVERY must be at most P24D/],
    ['SVU_RETENTION_BATCH', '0', /^SVU_RETENTION_BATCH must be a whole number from 1 to 100000, got "0"$/],
    ['SVU_RETENTION_BATCH', '-5', /^SVU_RETENTION_BATCH must be a whole number/],
    ['SVU_RETAIN_PAYLOADS', 'PT0S', /^SVU_RETAIN_PAYLOADS must be at least P1D, got "PT0S"$/],
    ['SVU_RETAIN_AUDIT', 'PT1H', /^SVU_RETAIN_AUDIT must be at least P1D/],
    ['SVU_RETAIN_DEAD_LETTERS', '-P1D', /^SVU_RETAIN_DEAD_LETTERS must not be negative/],
    ['SVU_RETAIN_AUDIT', 'P30D', /^SVU_RETAIN_AUDIT must not be shorter than SVU_RETAIN_PAYLOADS$/],
    ['SVU_SWEEP_EVERY', 'PT0S', /^SVU_SWEEP_EVERY must be longer than zero/],
    ['SVU_DEADLINE_EVERY', 'PT0S', /^SVU_DEADLINE_EVERY must be longer than zero/],
    ['SVU_STORE_METRICS_EVERY', 'PT0S', /^SVU_STORE_METRICS_EVERY must be longer than zero/],
    ['SVU_HEARTBEAT_EVERY', 'PT0S', /^SVU_HEARTBEAT_EVERY must be longer than zero/],
    ['SVU_TAKEOVER_AFTER', 'PT1S', /^SVU_TAKEOVER_AFTER must not be shorter than SVU_HEARTBEAT_EVERY/],
    ['SVU_STALE_AFTER', 'PT0S', /^SVU_STALE_AFTER must be longer than zero/],
    ['SVU_RETRY_BASE', 'PT0S', /^SVU_RETRY_BASE must be longer than zero/],
    ['SVU_RETRY_MAX', 'PT1S', /^SVU_RETRY_MAX must not be shorter than SVU_RETRY_BASE/],
    ['SVU_RETRY_BUDGET', 'PT0S', /^SVU_RETRY_BUDGET must be longer than zero/],
    ['SVU_PROBE_BASE', '-PT1S', /^SVU_PROBE_BASE must not be negative/],
    ['SVU_PROBE_MAX', 'PT0.5S', /^SVU_PROBE_MAX must not be shorter than SVU_PROBE_BASE/],
    ['SVU_DELIVERY_TIMEOUT', 'PT0S', /^SVU_DELIVERY_TIMEOUT must be longer than zero/],
    ['SVU_HTTP_KEEP_ALIVE', 'PT0S', /^SVU_HTTP_KEEP_ALIVE must be longer than zero/],
    ['SVU_FALLBACK_MARGIN', '-PT1H', /^SVU_FALLBACK_MARGIN must not be negative/],
    ['SVU_SESSION_TTL', 'PT0S', /^SVU_SESSION_TTL must be longer than zero/],
    ['SVU_SESSION_IDLE', 'PT0S', /^SVU_SESSION_IDLE must be longer than zero/],
    ['SVU_LOGIN_BACKOFF', 'PT0S', /^SVU_LOGIN_BACKOFF must be longer than zero/],
    ['SVU_LOGIN_BACKOFF_MAX', 'PT0.5S', /^SVU_LOGIN_BACKOFF_MAX must not be shorter than SVU_LOGIN_BACKOFF/],
    ['SVU_REFUSED_RETENTION', 'PT0S', /^SVU_REFUSED_RETENTION must be longer than zero/],
    ['SVU_INGRESS_GROUP_WAIT', '-PT0.001S', /^SVU_INGRESS_GROUP_WAIT must not be negative/],
    ['SVU_DB_STATEMENT_TIMEOUT', 'P100D', /^SVU_DB_STATEMENT_TIMEOUT must be at most P24D/],
    ['SVU_DB_POOL', '0', /^SVU_DB_POOL must be a whole number from 1/],
    ['SVU_PREFETCH', '-1', /^SVU_PREFETCH must be a whole number from 1/],
    ['SVU_RECIPIENT_IN_FLIGHT', '0', /^SVU_RECIPIENT_IN_FLIGHT must be a whole number from 1/],
    ['SVU_AMQP_IN_FLIGHT', '0', /^SVU_AMQP_IN_FLIGHT must be a whole number from 1/],
    ['SVU_AMQP_IN_FLIGHT', '10001', /^SVU_AMQP_IN_FLIGHT must be a whole number from 1 to 10000/],
    ['SVU_BULK_PER_SECOND', '0', /^SVU_BULK_PER_SECOND must be a whole number from 1/],
    ['SVU_SENDER_RATE', '0', /^SVU_SENDER_RATE must be a whole number from 1/],
    ['SVU_LOGIN_USER_ATTEMPTS', '0', /^SVU_LOGIN_USER_ATTEMPTS must be a whole number from 1/],
    ['SVU_LOGIN_CONCURRENCY', '0', /^SVU_LOGIN_CONCURRENCY must be a whole number from 1/],
    ['SVU_CONSOLE_PROCESSES', '1.5', /^SVU_CONSOLE_PROCESSES must be a whole number/],
    ['PORT', '-1', /^PORT must be a whole number from 0 to 65535/],
    ['SVU_SESSION_SECRET', 'REPLACE-WITH-32-RANDOM-BYTES-BASE64', /^SVU_SESSION_SECRET still holds the sample placeholder/],
    ['AMQP_URL', 'amqp://a,,amqp://b', /^AMQP_URL node 2 of 3 is empty/],
    ['SVU_RETAIN_AUDIT', 'P99999999D', /^SVU_RETAIN_AUDIT must be at most P36500D \(100 years\), got "P99999999D"$/],
    ['SVU_RETAIN_PAYLOADS', `P${'9'.repeat(400)}D`, /^SVU_RETAIN_PAYLOADS must be at most P36500D \(100 years\)/],
    ['SVU_SESSION_TTL', 'P101Y', /^SVU_SESSION_TTL must be at most P36500D \(100 years\), got "P101Y"$/],
    ['SVU_SWEEP_EVERY', 'P99999999D', /^SVU_SWEEP_EVERY must be at most P24D \(a timer waits no longer\), got "P99999999D"$/],
    ['SVU_INGRESS_GROUP_WAIT', 'P99999999D', /^SVU_INGRESS_GROUP_WAIT must be at most P24D \(a timer waits no longer\)/],
  ])('refuses %s=%s, naming the setting', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('takes a duration up to its maximum: 100 years (P100Y, P36500D), P24D for a timer', () => {
    const config = loadConfig({ SVU_RETAIN_PAYLOADS: 'P36500D', SVU_RETAIN_AUDIT: 'P100Y', SVU_SWEEP_EVERY: 'P24D' });
    expect([config.retention.payloadsMs, config.retention.auditMs, config.sweepEveryMs]).toEqual([36_500 * 86_400_000, 36_500 * 86_400_000, 24 * 86_400_000]);
  });

  it('takes zero where it turns something off: no statement timeout, no ingress wait, no kept refused bodies', () => {
    const config = loadConfig({ SVU_DB_STATEMENT_TIMEOUT: 'PT0S', SVU_INGRESS_GROUP_WAIT: 'PT0S', SVU_REFUSED_BODY_MAX: '0', SVU_FALLBACK_MARGIN: 'PT0S' });
    expect([config.dbStatementTimeoutMs, config.ingressGroupWaitMs, config.refusedBodyMax, config.fallbackMarginMs]).toEqual([0, 0, 0, 0]);
  });

  it('lists every variable it reads among the known names', () => {
    // Every name the loader reads changes the result when set to a bad value; a name read but missing
    // from KNOWN_ENV_NAMES would be refused in the deployment files by deploy/ checks.
    const source = readFileSync(__filename.replace(/\.spec\.ts$/, '.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:get\(|env\[|\(env, )'([A-Z_]+)'/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(20);
    for (const name of read) expect(KNOWN_ENV_NAMES).toContain(name);
  });
});

describe('KNOWN_ENV_NAMES', () => {
  it('lists every variable the config loader reads (compose and Kubernetes files are checked against it)', () => {
    const source = readFileSync(__filename.replace(/\.spec\.ts$/, '.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:get\(|env\[)'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]));
    expect(read.size).toBeGreaterThan(20);
    expect([...read].filter((name) => !KNOWN_ENV_NAMES.includes(name!))).toEqual([]);
  });
});
