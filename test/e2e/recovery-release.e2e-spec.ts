import type { ChildProcess } from 'node:child_process';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, IngressPublisher, query, spawnGateway, waitForTopology, writeDirectory } from '../support/gateway-harness';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * Release on settle (issue 16) with many chains at once and two gateway processes (two routers, two
 * egress processes): when a copy settles, the next copy of its episode to the same recipient goes at
 * once, even when that copy was routed, and its own claim refused, while the earlier one was being
 * recorded, or when the other process was looking at it at that moment. The sweeper, which would
 * otherwise send a stranded copy on, waits SVU_STALE_AFTER = 10 minutes here: a release that is lost
 * shows as a chain that stops.
 */

let services: TestServices;
let simulator: RecipientSimulator;
let units: DirectoryUnit[];
let publisher: IngressPublisher;
const children: ChildProcess[] = [];

const EPISODES = 60;
const PER_EPISODE = 8;

beforeAll(async () => {
  services = await createTestServices('release');
  const port = await freePort();
  units = [1, 2].map((n) => ({
    hsaId: `SE2120000016-REL${n}`,
    name: `Kedja ${n}`,
    role: 'municipal-health-care',
    dialect: 'samsa',
    transport: { kind: 'http', url: `http://127.0.0.1:${port}/rel${n}`, allowInsecureHttp: true },
  }));
  simulator = new RecipientSimulator({ units });
  // Answers within a few milliseconds: later copies of an episode are routed while earlier ones are on their way.
  for (const unit of units) simulator.behave(unit.hsaId, { mode: 'accept', jitterMs: 15 });
  await simulator.start();
  const env = gatewayEnv(services, writeDirectory(units), { SVU_STALE_AFTER: 'PT10M', SVU_SWEEP_EVERY: 'PT1S', SVU_DELIVERY_TIMEOUT: 'PT10S' });
  children.push(spawnGateway(env), spawnGateway(env));
  await waitForTopology(services.amqpUrl);
  publisher = new IngressPublisher(services.amqpUrl);
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await publisher?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

it(`releases the next copy of each of ${EPISODES} chains the moment the one before settles, with two processes; no chain waits for the sweeper`, async () => {
  const ids: string[] = [];
  // Every episode gets its messages in rounds, all published at once: chains of 8 to two recipients.
  await Promise.all(
    Array.from({ length: PER_EPISODE }, (_, round) => round).flatMap((round) =>
      Array.from({ length: EPISODES }, async (_, e) => {
        const message = exampleFor('message', units, { episodeId: `REL-EP-${e}`, messageId: `REL-${e}-${round}` });
        ids.push(message.messageId);
        await publisher.publish('samsa', bytesOf(message, 'samsa'));
      }),
    ),
  );
  const total = ids.length * units.length;
  const open = async () => {
    const rows = await query<{ open: string; all: string }>(
      services.databaseUrl,
      "SELECT count(*) FILTER (WHERE state NOT IN ('delivered', 'acknowledged')) AS open, count(*) AS all FROM copies WHERE message_id LIKE 'REL-%'",
    );
    return Number(rows[0]!.all) === total ? Number(rows[0]!.open) : undefined;
  };
  // Far below SVU_STALE_AFTER: a chain whose release was lost would still be waiting.
  await eventually(async () => ((await open()) === 0 ? true : undefined), 120_000, 'every copy of every chain delivered').catch(async (error: Error) => {
    const stuck = await query<{ message_id: string; recipient_hsa: string; state: string }>(
      services.databaseUrl,
      "SELECT message_id, recipient_hsa, state FROM copies WHERE message_id LIKE 'REL-%' AND state NOT IN ('delivered', 'acknowledged') ORDER BY id LIMIT 10",
    );
    throw new Error(`${error.message}; still open: ${JSON.stringify(stuck)}`);
  });
  // Each later copy was claimed soon after the one before it was delivered (the release), never a
  // sweep after SVU_STALE_AFTER.
  const gaps = await query<{ worst: number; p99: number }>(
    services.databaseUrl,
    `WITH d AS (
       SELECT c.id, c.episode_id, c.recipient_hsa,
              (SELECT min(at) FROM copy_events e WHERE e.copy_id = c.id AND e.state = 'delivered') AS delivered,
              (SELECT max(at) FROM copy_events e WHERE e.copy_id = c.id AND e.state = 'sending') AS claimed
       FROM copies c WHERE c.message_id LIKE 'REL-%'),
     pairs AS (
       SELECT extract(epoch FROM (n.claimed - p.delivered)) AS gap
       FROM d p JOIN LATERAL (SELECT * FROM d n WHERE n.episode_id = p.episode_id AND n.recipient_hsa = p.recipient_hsa AND n.id > p.id ORDER BY n.id LIMIT 1) n ON true)
     SELECT max(gap)::float AS worst, percentile_cont(0.99) WITHIN GROUP (ORDER BY gap)::float AS p99 FROM pairs`,
  );
  console.log(`release on settle: ${EPISODES} chains × ${PER_EPISODE} to ${units.length} recipients, two processes: from a copy delivered to the next one claimed p99 ${gaps[0]!.p99.toFixed(2)} s, worst ${gaps[0]!.worst.toFixed(2)} s`);
  for (const unit of units) {
    const got = simulator.receivedBy(unit.hsaId).map((r) => r.messageId!);
    expect(got).toHaveLength(ids.length);
    for (let e = 0; e < EPISODES; e++) {
      const accepted = (await query<{ message_id: string }>(services.databaseUrl, 'SELECT message_id FROM messages WHERE episode_id = $1 ORDER BY id', [`REL-EP-${e}`])).map((r) => r.message_id);
      expect(got.filter((id) => accepted.includes(id))).toEqual(accepted);
    }
  }
  expect(gaps[0]!.worst).toBeLessThan(60);
}, 240_000);
