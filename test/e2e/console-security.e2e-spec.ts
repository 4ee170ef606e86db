import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock, systemClock } from '../../apps/gateway/src/common/clock/clock';
import { hashPassword } from '@svu/users';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, query, spawnGateway, writeDirectory } from '../support/gateway-harness';
import { answerChecker, documentedOperations } from '../support/api-document';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor, onTimeAdmission } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * The console's defences (issue 14, docs/console-security.md): session secret, revocable and idle
 * sessions, sign-in back-off, CSRF, security headers, and what a viewer may see.
 */

// Every sign-in runs scrypt; on a loaded machine a test of a dozen of them outlasts jest's 5 s.
jest.setTimeout(30_000);

const SECRET = randomBytes(48).toString('base64');
const IDLE_MS = 10 * 60_000;
const TTL_MS = 60 * 60_000;
const BACKOFF_MS = 10_000;
const USER_ATTEMPTS = 3;
const ADDRESS_ATTEMPTS = 6;
// The test identity and names of the contract examples, and the rule scripts/scan-logs.mjs uses.
const IDENTITY = /(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[1-8]\d|9[01])[-+]?\d{4}(?!\d)/;
const NAMES = /Karin|Öberg|Áilu|Ŋuorra/i;

type Person = { username: string; password: string; role: 'viewer' | 'operator' };
const VIEWER: Person = { username: 'vera.viewer', password: 'viewer-password-1', role: 'viewer' };
const OPERATOR: Person = { username: 'otto.operator', password: 'operator-password-1', role: 'operator' };

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let units: DirectoryUnit[];
let usersPath: string;
const hashes = new Map<string, string>();
/** The clock of sessions and sign-in back-off, moved by the tests (the message clock is the system's). */
const clock = new ManualClock(new Date());
let addressCounter = 0;
/** A client address of its own (the gateway trusts the loopback proxy's X-Forwarded-For here). */
const freshAddress = () => `10.20.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

function writeUsers(list: Person[]): void {
  const users = list.map((p) => {
    const key = `${p.username}:${p.password}`;
    if (!hashes.has(key)) hashes.set(key, hashPassword(p.password));
    return { username: p.username, role: p.role, passwordHash: hashes.get(key)! };
  });
  writeFileSync(usersPath, JSON.stringify({ users }), { mode: 0o600 });
}

type Call = { status: number; body: any; text: string; headers: Headers };
async function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Call> {
  const res = await fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const buffer = Buffer.from(await res.arrayBuffer());
  const text = buffer.toString('utf8');
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, text, body: json ? JSON.parse(text) : buffer };
}

const login = (person: Pick<Person, 'username' | 'password'>, address = freshAddress(), headers: Record<string, string> = {}) =>
  call('POST', '/api/login', { body: { username: person.username, password: person.password }, headers: { 'x-forwarded-for': address, ...headers } });

async function signIn(person: Person): Promise<string> {
  const res = await login(person);
  if (res.status !== 200) throw new Error(`sign-in of ${person.username} failed: ${res.status} ${res.text}`);
  return res.body.token as string;
}

const me = (token: string) => call('GET', '/api/me', { token }).then((r) => r.status);

beforeAll(async () => {
  services = await createTestServices('console_security');
  const port = await freePort();
  units = [
    { hsaId: 'SE2120000014-HTTP', name: 'Hemsjukvården Säker', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/u`, allowInsecureHttp: true } },
    { hsaId: 'SE2120000014-NONE', name: 'Socialtjänst Säker', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 14', '411 14 Göteborg'] },
  ];
  simulator = new RecipientSimulator({ units });
  await simulator.start();
  usersPath = join(mkdtempSync(join(tmpdir(), 'svu-users-')), 'users.json');
  writeUsers([VIEWER, OPERATOR]);
  const env = gatewayEnv(services, writeDirectory(units), {
    SVU_USERS: usersPath,
    SVU_SESSION_SECRET: SECRET,
    SVU_SESSION_TTL: 'PT1H',
    SVU_SESSION_IDLE: 'PT10M',
    SVU_LOGIN_USER_ATTEMPTS: String(USER_ATTEMPTS),
    SVU_LOGIN_ADDRESS_ATTEMPTS: String(ADDRESS_ATTEMPTS),
    SVU_LOGIN_BACKOFF: 'PT10S',
    SVU_TRUST_PROXY: 'loopback',
    SVU_DEADLINE_EVERY: 'PT1H',
    SVU_RETRY_BUDGET: 'PT0.5S',
  });
  app = await startGateway(loadConfig(env), systemClock, clock);
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

describe('session secret', () => {
  it.each([
    ['empty', ''],
    ['31 bytes', 'x'.repeat(31)],
  ])('a gateway with an %s secret does not start', async (_what, secret) => {
    const child = spawnGateway(gatewayEnv(services, writeDirectory(units), { SVU_USERS: usersPath, SVU_SESSION_SECRET: secret }));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('SVU_SESSION_SECRET must be at least 32 bytes');
  }, 30_000);

  it('a gateway told it is one of two console processes does not start without a secret', async () => {
    const child = spawnGateway(gatewayEnv(services, writeDirectory(units), { SVU_USERS: usersPath, SVU_CONSOLE_PROCESSES: '2' }));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise<number | null>((resolve) => child.on('exit', resolve))).toBe(1);
    expect(stderr).toContain('SVU_SESSION_SECRET is required when SVU_CONSOLE_PROCESSES is 2');
  }, 30_000);
});

describe('tokens', () => {
  const sign = (payload: unknown, key: string | Buffer) => {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  };
  const exp = () => clock.now().getTime() + 3_600_000;

  it('refuses a token signed with the empty key, for a user that does not exist or one that does', async () => {
    expect(await me(sign({ username: 'ghost', role: 'operator', exp: exp(), sid: 'x' }, ''))).toBe(401);
    expect(await me(sign({ username: OPERATOR.username, role: 'operator', exp: exp(), sid: 'x' }, ''))).toBe(401);
    expect((await call('POST', '/api/dead-letters/1/discard', { token: sign({ username: 'ghost', role: 'operator', exp: exp(), sid: 'x' }, ''), body: { reason: 'x' } })).status).toBe(401);
  });

  it('refuses a token signed with the real secret for a user not in the users file, or for a session that was never begun', async () => {
    expect(await me(sign({ username: 'ghost', role: 'operator', exp: exp(), sid: 'x' }, SECRET))).toBe(401);
    expect(await me(sign({ username: OPERATOR.username, role: 'operator', exp: exp(), sid: randomBytes(24).toString('base64url') }, SECRET))).toBe(401);
    const audit = await query(services.databaseUrl, "SELECT 1 FROM audit_log WHERE username = 'ghost'");
    expect(audit).toEqual([]);
  });

  it('refuses a real session given another role', async () => {
    const token = await signIn(VIEWER);
    const session = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(await me(sign({ ...session, role: 'operator' }, SECRET))).toBe(401);
    expect(await me(token)).toBe(200);
  });

  it.each([
    ['a cookie that is not percent-encoded right', { cookie: 'svu_session=%E0%A4%A' }],
    ['a cookie of garbage', { cookie: 'svu_session=..;;=;svu_session' }],
    ['a cookie without a value', { cookie: 'svu_session' }],
    ['a bearer token of garbage', { authorization: 'Bearer %%%.%%%' }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['a huge token', { authorization: `Bearer ${'a'.repeat(6_000)}.${'b'.repeat(43)}` }],
    ['a token whose body is not JSON', { authorization: `Bearer ${sign('x', SECRET).replace(/^[^.]+/, 'bm90IGpzb24')}` }],
  ])('answers %s with 401, not 500', async (_what, headers) => {
    expect((await call('GET', '/api/overview', { headers })).status).toBe(401);
  });
});

describe('revocation, expiry and idle time', () => {
  it('ends a session at sign-out at once, for the cookie and the bearer token alike', async () => {
    const res = await login(OPERATOR);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(await me(res.body.token)).toBe(200);
    expect((await call('GET', '/api/me', { headers: { cookie } })).status).toBe(200);
    expect((await call('POST', '/api/logout', { headers: { cookie, origin: base } })).status).toBe(200);
    expect(await me(res.body.token)).toBe(401);
    expect((await call('GET', '/api/me', { headers: { cookie } })).status).toBe(401);
    const audit = await query<{ action: string }>(services.databaseUrl, "SELECT action FROM audit_log WHERE username = $1 AND action = 'logout'", [OPERATOR.username]);
    expect(audit.length).toBeGreaterThan(0);
  });

  it('ends the sessions of a user removed from the users file, or whose role or password changed, as soon as the file is reloaded', async () => {
    const tilde: Person = { username: 'tilde.temp', password: 'tilde-password-1', role: 'viewer' };
    const rolf: Person = { username: 'rolf.role', password: 'rolf-password-1', role: 'viewer' };
    const petra: Person = { username: 'petra.password', password: 'petra-password-1', role: 'operator' };
    writeUsers([VIEWER, OPERATOR, tilde, rolf, petra]);
    const tokens = await eventually(async () => {
      const signed = await Promise.all([tilde, rolf, petra].map((p) => login(p)));
      return signed.every((r) => r.status === 200) ? signed.map((r) => r.body.token as string) : undefined;
    }, 10_000, 'the new users to be loaded');
    const viewer = await signIn(VIEWER);
    for (const token of [...tokens, viewer]) expect(await me(token)).toBe(200);

    writeUsers([VIEWER, OPERATOR, { ...rolf, role: 'operator' }, { ...petra, password: 'petra-password-2' }]);
    await eventually(async () => ((await Promise.all(tokens.map(me))).every((s) => s === 401) ? true : undefined), 10_000, 'the sessions to end');
    // The others keep theirs; rolf signs in again as an operator.
    expect(await me(viewer)).toBe(200);
    const again = await login(rolf);
    expect(again.body.role).toBe('operator');
    expect((await login(petra)).status).toBe(401);
    const rows = await query<{ username: string; revoked_reason: string }>(
      services.databaseUrl,
      'SELECT DISTINCT username, revoked_reason FROM console_sessions WHERE username = ANY($1) AND revoked_at IS NOT NULL ORDER BY username',
      [[tilde.username, rolf.username, petra.username]],
    );
    expect(rows.map((r) => r.username)).toEqual([petra.username, rolf.username, tilde.username]);
    expect(rows.every((r) => r.revoked_reason === 'user removed or changed in the users file')).toBe(true);
    writeUsers([VIEWER, OPERATOR]);
  }, 30_000);

  it('ends a session left unused for the idle time', async () => {
    const token = await signIn(VIEWER);
    clock.advance(IDLE_MS - 60_000);
    expect(await me(token)).toBe(200);
    clock.advance(IDLE_MS + 1_000);
    expect(await me(token)).toBe(401);
  });

  it('ends a session in use after its lifetime', async () => {
    const token = await signIn(VIEWER);
    for (let used = 0; used + IDLE_MS / 2 < TTL_MS; used += IDLE_MS / 2) {
      clock.advance(IDLE_MS / 2);
      expect(await me(token)).toBe(200);
    }
    clock.advance(IDLE_MS / 2);
    expect(await me(token)).toBe(401);
  });
});

describe('sign-in back-off', () => {
  it.each([
    ['a user', OPERATOR.username],
    ['a user name that does not exist, alike', 'nobody.at.all'],
  ])('makes %s wait after the allowed failures, even with the right password, with 429 and Retry-After', async (_what, username) => {
    for (let i = 0; i < USER_ATTEMPTS; i++) expect((await login({ username, password: `wrong-${i}` })).status).toBe(401);
    const refused = await login({ username, password: username === OPERATOR.username ? OPERATOR.password : 'x' });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(BACKOFF_MS / 1000);
    expect(refused.body.message).toMatch(/too many failed sign-ins/);
    clock.advance(BACKOFF_MS);
    if (username === OPERATOR.username) expect((await login(OPERATOR)).status).toBe(200);
  });

  it('doubles the wait with each further failure', async () => {
    const username = VIEWER.username;
    const retryAfter: number[] = [];
    for (let i = 0; i < USER_ATTEMPTS; i++) await login({ username, password: 'wrong' });
    for (let round = 0; round < 3; round++) {
      const refused = await login({ username, password: 'wrong' });
      expect(refused.status).toBe(429);
      retryAfter.push(Number(refused.headers.get('retry-after')));
      clock.advance(Number(refused.headers.get('retry-after')) * 1000);
      expect((await login({ username, password: 'wrong' })).status).toBe(401);
    }
    expect(retryAfter).toEqual([10, 20, 40]);
    clock.advance(80_000);
    expect((await login(VIEWER)).status).toBe(200);
  });

  it('counts the failures of one client address over every user name', async () => {
    const address = freshAddress();
    for (let i = 0; i < ADDRESS_ATTEMPTS; i++) expect((await login({ username: `guess-${i}`, password: 'x' }, address)).status).toBe(401);
    const refused = await login(VIEWER, address);
    expect(refused.status).toBe(429);
    expect((await login(VIEWER)).status).toBe(200);
  });

  it('audits each failed sign-in with the address, and keeps no user name typed that is no user\'s', async () => {
    const address = freshAddress();
    await login({ username: 'a-password-in-the-wrong-field', password: 'x' }, address);
    await login({ username: VIEWER.username, password: 'wrong' }, address);
    const rows = await query<{ username: string }>(services.databaseUrl, "SELECT username FROM audit_log WHERE action = 'login-failed' AND detail ->> 'address' = $1 ORDER BY id", [address]);
    expect(rows.map((r) => r.username)).toEqual(['(unknown user)', VIEWER.username]);
    const kept = await query(services.databaseUrl, "SELECT 1 FROM audit_log WHERE username LIKE 'a-password%' UNION ALL SELECT 1 FROM console_login_failures WHERE key_hash LIKE '%password%'");
    expect(kept).toEqual([]);
  });

  it('checks passwords off the event loop: 40 concurrent wrong sign-ins do not hold up ingress', async () => {
    let loginsDone = 0;
    let loginsDoneWhenIngressAnswered = -1;
    const before = performance.eventLoopUtilization();
    const logins = Array.from({ length: 40 }, (_, i) =>
      login({ username: `burst-${i}`, password: 'wrong' }).then((r) => {
        loginsDone += 1;
        return r.status;
      }),
    );
    const message = exampleFor('message', [units[0]!]);
    const ingress = postIngress(base, 'canonical', bytesOf(message, 'canonical')).then((r) => {
      loginsDoneWhenIngressAnswered = loginsDone;
      return r.status;
    });
    const [statuses, ingressStatus] = await Promise.all([Promise.all(logins), ingress]);
    const busy = performance.eventLoopUtilization(before);
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(ingressStatus).toBe(202);
    // No thresholds in time, which a loaded machine moves. The ingress request, sent after the forty
    // sign-ins, is answered while most of them still wait for their password check (with checks on
    // the event loop it came after 36 of 40, measured); and the event loop (the gateway runs in this
    // process) was idle part of the time (checks on it keep it busy all of the time: utilization 1).
    expect(loginsDoneWhenIngressAnswered).toBeLessThan(20);
    expect(busy.utilization).toBeLessThan(0.95);
  }, 60_000);
});

describe('cross-origin requests (CSRF)', () => {
  let cookie: string;
  beforeAll(async () => {
    const res = await login(OPERATOR);
    cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }, /another origin \(https:\/\/evil\.example\)/],
    ['another port of the same host', { origin: 'http://127.0.0.1:1' }, /another origin/],
    ['a cross-site fetch without Origin', { 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site: cross-site/],
  ])('refuses a state change with the session cookie from %s with 403 and the reason', async (_what, headers, reason) => {
    const before = await query(services.databaseUrl, 'SELECT count(*) AS n FROM audit_log');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await call(method, '/api/dead-letters/bulk', { headers: { cookie, ...headers }, body: { action: 'discard', reason: 'x', confirm: 1 } });
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(reason);
    }
    expect(await query(services.databaseUrl, 'SELECT count(*) AS n FROM audit_log')).toEqual(before);
  });

  it('refuses a sign-in and a sign-out from another origin', async () => {
    expect((await login(OPERATOR, freshAddress(), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await call('POST', '/api/logout', { headers: { cookie, origin: 'https://evil.example' } })).status).toBe(403);
    expect((await call('GET', '/api/me', { headers: { cookie } })).status).toBe(200);
  });

  it('lets the same origin through, and a bearer-token call without a cookie from anywhere', async () => {
    const same = await call('POST', '/api/dead-letters/bulk/preview', { headers: { cookie, origin: base, 'sec-fetch-site': 'same-origin' }, body: { filter: {} } });
    expect(same.status).toBe(201);
    const token = await signIn(OPERATOR);
    const bearer = await call('POST', '/api/dead-letters/bulk/preview', { token, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: { filter: {} } });
    expect(bearer.status).toBe(201);
  });
});

describe('security headers', () => {
  // Every documented route but ingress (whose edges are its own), sign-out last: it ends the session the other calls use.
  const routes = async () =>
    (await documentedOperations(base))
      .filter((op) => !op.path.startsWith('/ingress/'))
      .map((op) => ({ method: op.method, path: op.path.replace(/\{\w+\}/g, '1') }))
      .sort((a, b) => Number(a.path === '/api/logout') - Number(b.path === '/api/logout'));

  function expectHeaders(res: Call, what: string): void {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect({ what, csp }).toEqual({ what, csp: expect.stringContaining("default-src 'none'") });
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect({ what, nosniff: res.headers.get('x-content-type-options') }).toEqual({ what, nosniff: 'nosniff' });
    expect({ what, frame: res.headers.get('x-frame-options') }).toEqual({ what, frame: 'DENY' });
    expect({ what, referrer: res.headers.get('referrer-policy') }).toEqual({ what, referrer: 'no-referrer' });
  }

  it('sets them on every API route, signed in or not, with no-store', async () => {
    const ROUTES = await routes();
    expect(ROUTES.length).toBeGreaterThan(19);
    const token = await signIn(OPERATOR);
    for (const route of ROUTES) {
      for (const auth of [undefined, token]) {
        const res = await call(route.method, route.path, { ...(auth === undefined ? {} : { token: auth }), ...(route.method === 'POST' ? { body: {} } : {}) });
        expectHeaders(res, `${route.method} ${route.path} ${res.status}`);
        if (route.path.startsWith('/api/')) expect({ route: route.path, cache: res.headers.get('cache-control') }).toEqual({ route: route.path, cache: 'no-store' });
      }
    }
  }, 60_000);

  it.each(['/', '/index.html', '/app.js', '/style.css', '/api/docs', '/api/docs/openapi.json', '/no-such-page', '/api/no-such-route', '/health/live', '/metrics'])('sets them on %s', async (path) => {
    const res = await call('GET', path);
    expectHeaders(res, path);
    if (path.startsWith('/api/')) expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('sets them on a refused JSON body', async () => {
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('makes the cookie Secure when the request came over TLS (as the trusted proxy says), HttpOnly and SameSite=Strict always', async () => {
    const plain = (await login(VIEWER)).headers.get('set-cookie')!;
    expect(plain).toMatch(/HttpOnly/i);
    expect(plain).toMatch(/SameSite=Strict/i);
    expect(plain).not.toMatch(/Secure/i);
    const tls = (await login(VIEWER, freshAddress(), { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')!;
    expect(tls).toMatch(/;\s*Secure/i);
  });
});

describe('what a viewer sees', () => {
  const pnrId = (suffix: string) => `ID-194107086995-${suffix}`;
  let deadLetterIds: string[];
  let plainMessageId: string;
  let identityMessageId: string;
  let documentId: string;
  let bulkJobId: string;
  let month: string;

  beforeAll(async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 400 });
    const stamp = Date.now().toString(36);
    // Ids a sender built from the patient's identity number, in every place an id can stand.
    const invalid = exampleFor('admission', [units[0]!], { messageId: pnrId(`inv-${stamp}`), episodeId: `EP-19410708-6995-${stamp}` });
    const broken = bytesOf(invalid, 'lifecare').toString('utf8').replace('SOMATIK', 'KIRURGI');
    expect((await postIngress(base, 'lifecare', Buffer.from(broken))).status).toBe(400);
    const undeliverable = exampleFor('message', [units[0]!], { messageId: pnrId(`und-${stamp}`), episodeId: `EP-194107086995-${stamp}` });
    expect((await postIngress(base, 'canonical', bytesOf(undeliverable, 'canonical'))).status).toBe(202);
    const admission = onTimeAdmission([units[1]!], { messageId: pnrId(`adm-${stamp}`), episodeId: `EP-4107086995-${stamp}` });
    expect((await postIngress(base, 'canonical', bytesOf(admission, 'canonical'))).status).toBe(202);
    month = admission.sentAt.slice(0, 7);
    identityMessageId = admission.messageId;
    // A message whose ids hold no identity number: one a viewer may look up by its id.
    const plain = exampleFor('message', [units[1]!]);
    expect((await postIngress(base, 'canonical', bytesOf(plain, 'canonical'))).status).toBe(202);
    plainMessageId = plain.messageId;
    await eventually(async () => {
      const rows = await query(services.databaseUrl, "SELECT 1 FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [undeliverable.messageId]);
      return rows.length > 0 ? true : undefined;
    }, 20_000, 'the undeliverable copy to be dead-lettered');
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'manual'", [admission.messageId])).length > 0 ? true : undefined));
    await app.get(DeadlineService).tick();
    deadLetterIds = (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM dead_letters WHERE message_id = ANY($1) ORDER BY id', [[invalid.messageId, undeliverable.messageId]])).map((r) => r.id);
    documentId = (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM fallback_documents WHERE message_id = $1', [admission.messageId]))[0]!.id;
    const operator = await signIn(OPERATOR);
    // The operator looks at the details (audited with the message ids), discards the undeliverable
    // one with a reason naming the patient, and the invalid one in bulk with one holding her number.
    for (const id of deadLetterIds) expect((await call('GET', `/api/dead-letters/${id}`, { token: operator })).status).toBe(200);
    const undeliverableId = (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM dead_letters WHERE message_id = $1', [undeliverable.messageId]))[0]!.id;
    expect((await call('POST', `/api/dead-letters/${undeliverableId}/discard`, { token: operator, body: { reason: 'Karin Öberg har ringt, 19410708-6995' } })).status).toBe(201);
    const filter = { q: invalid.episodeId };
    const preview = await call('POST', '/api/dead-letters/bulk/preview', { token: operator, body: { filter } });
    expect(preview.body.count).toBe(1);
    const bulk = await call('POST', '/api/dead-letters/bulk', { token: operator, body: { filter, action: 'discard', reason: 'testdata 194107086995', confirm: 1 } });
    bulkJobId = bulk.body.id;
    await eventually(async () => ((await call('GET', `/api/bulk-jobs/${bulkJobId}`, { token: operator })).body.status === 'done' ? true : undefined));
    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  }, 60_000);

  /** Every GET route of the API with real ids and query values filled in. */
  async function viewerRoutes(): Promise<string[]> {
    const fill: Record<string, string[]> = {
      '/api/dead-letters/{id}': deadLetterIds.map((id) => `/api/dead-letters/${id}`),
      '/api/bulk-jobs/{id}': [`/api/bulk-jobs/${bulkJobId}`],
      '/api/manual-dispatch': ['/api/manual-dispatch?status=all'],
      '/api/dead-letters': ['/api/dead-letters?status=all&limit=500'],
      '/api/reports/monthly': [`/api/reports/monthly?month=${month}`, `/api/reports/monthly?month=${month}&format=csv`],
      '/api/reports/series': [`/api/reports/series?municipality=1480&month=${month}&months=2`],
      '/api/reports/episodes': [`/api/reports/episodes?month=${month}`],
      '/api/recipients/{hsaId}': units.map((u) => `/api/recipients/${u.hsaId}`),
      '/api/messages': [`/api/messages?q=${plainMessageId}`, `/api/messages?q=${month}`],
      '/api/messages/{messageId}': [`/api/messages/${plainMessageId}`],
    };
    return (await documentedOperations(base))
      .filter((op) => op.method === 'GET' && op.path !== '/api/manual-dispatch/{id}/pdf')
      .flatMap((op) => fill[op.path] ?? [op.path]);
  }

  it('cannot fetch a fallback document, which an operator can', async () => {
    const viewer = await signIn(VIEWER);
    const refused = await call('GET', `/api/manual-dispatch/${documentId}/pdf`, { token: viewer });
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('%PDF');
    const operator = await call('GET', `/api/manual-dispatch/${documentId}/pdf`, { token: await signIn(OPERATOR) });
    expect(operator.status).toBe(200);
    expect(operator.headers.get('cache-control')).toBe('no-store');
  });

  it('sees no identity number and no patient name in the answer of any route', async () => {
    const viewer = await signIn(VIEWER);
    const routes = await viewerRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(14);
    for (const route of routes) {
      const res = await call('GET', route, { token: viewer });
      expect({ route, status: res.status }).toEqual({ route, status: 200 });
      // A metric's sample value is a measurement (bytes of heap can look like a number of ten digits);
      // names and labels are what could carry a patient's data.
      const text = route === '/metrics' ? res.text.replace(/ [-+0-9.eE]+(?: \d+)?$/gm, '') : res.text;
      expect({ route, identity: text.match(IDENTITY)?.[0] }).toEqual({ route, identity: undefined });
      expect({ route, name: text.match(NAMES)?.[0] }).toEqual({ route, name: undefined });
    }
  }, 60_000);

  it('is shown masked what an operator sees in full (the scan above can fail)', async () => {
    const operator = await signIn(OPERATOR);
    const full = await Promise.all((await viewerRoutes()).map((route) => call('GET', route, { token: operator }).then((r) => r.text)));
    const joined = full.join('\n');
    expect(joined).toMatch(IDENTITY);
    expect(joined).toMatch(NAMES);
    const viewer = await signIn(VIEWER);
    const list = await call('GET', '/api/dead-letters?status=all&limit=500', { token: viewer });
    expect(list.body.items.some((d: { messageId: string | null }) => d.messageId?.startsWith('ID-************-'))).toBe(true);
    const detail = await call('GET', `/api/dead-letters/${deadLetterIds[0]}`, { token: viewer });
    expect(detail.body.payload).toBeNull();
  });

  it('gets every answer in the shape the generated document gives it (viewer and operator)', async () => {
    const check = await answerChecker(base);
    const wrong: string[] = [];
    for (const token of [await signIn(VIEWER), await signIn(OPERATOR)]) {
      for (const route of await viewerRoutes()) {
        const res = await call('GET', route, { token });
        if ((res.headers.get('content-type') ?? '').includes('json')) wrong.push(...check('GET', route, res.status, res.body));
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('may not search by an identity number (a hit would confirm a guessed number), which an operator may', async () => {
    const viewer = await signIn(VIEWER);
    const refused = await call('GET', '/api/dead-letters?status=all&q=ID-194107086995', { token: viewer });
    expect([refused.status, refused.body.message]).toEqual([403, 'q: viewers may not search by an identity number']);
    expect((await call('GET', '/api/dead-letters?status=all&q=ID-', { token: viewer })).status).toBe(200);
    const operatorToken = await signIn(OPERATOR);
    const messageId = (await call('GET', `/api/dead-letters/${deadLetterIds[0]}`, { token: operatorToken })).body.messageId as string;
    expect(messageId).toMatch(/^ID-194107086995-/);
    const operator = await call('GET', `/api/dead-letters?status=all&q=${encodeURIComponent(messageId)}`, { token: operatorToken });
    expect(operator.status).toBe(200);
    expect(operator.body.items.length).toBeGreaterThan(0);
    expect((await call('GET', `/api/dead-letters?status=all&q=${encodeURIComponent(messageId)}`, { token: viewer })).status).toBe(403);
    // Nor look up a message's timeline by an id holding one: a 200 or 404 would answer the guess.
    const timeline = await call('GET', `/api/messages/${encodeURIComponent(identityMessageId)}`, { token: viewer });
    expect([timeline.status, timeline.body.message]).toEqual([403, 'messageId: viewers may not look up a message by an id holding an identity number']);
    expect((await call('GET', `/api/messages/${encodeURIComponent('ID-194107086995-no-such')}`, { token: viewer })).status).toBe(403);
    expect((await call('GET', `/api/messages/${encodeURIComponent(identityMessageId)}`, { token: operatorToken })).status).toBe(200);
  });

  it('sees an operator’s discard reason hidden whole (it may name the patient of an invalid message)', async () => {
    const operator = await signIn(OPERATOR);
    const invalid = exampleFor('admission', [units[0]!], { messageId: `GB-${Date.now().toString(36)}` });
    const refused = await postIngress(base, 'lifecare', Buffer.from(bytesOf(invalid, 'lifecare').toString('utf8').replace('SOMATIK', 'KIRURGI')));
    expect(refused.status).toBe(400);
    const deadLetterId = ((await refused.json()) as { deadLetterId: string }).deadLetterId;
    expect((await call('POST', `/api/dead-letters/${deadLetterId}/discard`, { token: operator, body: { reason: 'Greta Garboson ringde: skickat per telefon' } })).status).toBeLessThan(300);
    const viewer = await signIn(VIEWER);
    const detail = await call('GET', `/api/dead-letters/${deadLetterId}`, { token: viewer });
    expect(JSON.stringify(detail.body)).not.toContain('Garboson');
    const audit = await call('GET', '/api/audit', { token: viewer });
    expect(JSON.stringify(audit.body)).not.toContain('Garboson');
    expect(JSON.stringify((await call('GET', '/api/audit', { token: operator })).body)).toContain('Garboson');
  });
});
