import { loadConfig } from './gateway-config';

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
