import { readFileSync } from 'node:fs';
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
    expect(() => loadConfig({ SVU_RETAIN_DOCUMENTS: 'ninety days' })).toThrow(/SVU_RETAIN_DOCUMENTS/);
  });

  it('lists every variable it reads among the known names', () => {
    // Every name the loader reads changes the result when set to a bad value; a name read but missing
    // from KNOWN_ENV_NAMES would be refused in the deployment files by deploy/ checks.
    const source = readFileSync(__filename.replace(/\.spec\.ts$/, '.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:get\(|env\[)'([A-Z_]+)'/g)].map((m) => m[1]!));
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
