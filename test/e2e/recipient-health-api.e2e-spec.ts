import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR, signIn, VIEWER, writeUsers } from '../support/console-users';
import { gatewayEnv, query, startInProcess, TEST_LOG_DIR, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/** The Recipients API, its audit, metrics and alert lines (issue 16): a failing recipient waits for its probe, operators act. */

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let unit: DirectoryUnit;
let viewer: string;
let operator: string;

type Call = { status: number; body: any };
async function call(method: string, path: string, token: string, body?: unknown): Promise<Call> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : await res.text() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  services = await createTestServices('recipients');
  const port = await freePort();
  unit = { hsaId: 'SE2120000016-OPS', name: 'Hemtjänst Test', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/ops`, allowInsecureHttp: true } };
  simulator = new RecipientSimulator({ units: [unit] });
  await simulator.start();
  // Probes an hour apart: what goes to the failing recipient here goes because an operator said so.
  const env = gatewayEnv(services, writeDirectory([unit]), { SVU_USERS: writeUsers(), SVU_PROBE_BASE: 'PT1H', SVU_PROBE_MAX: 'PT1H', SVU_RETRY_BUDGET: 'PT1H', SVU_DEADLINE_EVERY: 'PT1H', SVU_STORE_METRICS_EVERY: 'PT0.2S' });
  ({ app, url: base } = await startInProcess(env));
  viewer = await signIn(base, VIEWER);
  operator = await signIn(base, OPERATOR);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

async function send(episodeId: string): Promise<string> {
  const message = exampleFor('message', [unit], { episodeId });
  const res = await postIngress(base, 'samsa', bytesOf(message, 'samsa'));
  expect(res.status).toBe(202);
  return message.messageId;
}

const received = () => simulator.receivedBy(unit.hsaId).map((r) => r.messageId!);
const recipient = async (token = viewer) => ((await call('GET', '/api/recipients', token)).body as any[]).find((r) => r.hsaId === unit.hsaId);
const audit = async () => ((await call('GET', '/api/audit', operator)).body.items as any[]).map((a) => `${a.action} ${a.target} ${a.username}`);

it('an ordinary delivery sets the last success (no probe needed): at most a second old after each delivery', async () => {
  expect((await recipient()).lastSuccessAt).toBeNull();
  const first = await send('OPS-EP-0');
  await eventually(() => (received().includes(first) ? true : undefined), 20_000, 'first copy delivered');
  const afterFirst = await eventually(async () => (await recipient()).lastSuccessAt ?? undefined, 10_000, 'last success set by a delivery');
  expect((await recipient()).state).toBe('healthy');
  // What is not an HSA id is not echoed back.
  const long = await call('POST', `/api/recipients/${'A'.repeat(5_000)}/pause`, operator, { reason: 'x' });
  expect(long.status).toBe(404);
  expect(JSON.stringify(long.body).length).toBeLessThan(500);
  // Written at most once a second per recipient; the next delivery a while later moves it on.
  await sleep(1_500);
  const sentAt = Date.now();
  const second = await send('OPS-EP-0');
  await eventually(() => (received().includes(second) ? true : undefined), 20_000, 'second copy delivered');
  const afterSecond = await eventually(async () => {
    const at = (await recipient()).lastSuccessAt as string | null;
    return at !== null && at !== afterFirst ? at : undefined;
  }, 10_000, 'last success moved on by the next delivery');
  expect(Date.parse(afterSecond)).toBeGreaterThanOrEqual(sentAt - 1_000);
}, 60_000);

it('a failing recipient waits for its probe; retry now probes at once and its backlog follows in order; all visible to viewers, in metrics and in alert lines', async () => {
  const earlier = received();
  const fresh = () => received().filter((id) => !earlier.includes(id));
  simulator.behave(unit.hsaId, { mode: 'fail', status: 503 });
  const ids = [await send('OPS-EP-1'), await send('OPS-EP-1'), await send('OPS-EP-1'), await send('OPS-EP-2')];
  const failing = await eventually(async () => {
    const r = await recipient();
    return r?.state === 'failing' && r.backlog === 4 ? r : undefined;
  }, 20_000, 'recipient failing with its backlog counted');
  expect(failing).toMatchObject({ name: 'Hemtjänst Test', transport: 'http', lastError: 'HTTP 503', backlog: 4 });
  expect(failing.oldestWaitingSeconds).toBeGreaterThanOrEqual(0);
  expect(new Date(failing.nextProbeAt).getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);

  // The store-derived gauges are counted on a timer (SVU_STORE_METRICS_EVERY), not at scrape time.
  const metrics = await eventually(async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text.includes(`svu_recipient_backlog{recipient="${unit.hsaId}"} 4`) ? text : undefined;
  }, 10_000, 'recipient metrics counted');
  expect(metrics).toContain(`svu_recipient_state{recipient="${unit.hsaId}",state="failing"} 1`);
  expect(metrics).toContain(`svu_recipient_state{recipient="${unit.hsaId}",state="healthy"} 0`);
  expect(metrics).toContain(`svu_recipient_backlog{recipient="${unit.hsaId}"} 4`);
  expect(metrics).toMatch(new RegExp(`svu_recipient_oldest_waiting_seconds\\{recipient="${unit.hsaId}"\\} \\d`));

  // Back up, but nothing is tried one by one while it counts as failing: only its probe would go.
  simulator.behave(unit.hsaId, { mode: 'accept' });
  const triedWhileFailing = fresh().length;
  await sleep(1_500);
  expect(fresh().length).toBe(triedWhileFailing);
  expect(triedWhileFailing).toBe(0);

  expect((await call('POST', `/api/recipients/${unit.hsaId}/retry`, viewer)).status).toBe(403);
  expect((await call('POST', '/api/recipients/SE2120000016-NOSUCH/retry', operator)).status).toBe(404);
  const retried = await call('POST', `/api/recipients/${unit.hsaId}/retry`, operator);
  expect(retried.status).toBe(200);
  await eventually(() => (fresh().length >= 4 ? true : undefined), 20_000, 'backlog delivered after retry now');
  const accepted = (await query<{ message_id: string }>(services.databaseUrl, "SELECT message_id FROM messages WHERE episode_id = 'OPS-EP-1' ORDER BY id")).map((r) => r.message_id);
  expect(received().filter((id) => accepted.includes(id))).toEqual(accepted);
  expect(new Set(fresh())).toEqual(new Set(ids));
  const healthy = await eventually(async () => {
    const r = await recipient();
    return r?.state === 'healthy' && r.backlog === 0 ? r : undefined;
  }, 20_000, 'recipient healthy, nothing waiting');
  expect(healthy.lastSuccessAt).not.toBeNull();
  expect(healthy.failingSince).toBeNull();
  expect(await audit()).toContain(`recipient-retry-now recipient:${unit.hsaId} ${OPERATOR.username}`);

  // Alert lines: a stable event field at warn level, naming the recipient and no message content.
  const log = join(TEST_LOG_DIR, `${services.name}.log`);
  const events = await eventually(() => {
    if (!existsSync(log)) return undefined;
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"event":"recipient-'));
    return lines.length >= 2 ? lines.map((l) => JSON.parse(l) as { level: number; event: string; recipient: string }) : undefined;
  }, 10_000, 'alert lines');
  expect(events.map((e) => [e.event, e.recipient, e.level])).toEqual([
    ['recipient-failing', unit.hsaId, 40],
    ['recipient-recovered', unit.hsaId, 40],
  ]);
}, 90_000);

it('pause holds copies back (retry now is refused and audited); resume sends them at once', async () => {
  expect((await call('POST', `/api/recipients/${unit.hsaId}/pause`, viewer, { reason: 'x' })).status).toBe(403);
  // A pause needs its reason: refused with 400 naming the field, and audited.
  // A NUL character (which PostgreSQL cannot store) is refused before anything is written.
  for (const body of [{}, { reason: '  ' }, { reason: 7 }, { reason: 'a\u0000b' }]) {
    const noReason = await call('POST', `/api/recipients/${unit.hsaId}/pause`, operator, body);
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ field: 'reason' });
    expect(noReason.body.message).toMatch(/^reason /);
  }
  expect((await recipient()).state).toBe('healthy');
  const paused = await call('POST', `/api/recipients/${unit.hsaId}/pause`, operator, { reason: 'announced maintenance' });
  expect(paused.status).toBe(200);
  expect(paused.body).toMatchObject({ state: 'paused', pausedBy: OPERATOR.username, pauseReason: 'announced maintenance' });
  // Paused again: 409 with the reason; the first pause stands.
  const again = await call('POST', `/api/recipients/${unit.hsaId}/pause`, operator, { reason: 'again' });
  expect(again.status).toBe(409);
  expect(again.body.reason).toMatch(/already paused/);
  expect((await recipient()).pausedAt).toBe(paused.body.pausedAt);
  expect((await recipient()).pauseReason).toBe('announced maintenance');
  const before = received().length;
  const id = await send('OPS-EP-3');
  await sleep(1_500);
  expect(received().length).toBe(before);
  const refused = await call('POST', `/api/recipients/${unit.hsaId}/retry`, operator);
  expect(refused.status).toBe(409);
  expect(JSON.stringify(refused.body)).toMatch(/paused/);
  expect((await recipient()).state).toBe('paused');

  const resumed = await call('POST', `/api/recipients/${unit.hsaId}/resume`, operator);
  expect(resumed.status).toBe(200);
  expect(resumed.body).toMatchObject({ state: 'healthy', pausedBy: null, pauseReason: null });
  await eventually(() => (received().includes(id) ? true : undefined), 20_000, 'the paused copy delivered after resume');
  const notPaused = await call('POST', `/api/recipients/${unit.hsaId}/resume`, operator);
  expect(notPaused.status).toBe(409);
  expect(notPaused.body.reason).toMatch(/not paused/);
  const entries = await audit();
  expect(entries.filter((e) => e === `recipient-pause-refused recipient:${unit.hsaId} ${OPERATOR.username}`)).toHaveLength(5);
  for (const action of ['recipient-pause', 'recipient-pause-refused', 'recipient-retry-now-refused', 'recipient-resume', 'recipient-resume-refused']) {
    expect(entries).toContain(`${action} recipient:${unit.hsaId} ${OPERATOR.username}`);
  }
}, 60_000);
