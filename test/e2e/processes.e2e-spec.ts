import type { ChildProcess } from 'node:child_process';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, IngressPublisher, query, spawnGateway, waitForTopology, writeDirectory } from '../support/gateway-harness';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/** Several gateway processes (the built ones), as in production: order, and crashes. */

let services: TestServices;
let simulator: RecipientSimulator;
let units: DirectoryUnit[];
let directoryPath: string;
let publisher: IngressPublisher;
const children: ChildProcess[] = [];

function start(extra: Record<string, string> = {}): ChildProcess {
  const child = spawnGateway(gatewayEnv(services, directoryPath, { SVU_STALE_AFTER: 'PT1S', SVU_DELIVERY_TIMEOUT: 'PT2S', ...extra }));
  children.push(child);
  return child;
}

async function waitReady(): Promise<void> {
  await waitForTopology(services.amqpUrl);
}

beforeAll(async () => {
  services = await createTestServices('processes');
  const port = await freePort();
  units = [
    { hsaId: 'SE2120000002-HTTP', name: 'HTTP-mottagare', role: 'municipal-health-care', dialect: 'webcare', transport: { kind: 'http', url: `http://127.0.0.1:${port}/u`, allowInsecureHttp: true } },
    { hsaId: 'SE2120000002-AMQP', name: 'AMQP-mottagare', role: 'primary-care', dialect: 'lifecare', transport: { kind: 'amqp', routingKey: 'proc-amqp' } },
  ];
  directoryPath = writeDirectory(units);
  simulator = new RecipientSimulator({ units, amqpUrl: services.amqpUrl });
  await simulator.start();
  publisher = new IngressPublisher(services.amqpUrl);
}, 60_000);

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

afterAll(async () => {
  await publisher?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

/** Every copy settled as delivered. */
async function allDelivered(messageIds: readonly string[], timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const rows = await query<{ open: string }>(
        services.databaseUrl,
        "SELECT count(*) AS open FROM copies WHERE message_id = ANY($1) AND state NOT IN ('delivered', 'acknowledged')",
        [messageIds],
      );
      const stored = await query<{ n: string }>(services.databaseUrl, 'SELECT count(*) AS n FROM messages WHERE message_id = ANY($1)', [messageIds]);
      return Number(rows[0]!.open) === 0 && Number(stored[0]!.n) === messageIds.length ? true : undefined;
    },
    timeoutMs,
    'every copy delivered',
  );
}

it('delivers the messages of each episode in acceptance order with two gateway processes', async () => {
  start();
  start();
  await waitReady();
  simulator.behave(units[0]!.hsaId, { mode: 'accept', jitterMs: 15 });
  const episodes = Array.from({ length: 6 }, (_, i) => `ORDER-EP-${i}`);
  const sent: string[] = [];
  const formats: Format[] = ['lifecare', 'webcare', 'samsa', 'canonical'];
  for (let round = 0; round < 15; round++) {
    for (const episodeId of episodes) {
      const message = exampleFor('message', units, { episodeId });
      sent.push(message.messageId);
      await publisher.publish(formats[round % formats.length]!, bytesOf(message, formats[round % formats.length]!));
    }
  }
  await allDelivered(sent, 60_000);
  for (const episodeId of episodes) {
    const accepted = (await query<{ message_id: string }>(services.databaseUrl, 'SELECT message_id FROM messages WHERE episode_id = $1 ORDER BY id', [episodeId])).map((r) => r.message_id);
    expect(accepted).toHaveLength(15);
    for (const unit of units) {
      const received = simulator.receivedBy(unit.hsaId).map((r) => r.messageId).filter((id) => accepted.includes(id!));
      expect(received).toEqual(accepted);
    }
  }
}, 90_000);

it('loses nothing when a gateway process is killed with SIGKILL mid-stream and restarted', async () => {
  simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  let gateway = start();
  await waitReady();
  const total = 400;
  const sent: string[] = [];
  const publishing = (async () => {
    for (let i = 0; i < total; i++) {
      const message = exampleFor('message', units, { episodeId: `KILL-EP-${i % 20}` });
      sent.push(message.messageId);
      await publisher.publish('samsa', bytesOf(message, 'samsa'));
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();
  let kills = 0;
  for (const pause of [400, 700, 500]) {
    await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * 300));
    gateway.kill('SIGKILL');
    kills += 1;
    await new Promise((resolve) => setTimeout(resolve, 200));
    gateway = start();
  }
  await publishing;
  await allDelivered(sent, 90_000);

  for (const unit of units) {
    const got = simulator.receivedBy(unit.hsaId).filter((r) => sent.includes(r.messageId!));
    const distinct = new Set(got.map((r) => r.messageId));
    // Nothing lost: every message reached every recipient.
    expect(distinct.size).toBe(total);
    // A repeat can only come from a process killed between a recipient's answer and the commit; it
    // carries the same idempotency key, so a recipient that honours the key sees each message once.
    const keys = new Map<string, Set<string | undefined>>();
    for (const r of got) keys.set(r.messageId!, (keys.get(r.messageId!) ?? new Set()).add(r.idempotencyKey));
    expect([...keys.values()].every((k) => k.size === 1)).toBe(true);
    const repeats = got.length - distinct.size;
    console.log(`${unit.name}: ${total} messages, ${kills} kills, ${repeats} repeated deliveries (same idempotency key)`);
    expect(repeats).toBeLessThanOrEqual(kills * 100);
  }
  const dead = await query(services.databaseUrl, 'SELECT 1 FROM dead_letters');
  expect(dead).toHaveLength(0);
}, 150_000);
