import type { ChildProcess } from 'node:child_process';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, IngressPublisher, query, spawnGateway, waitForTopology, writeDirectory } from '../support/gateway-harness';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * Recovery after faults (issue 16), with two gateway processes, each running every service (so two
 * egress processes): a recipient that was down gets its backlog within seconds of coming back, in
 * order per episode and none twice, however long it was down; work of killed processes is taken
 * over within seconds. Short settings stand in for the defaults (docs/recovery.md).
 */

let services: TestServices;
let simulator: RecipientSimulator;
let units: DirectoryUnit[];
/** A recipient with an address of its own, where nothing listens until the test starts it. */
let refusing: DirectoryUnit;
let directoryPath: string;
let publisher: IngressPublisher;
const children: ChildProcess[] = [];

/** Settings under which the old code needed tens of seconds to drain a backlog after a fault. */
const SETTINGS = {
  SVU_RETRY_BASE: 'PT1S',
  SVU_RETRY_MAX: 'PT1H',
  SVU_RETRY_BUDGET: 'PT24H',
  SVU_DELIVERY_TIMEOUT: 'PT5S',
  SVU_STALE_AFTER: 'PT5S',
  SVU_SWEEP_EVERY: 'PT1S',
  SVU_PROBE_MAX: 'PT2S',
  SVU_HEARTBEAT_EVERY: 'PT0.5S',
  SVU_TAKEOVER_AFTER: 'PT5S',
};

function start(settings: Record<string, string> = SETTINGS): ChildProcess {
  const child = spawnGateway(gatewayEnv(services, directoryPath, settings));
  children.push(child);
  return child;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  services = await createTestServices('recovery');
  const port = await freePort();
  units = [1, 2, 3].map((n) => ({
    hsaId: `SE2120000016-REC${n}`,
    name: `Mottagare ${n}`,
    role: 'municipal-health-care',
    dialect: 'webcare',
    transport: { kind: 'http', url: `http://127.0.0.1:${port}/r${n}`, allowInsecureHttp: true },
  }));
  refusing = {
    hsaId: 'SE2120000016-REC4',
    name: 'Mottagare 4',
    role: 'municipal-health-care',
    dialect: 'webcare',
    transport: { kind: 'http', url: `http://127.0.0.1:${await freePort()}/r4`, allowInsecureHttp: true },
  };
  directoryPath = writeDirectory([...units, refusing]);
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

/** Publishes `rounds` messages to each of `episodes` episodes, round by round; returns the ids per episode in sending order. */
async function sendEpisodes(label: string, episodes: number, rounds: number, to: readonly DirectoryUnit[]): Promise<Map<string, string[]>> {
  const sent = new Map<string, string[]>();
  for (let round = 0; round < rounds; round++) {
    for (let e = 0; e < episodes; e++) {
      const episodeId = `${label}-EP-${e}`;
      const message = exampleFor('message', to, { episodeId });
      sent.set(episodeId, [...(sent.get(episodeId) ?? []), message.messageId]);
      await publisher.publish('samsa', bytesOf(message, 'samsa'));
    }
  }
  return sent;
}

async function openCopies(messageIds: readonly string[], hsaId?: string): Promise<number> {
  const rows = await query<{ open: string; stored: string }>(
    services.databaseUrl,
    `SELECT (SELECT count(*) FROM copies WHERE message_id = ANY($1) AND ($2::text IS NULL OR recipient_hsa = $2)
               AND state NOT IN ('delivered', 'acknowledged')) AS open,
            (SELECT count(*) FROM messages WHERE message_id = ANY($1)) AS stored`,
    [messageIds, hsaId ?? null],
  );
  return Number(rows[0]!.stored) === messageIds.length ? Number(rows[0]!.open) : Number.MAX_SAFE_INTEGER;
}

/** The message ids of an episode in the order the gateway accepted them (two ingress consumers may swap neighbours). */
async function acceptedOrder(episodeId: string): Promise<string[]> {
  const rows = await query<{ message_id: string }>(services.databaseUrl, 'SELECT message_id FROM messages WHERE episode_id = $1 ORDER BY id', [episodeId]);
  return rows.map((r) => r.message_id);
}

/** Each episode arrived complete, in acceptance order; with `once`, each message exactly once. */
async function expectInOrder(unit: DirectoryUnit, sent: Map<string, string[]>, once: boolean): Promise<number> {
  const all = new Set([...sent.values()].flat());
  const got = simulator.receivedBy(unit.hsaId).map((r) => r.messageId!).filter((id) => all.has(id));
  expect(new Set(got).size).toBe(all.size);
  if (once) expect(got.length).toBe(all.size);
  for (const episodeId of sent.keys()) {
    const accepted = await acceptedOrder(episodeId);
    expect(accepted).toHaveLength(sent.get(episodeId)!.length);
    // First arrivals in acceptance order (a repeat after a kill comes later and carries the same key).
    expect([...new Set(got.filter((id) => accepted.includes(id)))]).toEqual(accepted);
  }
  return got.length - all.size;
}

/** A recipient down for `downMs` with 30 episodes × 10 messages waiting; returns seconds from back up to the last delivered. */
async function outage(label: string, downMs: number): Promise<number> {
  const unit = units[0]!;
  start();
  start();
  await waitForTopology(services.amqpUrl);
  simulator.behave(unit.hsaId, { mode: 'down' });
  const sent = await sendEpisodes(label, 30, 10, [unit]);
  const ids = [...sent.values()].flat();
  await eventually(async () => ((await openCopies(ids, unit.hsaId)) === ids.length ? true : undefined), 60_000, 'every copy stored');
  // The outage counts from when the gateway knows the recipient is failing, with the whole backlog waiting.
  await eventually(async () => {
    const rows = await query<{ failing: boolean }>(services.databaseUrl, 'SELECT failing FROM recipient_health WHERE recipient_hsa = $1', [unit.hsaId]);
    return rows[0]?.failing === true ? true : undefined;
  }, 30_000, 'recipient failing');
  await sleep(downMs);
  simulator.behave(unit.hsaId, { mode: 'accept' });
  const backAt = Date.now();
  await eventually(async () => ((await openCopies(ids, unit.hsaId)) === 0 ? true : undefined), 120_000, 'backlog delivered');
  const seconds = (Date.now() - backAt) / 1000;
  console.log(`recovery: recipient down ${(downMs / 1000).toFixed(0)} s with ${ids.length} copies waiting: all delivered ${seconds.toFixed(1)} s after it was back`);
  await expectInOrder(unit, sent, true);
  return seconds;
}

/** Recovery time after the short outage, to compare the long one with. */
let shortOutageSeconds: number | undefined;

// The bounds are the target (30 s after the recipient is back) on a machine that may be
// shared: the probe comes at most SVU_PROBE_MAX (2 s) after the recipient is back and the backlog then
// flows at full speed (a few seconds when the machine is quiet). The code before issue 16 needed 26 s
// after a 10 s outage with these settings, and more the longer the outage (each copy's own backoff).
it('delivers a backlog of 300 copies (30 episodes × 10) within seconds of the recipient coming back, in order, none twice', async () => {
  shortOutageSeconds = await outage('OUT-SHORT', 10_000);
  expect(shortOutageSeconds).toBeLessThan(30);
}, 240_000);

it('recovers as fast after an outage several times as long', async () => {
  // 60 s is thirty times the longest probe interval: a copy's own backoff would by now be 30 s or more.
  const seconds = await outage('OUT-LONG', 60_000);
  expect(seconds).toBeLessThan(30);
  // Recovery does not grow with the outage's length: before issue 16 a copy's own backoff grew with it
  // (26 s after 10 s, far more after 60 s). The margin absorbs a loaded machine's pace (4.8 s and 16.5 s
  // in one run at load 7), not a backoff that grows.
  if (shortOutageSeconds !== undefined) expect(seconds).toBeLessThan(Math.max(shortOutageSeconds * 2 + 10, 20));
}, 300_000);

it('takes over the work of killed processes within seconds: three SIGKILLs of both processes during 600 messages to three recipients', async () => {
  let gateways = [start(), start()];
  await waitForTopology(services.amqpUrl);
  const sent: string[] = [];
  const byEpisode = new Map<string, string[]>();
  const publishing = (async () => {
    for (let i = 0; i < 200; i++) {
      const episodeId = `KILL16-EP-${i % 20}`;
      const message = exampleFor('message', units, { episodeId });
      sent.push(message.messageId);
      byEpisode.set(episodeId, [...(byEpisode.get(episodeId) ?? []), message.messageId]);
      await publisher.publish('samsa', bytesOf(message, 'samsa'));
      if (i % 20 === 0) await sleep(100);
    }
  })();
  for (const pause of [700, 900, 800]) {
    await sleep(pause);
    for (const gateway of gateways) gateway.kill('SIGKILL');
    await sleep(200);
    gateways = [start(), start()];
  }
  const restartedAt = Date.now();
  await publishing;
  await eventually(async () => ((await openCopies(sent)) === 0 ? true : undefined), 120_000, 'every copy delivered');
  const seconds = (Date.now() - restartedAt) / 1000;
  console.log(`recovery: 3 SIGKILLs of both processes, ${sent.length * units.length} copies: all delivered ${seconds.toFixed(1)} s after the last restart`);
  for (const unit of units) {
    const repeats = await expectInOrder(unit, byEpisode, false);
    console.log(`recovery: ${unit.name}: ${repeats} repeated deliveries after 3 kills`);
  }
  // The target. Takeover comes SVU_TAKEOVER_AFTER (5 s) after a process's last heartbeat, then
  // one sweep, and held-back copies follow as each earlier one settles; the rest is the machine's pace.
  // Before issue 16 a killed process's copies waited out their lease and chains polled every 30 s.
  expect(seconds).toBeLessThan(60);
}, 240_000);

it('probes a recipient that refused connections as soon as it listens again, not after the probe backoff (default SVU_PROBE_MAX, 30 s)', async () => {
  // The defaults for probes: base 1 s doubling to 30 s. Nothing listens at the recipient's address.
  start({ ...SETTINGS, SVU_PROBE_BASE: 'PT1S', SVU_PROBE_MAX: 'PT30S' });
  start({ ...SETTINGS, SVU_PROBE_BASE: 'PT1S', SVU_PROBE_MAX: 'PT30S' });
  await waitForTopology(services.amqpUrl);
  const sent = await sendEpisodes('REACH', 10, 5, [refusing]);
  const ids = [...sent.values()].flat();
  await eventually(async () => ((await openCopies(ids, refusing.hsaId)) === ids.length ? true : undefined), 60_000, 'every copy stored');
  // Come back just after a failed probe, when the next one is at least 14 s away.
  const nextProbeIn = async () => {
    const rows = await query<{ failing: boolean; last_error: string | null; ms: number | null }>(
      services.databaseUrl,
      `SELECT failing, last_error, (extract(epoch FROM probe_at - now()) * 1000)::int AS ms FROM recipient_health WHERE recipient_hsa = $1`,
      [refusing.hsaId],
    );
    return rows[0];
  };
  const before = await eventually(async () => {
    const row = await nextProbeIn();
    return row?.failing === true && (row.ms ?? 0) >= 14_000 ? row : undefined;
  }, 90_000, 'the next probe 14 s or more away');
  expect(before.last_error).toBe('ECONNREFUSED');
  const back = new RecipientSimulator({ units: [refusing], amqpUrl: services.amqpUrl });
  await back.start();
  const backAt = Date.now();
  try {
    await eventually(async () => ((await openCopies(ids, refusing.hsaId)) === 0 ? true : undefined), 60_000, 'backlog delivered');
    const seconds = (Date.now() - backAt) / 1000;
    console.log(`recovery: recipient refusing connections, next probe ${(before.ms! / 1000).toFixed(0)} s away when it came back: ${ids.length} copies delivered ${seconds.toFixed(1)} s after it listened again`);
    // A connection check every 2 s brings the probe forward; without it the backlog would wait for the probe.
    expect(seconds).toBeLessThan(before.ms! / 1000 - 4);
    const got = back.receivedBy(refusing.hsaId).map((r) => r.messageId!);
    expect(got).toHaveLength(ids.length);
    for (const [episodeId, inOrder] of sent) expect(got.filter((id) => inOrder.includes(id))).toEqual(await acceptedOrder(episodeId));
  } finally {
    await back.stop();
  }
}, 240_000);

it('sends a slow recipient one probe at a time once its attempts time out: repeats only of the copies in flight', async () => {
  // Answers 1.5 s after taking a request, past the 1 s delivery timeout: every attempt times out after
  // the recipient has the copy (it counts each arrival).
  // Three copies on their way to one recipient per process at most: of the 10 episodes' first copies,
  // 6 go, the others wait their turn and find the recipient failing.
  const settings = { ...SETTINGS, SVU_DELIVERY_TIMEOUT: 'PT1S', SVU_PROBE_BASE: 'PT0.5S', SVU_PROBE_MAX: 'PT1S', SVU_RECIPIENT_IN_FLIGHT: '3' };
  start(settings);
  start(settings);
  await waitForTopology(services.amqpUrl);
  const slow = new RecipientSimulator({ units: [refusing], amqpUrl: services.amqpUrl });
  await slow.start();
  try {
    slow.behave(refusing.hsaId, { mode: 'accept', delayMs: 1_500 });
    const sent = await sendEpisodes('SLOW', 10, 5, [refusing]);
    const ids = [...sent.values()].flat();
    await eventually(async () => {
      const rows = await query<{ failing: boolean }>(services.databaseUrl, 'SELECT failing FROM recipient_health WHERE recipient_hsa = $1', [refusing.hsaId]);
      return rows[0]?.failing === true ? true : undefined;
    }, 60_000, 'recipient failing');
    // The attempts on their way when it started failing end within the timeout; from then on, copies on
    // their way to it at any moment, sampled for 8 s of probes.
    await sleep(1_500);
    const inFlightAtFailing = slow.receivedBy(refusing.hsaId).length;
    let mostInFlight = 0;
    for (const until = Date.now() + 8_000; Date.now() < until; ) {
      const rows = await query<{ n: string }>(services.databaseUrl, `SELECT count(*) AS n FROM copies WHERE recipient_hsa = $1 AND state = 'sending'`, [refusing.hsaId]);
      mostInFlight = Math.max(mostInFlight, Number(rows[0]!.n));
      await sleep(100);
    }
    const probesWhileSlow = slow.receivedBy(refusing.hsaId).length - inFlightAtFailing;
    slow.behave(refusing.hsaId, { mode: 'accept' });
    await eventually(async () => ((await openCopies(ids, refusing.hsaId)) === 0 ? true : undefined), 60_000, 'backlog delivered');
    const got = slow.receivedBy(refusing.hsaId).map((r) => r.messageId!);
    const repeats = got.length - new Set(got).size;
    const timedOut = await query<{ n: string }>(
      services.databaseUrl,
      `SELECT count(*) AS n FROM copy_events e JOIN copies c ON c.id = e.copy_id WHERE c.recipient_hsa = $1 AND e.detail = 'timed out'`,
      [refusing.hsaId],
    );
    const attemptsTimedOut = Number(timedOut[0]!.n);
    const notSent = await query<{ n: string }>(
      services.databaseUrl,
      `SELECT count(*) AS n FROM copy_events e JOIN copies c ON c.id = e.copy_id WHERE c.recipient_hsa = $1 AND e.detail LIKE 'not sent:%'`,
      [refusing.hsaId],
    );
    console.log(
      `recovery: slow recipient (answers after 1.5 s, timeout 1 s): ${inFlightAtFailing} copies had arrived when it started failing, ` +
        `then at most ${mostInFlight} on its way at a time (${probesWhileSlow} probes arrived in 8 s); ${attemptsTimedOut} attempts timed out, ${notSent[0]!.n} not sent; ${repeats} repeats of ${ids.length} copies`,
    );
    expect(mostInFlight).toBeLessThanOrEqual(1);
    // Two processes, three each, went before it was known to be failing; the rest were not sent.
    expect(inFlightAtFailing).toBeLessThanOrEqual(6);
    expect(Number(notSent[0]!.n)).toBeGreaterThan(0);
    // Each repeat is a copy the recipient took while the gateway had given it up: an attempt that timed
    // out — one of the copies in flight when it started failing, or a probe, one at a time; the other
    // copies waited and went once.
    expect(repeats).toBeLessThanOrEqual(attemptsTimedOut);
    expect(attemptsTimedOut).toBeLessThanOrEqual(6 + 15);
    expect(new Set(got).size).toBe(ids.length);
  } finally {
    await slow.stop();
  }
}, 240_000);
