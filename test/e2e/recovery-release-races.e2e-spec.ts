import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * Release on settle (issue 16), the two races that stranded a held-back copy until the sweeper came
 * (SVU_STALE_AFTER, 10 minutes here, so a lost release shows as a copy never delivered), each forced
 * with a row lock held from outside the gateway:
 *  - the next copy is routed, and its claim refused, while the statement recording the earlier copy
 *    runs (that statement sees the store as it was when it began);
 *  - the release's claim finds the next copy's row held for a moment (another process marking it as
 *    looked at) and skips it.
 */

let services: TestServices;
let simulator: RecipientSimulator;
let unit: DirectoryUnit;
let app: INestApplication;
let base: string;
let outside: Client;

beforeAll(async () => {
  services = await createTestServices('release_races');
  const port = await freePort();
  unit = { hsaId: 'SE2120000016-RACE', name: 'Kapplöpning', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/race`, allowInsecureHttp: true } };
  simulator = new RecipientSimulator({ units: [unit] });
  await simulator.start();
  ({ app, url: base } = await startInProcess(gatewayEnv(services, writeDirectory([unit]), { SVU_STALE_AFTER: 'PT10M', SVU_SWEEP_EVERY: 'PT1S', SVU_DELIVERY_TIMEOUT: 'PT10S' })));
  outside = new Client({ connectionString: services.databaseUrl });
  await outside.connect();
}, 60_000);

afterAll(async () => {
  await outside?.end();
  await app?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(episodeId: string, messageId: string): Promise<void> {
  const res = await postIngress(base, 'samsa', bytesOf(exampleFor('message', [unit], { episodeId, messageId }), 'samsa'));
  expect(res.status).toBe(202);
}

async function copy(messageId: string): Promise<{ id: string; state: string } | undefined> {
  return (await query<{ id: string; state: string }>(services.databaseUrl, 'SELECT id::text, state FROM copies WHERE message_id = $1', [messageId]))[0];
}

const inState = (messageId: string, state: string) => async () => ((await copy(messageId))?.state === state ? (await copy(messageId))!.id : undefined);
const arrived = (messageId: string) => () => (simulator.receivedBy(unit.hsaId).some((r) => r.messageId === messageId) ? true : undefined);

it('releases a copy routed while the earlier one was being recorded', async () => {
  simulator.behave(unit.hsaId, { mode: 'accept', delayMs: 1_000 });
  await send('RACE-EP-1', 'RACE-1A');
  const a = await eventually(inState('RACE-1A', 'sending'), 20_000, 'A on its way');
  // A's row is held: the statement recording A's delivery begins (and takes its view of the store), then waits.
  await outside.query('BEGIN');
  await outside.query('SELECT id FROM copies WHERE id = $1 FOR UPDATE', [a]);
  await eventually(arrived('RACE-1A'), 20_000, 'A at the recipient');
  await eventually(async () => {
    const rows = await query<{ n: string }>(services.databaseUrl, "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%delivered_at IS NULL%'");
    return Number(rows[0]!.n) > 0 ? true : undefined;
  }, 20_000, "A's record waiting for the row");
  simulator.behave(unit.hsaId, { mode: 'accept' });
  // B comes, is routed, and its claim is refused: A is still open.
  await send('RACE-EP-1', 'RACE-1B');
  await eventually(inState('RACE-1B', 'routed'), 20_000, 'B routed');
  await sleep(1_500);
  expect((await copy('RACE-1B'))!.state).toBe('routed');
  await outside.query('COMMIT');
  await eventually(inState('RACE-1A', 'delivered'), 20_000, 'A recorded');
  // Released at once, not after SVU_STALE_AFTER.
  await eventually(arrived('RACE-1B'), 15_000, 'B released when A settled');
}, 120_000);

it('releases a copy whose row another process held at the moment of the release', async () => {
  simulator.behave(unit.hsaId, { mode: 'accept', delayMs: 1_500 });
  await send('RACE-EP-2', 'RACE-2A');
  await eventually(inState('RACE-2A', 'sending'), 20_000, 'A on its way');
  await send('RACE-EP-2', 'RACE-2B');
  const b = await eventually(inState('RACE-2B', 'routed'), 20_000, 'B routed and held back');
  await sleep(300);
  // Held as another process holds it while marking it looked at; A settles meanwhile.
  await outside.query('BEGIN');
  await outside.query('SELECT id FROM copies WHERE id = $1 FOR UPDATE', [b]);
  simulator.behave(unit.hsaId, { mode: 'accept' });
  await eventually(arrived('RACE-2A'), 20_000, 'A at the recipient');
  await eventually(inState('RACE-2A', 'delivered'), 20_000, 'A recorded');
  await sleep(1_000);
  await outside.query('COMMIT');
  await eventually(arrived('RACE-2B'), 15_000, 'B released when A settled');
}, 120_000);
