/**
 * npm run bench:recovery — how fast a backlog flows once a fault clears (issue 16, docs/recovery.md).
 * Gateway services as separate processes with two egress processes and the default settings; one
 * HTTP recipient (the simulator, on port 9151). The same backlog — 30 episodes × 10 admissions, stored
 * and routed — is timed three ways in the same run:
 *   1. no fault: the recipient is paused by an operator while the backlog builds, then resumed;
 *   2. after an outage of BENCH_OUTAGE_S (default 90 s): the recipient refuses connections while the
 *      backlog builds and for the outage, then comes back;
 *   3. the same after an outage four times as long, to show that recovery does not grow with it.
 * Printed: seconds from the fault cleared (resume / back up) until the last copy arrived, in order and
 * none twice. Target (issue 16): within 30 s after a 90 s outage.
 */
import { connect } from 'amqplib';
import type { DirectoryUnit } from '@svu/directory';
import { writeMessage } from '@svu/dialects';
import { RecipientSimulator } from '../apps/simulator/src/recipient-simulator';
import { OPERATOR, signIn, writeUsers } from '../test/support/console-users';
import { query, writeDirectory } from '../test/support/gateway-harness';
import { onTimeAdmission } from '../test/support/messages';
import { createTestServices, eventually } from '../test/support/services';
import { publishAll } from './amqp-util';
import { fmt, machine } from './bench-util';
import { ServiceProcesses } from './service-processes';

const OUTAGE_S = Number(process.env['BENCH_OUTAGE_S'] ?? 90);
const EPISODES = 30;
const PER_EPISODE = 10;
const PORT = 9151;
const TARGET_S = 30;

async function main(): Promise<void> {
  const services = await createTestServices('bench_recovery');
  const unit: DirectoryUnit = { hsaId: 'SE2120000016-BENCH', name: 'Återhämtning', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${PORT}/r`, allowInsecureHttp: true } };
  const simulator = new RecipientSimulator({ units: [unit] });
  await simulator.start();
  const processes = new ServiceProcesses(services, writeDirectory([unit]), { SVU_USERS: writeUsers() });
  const connection = await connect(services.amqpUrl);
  try {
    console.log(`# bench:recovery — ${machine()}`);
    console.log(`${EPISODES} episodes × ${PER_EPISODE} admissions to one HTTP recipient; ingress+console, router, egress+deadlines and egress as processes, default settings\n`);
    const consolePort = await processes.start('ingress,console');
    await processes.start('router');
    await processes.start('egress,deadlines');
    await processes.start('egress');
    const api = `http://127.0.0.1:${consolePort}/api/recipients/${unit.hsaId}`;
    const token = await signIn(`http://127.0.0.1:${consolePort}`, OPERATOR);
    const post = async (action: string) => {
      const res = await fetch(`${api}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(action === 'pause' ? { reason: 'benchmark: no fault' } : {}) });
      if (!res.ok) throw new Error(`${action}: HTTP ${res.status}`);
    };
    const producer = await connection.createConfirmChannel();

    /** Builds the backlog while `hold` keeps it from the recipient, lets go with `clear` (which says when the fault cleared); seconds from then to the last copy. */
    const run = async (label: string, tag: string, hold: () => Promise<void>, clear: () => Promise<number>): Promise<number> => {
      const episodes = Array.from({ length: EPISODES }, (_, e) => `REC-${tag}-${e}`);
      const messages = Array.from({ length: EPISODES * PER_EPISODE }, (_, i) => onTimeAdmission([unit], { episodeId: episodes[i % EPISODES]! }));
      const ids = new Set(messages.map((m) => m.messageId));
      await hold();
      await publishAll(producer, 'svu.ingress', 'lifecare', messages.map((m) => writeMessage('lifecare', m)));
      await eventually(async () => {
        const rows = await query<{ n: string }>(services.databaseUrl, "SELECT count(*) AS n FROM copies c JOIN messages m ON m.id = c.message_pk WHERE m.episode_id LIKE $1 AND c.state IN ('routed', 'retrying')", [`REC-${tag}-%`]);
        return Number(rows[0]!.n) === ids.size ? true : undefined;
      }, 300_000, `${label}: backlog stored and routed`);
      const cleared = await clear();
      const last = await eventually(() => {
        const got = simulator.receivedBy(unit.hsaId).filter((r) => ids.has(r.messageId!));
        return new Set(got.map((r) => r.messageId)).size === ids.size ? Math.max(...got.map((r) => r.at.getTime())) : undefined;
      }, 900_000, `${label}: backlog delivered`);
      const got = simulator.receivedBy(unit.hsaId).filter((r) => ids.has(r.messageId!)).map((r) => r.messageId!);
      let inOrder = true;
      for (const episodeId of episodes) {
        const accepted = (await query<{ message_id: string }>(services.databaseUrl, 'SELECT message_id FROM messages WHERE episode_id = $1 ORDER BY id', [episodeId])).map((r) => r.message_id);
        if (JSON.stringify(got.filter((id) => accepted.includes(id))) !== JSON.stringify(accepted)) inOrder = false;
      }
      const seconds = (last - cleared) / 1000;
      console.log(`${label.padEnd(28)} ${fmt(seconds, 1).padStart(6)} s from the fault cleared to the last copy (${got.length - ids.size} repeats, ${inOrder ? 'in order' : 'OUT OF ORDER'})`);
      if (!inOrder || got.length !== ids.size) process.exitCode = 1;
      return seconds;
    };

    const failing = async () =>
      eventually(async () => ((await query<{ failing: boolean }>(services.databaseUrl, 'SELECT failing FROM recipient_health WHERE recipient_hsa = $1', [unit.hsaId]))[0]?.failing ? true : undefined), 60_000, 'recipient failing');
    const baseline = await run('no fault (pause, resume)', 'BASE', () => post('pause'), async () => {
      const at = Date.now();
      await post('resume');
      return at;
    });
    // The outage counts from when the gateway knows the recipient is failing, with the backlog waiting.
    const outage = async (seconds: number) =>
      run(`after a ${seconds} s outage`, `OUT${seconds}`, () => Promise.resolve(simulator.behave(unit.hsaId, { mode: 'down' })), async () => {
        await failing();
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        simulator.behave(unit.hsaId, { mode: 'accept' });
        return Date.now();
      });
    const short = await outage(OUTAGE_S);
    const long = await outage(OUTAGE_S * 4);
    console.log(`\nrecovery after ${OUTAGE_S} s: ${fmt(short, 1)} s (target ≤ ${TARGET_S} s: ${short <= TARGET_S ? 'ok' : 'MISSED'}); after ${OUTAGE_S * 4} s: ${fmt(long, 1)} s; no fault: ${fmt(baseline, 1)} s`);
    if (short > TARGET_S || long > TARGET_S) process.exitCode = 1;
  } finally {
    await connection.close().catch(() => undefined);
    processes.stopAll();
    await simulator.stop();
    await services.cleanup();
  }
}

void main();
