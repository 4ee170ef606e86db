import type { INestApplication } from '@nestjs/common';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, IngressPublisher, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { bytesOf, canonicalOf, exampleFor, onTimeAdmission } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';
import { readFileSync, writeFileSync } from 'node:fs';
import type { GatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { Client } from 'pg';
import { connect } from 'amqplib';
import type { Server } from 'node:http';
import { postIngress } from '../support/ingress-client';

const DIALECTS: readonly Format[] = ['lifecare', 'webcare', 'samsa', 'canonical'];

let services: TestServices;
let simulator: RecipientSimulator;
let gateway: { app: INestApplication; url: string; config: GatewayConfig };
let publisher: IngressPublisher;
let units: DirectoryUnit[];
let directoryPath: string;

/** A recipient unit of each dialect over each transport. */
function makeUnits(port: number): DirectoryUnit[] {
  return DIALECTS.flatMap((dialect, i) => [
    {
      hsaId: `SE2120000001-H${i}`,
      name: `HTTP ${dialect}`,
      role: 'municipal-health-care',
      dialect,
      transport: { kind: 'http', url: `http://127.0.0.1:${port}/units/h${i}`, allowInsecureHttp: true },
      fax: '+46 31 100 00 00',
      postalAddress: ['Box 1', '411 00 Göteborg'],
    },
    {
      hsaId: `SE2120000001-A${i}`,
      name: `AMQP ${dialect}`,
      role: 'primary-care',
      dialect,
      transport: { kind: 'amqp', routingKey: `unit-a${i}` },
    },
  ]);
}

const post = (format: Format, body: Buffer) =>
  postIngress(gateway.url, format, body).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

beforeAll(async () => {
  services = await createTestServices('pipeline');
  units = makeUnits(await freePort());
  directoryPath = writeDirectory(units);
  simulator = new RecipientSimulator({ units, amqpUrl: services.amqpUrl });
  gateway = await startInProcess(gatewayEnv(services, directoryPath));
  await simulator.start();
  publisher = new IngressPublisher(services.amqpUrl);
}, 60_000);

afterAll(async () => {
  await publisher?.close();
  await simulator?.stop();
  await gateway?.app.close();
  await services?.cleanup();
}, 60_000);

describe('routing and translation', () => {
  it('carries a message in each dialect to recipients of each dialect over both transports, with the same meaning', async () => {
    const sent = DIALECTS.map((format) => ({ format, message: exampleFor('admission', units) }));
    for (const [i, { format, message }] of sent.entries()) {
      if (i % 2 === 0) expect((await post(format, bytesOf(message, format))).status).toBe(202);
      else await publisher.publish(format, bytesOf(message, format));
    }
    for (const { message } of sent) {
      for (const unit of units) {
        const got = await eventually(
          () => simulator.receivedBy(unit.hsaId).find((r) => r.messageId === message.messageId),
          20_000,
          `${message.messageId} at ${unit.name}`,
        );
        expect(canonicalOf(unit.dialect, got.bytes)).toEqual(message);
      }
    }
  }, 60_000);

  it('dead-letters a copy for a recipient missing from the directory and delivers the others', async () => {
    const message = exampleFor('message', [units[0]!.hsaId, 'SE2120000001-NOWHERE']);
    expect((await post('samsa', bytesOf(message, 'samsa'))).status).toBe(202);
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    const dead = await eventually(async () => {
      const rows = await query<{ reason: string; recipient_hsa: string }>(services.databaseUrl, 'SELECT reason, recipient_hsa FROM dead_letters WHERE message_id = $1', [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    expect(dead).toEqual([{ reason: 'unknown-recipient', recipient_hsa: 'SE2120000001-NOWHERE' }]);
  }, 30_000);
});

describe('invalid input', () => {
  it('answers 400 with field paths over HTTP and keeps the message in the dead-letter queue', async () => {
    const message = exampleFor('admission', [units[0]!]);
    const broken = bytesOf(message, 'lifecare').toString('utf8').replace('SOMATIK', 'KIRURGI');
    const answer = await post('lifecare', Buffer.from(broken));
    expect(answer.status).toBe(400);
    expect(answer.json.problems).toEqual([{ path: 'body.careType', message: 'unknown code "KIRURGI"' }]);
    const rows = await query<{ reason: string; problems: unknown; payload: Buffer; message_id: string }>(
      services.databaseUrl,
      'SELECT reason, problems, payload, message_id FROM dead_letters WHERE id = $1',
      [answer.json.deadLetterId],
    );
    expect(rows[0]).toMatchObject({ reason: 'invalid-message', message_id: message.messageId, problems: answer.json.problems });
    expect(rows[0]!.payload.toString('utf8')).toBe(broken);
  });

  it('keeps an invalid AMQP message in the dead-letter queue with its problems', async () => {
    const message = exampleFor('discharged', [units[0]!]);
    const broken = JSON.parse(bytesOf(message, 'samsa').toString('utf8'));
    broken.utskriven.destination = 'månen';
    await publisher.publish('samsa', Buffer.from(JSON.stringify(broken)));
    const rows = await eventually(async () => {
      const r = await query<{ problems: unknown }>(services.databaseUrl, 'SELECT problems FROM dead_letters WHERE message_id = $1', [message.messageId]);
      return r.length > 0 ? r : undefined;
    });
    expect(rows[0]!.problems).toEqual([{ path: 'body.destination', message: 'unknown code "månen"' }]);
  }, 30_000);

  it('keeps a route or deliver job that is not one as a dead letter at once, and goes on with the jobs beside it', async () => {
    const connection = await connect(services.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      for (const key of ['route', 'deliver']) channel.publish('svu.work', key, Buffer.from('{"not":"a job"}'), { persistent: true, messageId: `NOT-A-JOB-${key}` });
      // Jobs whose keys are not store keys: once they failed the statement of their whole batch, which
      // was handed back again and again (with the jobs beside them) until the delivery limit.
      channel.publish('svu.work', 'route', Buffer.from('{"messagePks":["abc"]}'), { persistent: true, messageId: 'NOT-A-JOB-route-key' });
      channel.publish('svu.work', 'deliver', Buffer.from('{"copies":[{"copyId":"x","attempt":"y"}]}'), { persistent: true, messageId: 'NOT-A-JOB-deliver-key' });
      await channel.waitForConfirms();
      const message = exampleFor('admission', [units[0]!]);
      await publisher.publish('samsa', bytesOf(message, 'samsa'));
      const rows = await eventually(async () => {
        const r = await query<{ message_id: string; reason: string; last_error: string }>(
          services.databaseUrl,
          `SELECT message_id, reason, last_error FROM dead_letters WHERE message_id LIKE 'NOT-A-JOB-%' ORDER BY message_id`,
        );
        return r.length === 4 ? r : undefined;
      });
      const storeKey = "must be a store key: a row's primary key (a positive bigint) in decimal digits";
      expect(rows).toEqual([
        { message_id: 'NOT-A-JOB-deliver', reason: 'unprocessable', last_error: 'refused as unprocessable in queue svu.deliver: not a deliver job: copies: is required' },
        {
          message_id: 'NOT-A-JOB-deliver-key',
          reason: 'unprocessable',
          last_error: `refused as unprocessable in queue svu.deliver: not a deliver job: copies[0].copyId: ${storeKey}; copies[0].attempt: must be an integer`,
        },
        { message_id: 'NOT-A-JOB-route', reason: 'unprocessable', last_error: 'refused as unprocessable in queue svu.route: not a route job: messagePks: is required' },
        { message_id: 'NOT-A-JOB-route-key', reason: 'unprocessable', last_error: `refused as unprocessable in queue svu.route: not a route job: messagePks[0]: ${storeKey}` },
      ]);
      await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId), 20_000, 'the message beside the broken jobs');
    } finally {
      await connection.close();
    }
  }, 30_000);

  it('logs message ids with anything shaped like an identity number masked, valid or not', async () => {
    const valid = { ...onTimeAdmission([units[0]!]), messageId: 'MSG-19410708-6994' };
    expect((await post('canonical', bytesOf(valid, 'canonical'))).status).toBe(202);
    const invalid = bytesOf(exampleFor('admission', [units[0]!]), 'lifecare').toString('utf8').replace(/<lc:MessageId>[^<]*/, '<lc:MessageId>MSG+410708+6995');
    expect((await post('lifecare', Buffer.from(invalid))).status).toBe(400);
    const log = await eventually(() => {
      const text = readFileSync(gateway.config.logFile!, 'utf8');
      return text.includes('"messageId":"MSG+******+****"') && text.includes('"messageId":"MSG-********-****"') ? text : undefined;
    });
    expect(log).not.toMatch(/19410708-6994|410708\+6995/);
  });

  it('answers 413 over 256 KiB and 404 for an unknown dialect', async () => {
    expect((await post('samsa', Buffer.alloc(262_145, 0x20))).status).toBe(413);
    expect((await post('hl7' as Format, Buffer.from('x'))).status).toBe(404);
  });
});

describe('delivery failures', () => {
  it('retries a failing recipient with backoff until it recovers', async () => {
    const unit = units[0]!;
    simulator.behave(unit.hsaId, { mode: 'fail', status: 503 });
    const message = exampleFor('message', [unit]);
    expect((await post('canonical', bytesOf(message, 'canonical'))).status).toBe(202);
    await eventually(async () => {
      const r = await query<{ attempts: number }>(services.databaseUrl, 'SELECT attempts FROM copies WHERE message_id = $1', [message.messageId]);
      return (r[0]?.attempts ?? 0) >= 2 ? true : undefined;
    });
    simulator.behave(unit.hsaId, { mode: 'accept' });
    await eventually(() => simulator.receivedBy(unit.hsaId).find((r) => r.messageId === message.messageId));
    const [copy] = await eventually(async () => {
      const r = await query<{ state: string; attempts: number }>(services.databaseUrl, 'SELECT state, attempts FROM copies WHERE message_id = $1', [message.messageId]);
      return r[0]?.state === 'delivered' ? r : undefined;
    });
    expect(copy!.attempts).toBeGreaterThanOrEqual(3);
    const events = await query<{ state: string }>(
      services.databaseUrl,
      'SELECT e.state FROM copy_events e JOIN copies c ON c.id = e.copy_id WHERE c.message_id = $1 ORDER BY e.id',
      [message.messageId],
    );
    expect(events.map((e) => e.state)).toEqual(expect.arrayContaining(['received', 'routed', 'sending', 'retrying', 'delivered']));
  }, 30_000);

  it('dead-letters with the last error when the retry budget is spent', async () => {
    const unit = units[2]!;
    simulator.behave(unit.hsaId, { mode: 'fail', status: 500 });
    const message = exampleFor('message', [unit]);
    expect((await post('canonical', bytesOf(message, 'canonical'))).status).toBe(202);
    const rows = await eventually(async () => {
      const r = await query<{ reason: string; last_error: string }>(services.databaseUrl, 'SELECT reason, last_error FROM dead_letters WHERE message_id = $1', [message.messageId]);
      return r.length > 0 ? r : undefined;
    }, 20_000);
    expect(rows).toEqual([{ reason: 'delivery-failed', last_error: 'HTTP 500' }]);
    const [copy] = await query<{ state: string; attempts: number }>(services.databaseUrl, 'SELECT state, attempts FROM copies WHERE message_id = $1', [message.messageId]);
    expect(copy).toMatchObject({ state: 'dead-lettered' });
    expect(copy!.attempts).toBeGreaterThan(2);
    simulator.behave(unit.hsaId, { mode: 'accept' });
  }, 30_000);

  it('dead-letters at once on a 4xx that retrying cannot help', async () => {
    const unit = units[4]!;
    simulator.behave(unit.hsaId, { mode: 'fail', status: 422 });
    const message = exampleFor('message', [unit]);
    await post('canonical', bytesOf(message, 'canonical'));
    const [copy] = await eventually(async () => {
      const r = await query<{ state: string; attempts: number; last_error: string }>(services.databaseUrl, 'SELECT state, attempts, last_error FROM copies WHERE message_id = $1', [message.messageId]);
      return r[0]?.state === 'dead-lettered' ? r : undefined;
    });
    expect(copy).toEqual({ state: 'dead-lettered', attempts: 1, last_error: 'HTTP 422' });
    simulator.behave(unit.hsaId, { mode: 'accept' });
  }, 30_000);
});

describe('idempotency, cancellation, acknowledgement', () => {
  it('accepts a message id seen before with the same answer and delivers it once', async () => {
    const unit = units[0]!;
    const message = exampleFor('message', [unit]);
    const first = await post('samsa', bytesOf(message, 'samsa'));
    const second = await post('samsa', bytesOf(message, 'samsa'));
    await publisher.publish('samsa', bytesOf(message, 'samsa'));
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.json.messageId).toBe(message.messageId);
    await eventually(() => simulator.receivedBy(unit.hsaId).find((r) => r.messageId === message.messageId));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(simulator.receivedBy(unit.hsaId).filter((r) => r.messageId === message.messageId)).toHaveLength(1);
  }, 30_000);

  it('cancels pending copies without delivering them, and forwards the cancellation where the original was delivered', async () => {
    const down = units[0]!;
    const up = units[2]!;
    simulator.behave(down.hsaId, { mode: 'fail', status: 503 });
    // An earlier message of the episode that keeps failing holds the original back at the down
    // recipient (per-episode order), so the original is surely still pending when it is cancelled.
    const blocker = exampleFor('message', [down]);
    await post('lifecare', bytesOf(blocker, 'lifecare'));
    const original = exampleFor('discharge-estimate', [down, up], { episodeId: blocker.episodeId });
    await post('lifecare', bytesOf(original, 'lifecare'));
    await eventually(() => simulator.receivedBy(up.hsaId).find((r) => r.messageId === original.messageId));
    const cancellation = exampleFor('cancellation', [down, up], { episodeId: original.episodeId });
    (cancellation.body as { cancelsMessageId: string }).cancelsMessageId = original.messageId;
    await post('lifecare', bytesOf(cancellation, 'lifecare'));
    await eventually(() => simulator.receivedBy(up.hsaId).find((r) => r.messageId === cancellation.messageId));
    simulator.behave(down.hsaId, { mode: 'accept' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(simulator.receivedBy(down.hsaId).filter((r) => [original.messageId, cancellation.messageId].includes(r.messageId!))).toEqual([]);
    const states = await query<{ message_id: string; recipient_hsa: string; state: string }>(
      services.databaseUrl,
      'SELECT message_id, recipient_hsa, state FROM copies WHERE message_id = ANY($1) ORDER BY id',
      [[original.messageId, cancellation.messageId]],
    );
    expect(states.map((s) => `${s.message_id === original.messageId ? 'original' : 'cancellation'} ${s.recipient_hsa === down.hsaId ? 'down' : 'up'} ${s.state}`)).toEqual([
      'original down cancelled',
      'original up delivered',
      'cancellation down cancelled',
      'cancellation up delivered',
    ]);
  }, 30_000);

  it('marks the acknowledged copy, and records a rejection as a deviation', async () => {
    const [a, b] = [units[0]!, units[2]!];
    const original = exampleFor('admission', [a, b]);
    await post('samsa', bytesOf(original, 'samsa'));
    await eventually(() => simulator.receivedBy(b.hsaId).find((r) => r.messageId === original.messageId));
    await eventually(() => simulator.receivedBy(a.hsaId).find((r) => r.messageId === original.messageId));
    const ack = (from: DirectoryUnit, status: 'received' | 'rejected') => {
      const m = exampleFor('acknowledgement', [units[1]!], { episodeId: original.episodeId }) as any;
      m.sender = { hsaId: from.hsaId, name: from.name };
      m.body = { acknowledgesMessageId: original.messageId, status, ...(status === 'rejected' ? { reason: 'Fel mottagare' } : {}) };
      return m;
    };
    await post('canonical', bytesOf(ack(a, 'received'), 'canonical'));
    await post('canonical', bytesOf(ack(b, 'rejected'), 'canonical'));
    const copies = await eventually(async () => {
      const r = await query<{ recipient_hsa: string; state: string; acknowledged: boolean }>(
        services.databaseUrl,
        'SELECT recipient_hsa, state, acknowledged_at IS NOT NULL AS acknowledged FROM copies WHERE message_id = $1 ORDER BY id',
        [original.messageId],
      );
      return r.every((c) => c.acknowledged) ? r : undefined;
    });
    expect(copies.map((c) => c.state)).toEqual(['acknowledged', 'acknowledged']);
    const deviations = await query<{ kind: string; unit_hsa: string; detail: string }>(
      services.databaseUrl,
      "SELECT kind, unit_hsa, detail FROM deviations WHERE message_id = $1 AND kind <> 'late-on-arrival'",
      [original.messageId],
    );
    expect(deviations).toEqual([{ kind: 'rejected-by-recipient', unit_hsa: b.hsaId, detail: 'Fel mottagare' }]);
  }, 30_000);
});

describe('HTTP connections', () => {
  it('keeps an idle keep-alive connection open for SVU_HTTP_KEEP_ALIVE (65 s by default), not the 5 s of Node', () => {
    const server = gateway.app.getHttpServer() as Server;
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
  });
});

describe('storing at ingress', () => {
  // A batch of messages that change nothing stored before is stored in one statement; any other
  // batch (here: a ready-for-discharge notice, which records day 0) in a transaction of several.
  // Either way the episode's lock must be held before anything is stored, or two ingress processes
  // could give copies of one episode ids in another order than their commits.
  it.each([
    ['an on-time admission', (unit: DirectoryUnit) => onTimeAdmission([unit])],
    ['a ready-for-discharge notice', (unit: DirectoryUnit) => exampleFor('ready-for-discharge', [unit])],
  ])('stores %s only once it holds the episode lock', async (_, make) => {
    const message = make(units[2]!);
    const holder = new Client({ connectionString: services.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [message.episodeId]);
      let answered = false;
      const answer = post('samsa', bytesOf(message, 'samsa')).finally(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(answered).toBe(false);
      expect(await query(services.databaseUrl, 'SELECT 1 FROM messages WHERE message_id = $1', [message.messageId])).toEqual([]);
      await holder.query('COMMIT');
      expect((await answer).status).toBe(202);
      expect(await query(services.databaseUrl, 'SELECT state FROM copies WHERE message_id = $1', [message.messageId])).toHaveLength(1);
    } finally {
      await holder.end();
    }
  }, 30_000);

  it('stores HTTP messages that arrive within SVU_INGRESS_GROUP_WAIT of each other in one group', async () => {
    const receivedAt = async (url: string) => {
      const [first, second] = [onTimeAdmission([units[0]!]), onTimeAdmission([units[0]!])];
      const answers = [postIngress(url, 'samsa', bytesOf(first, 'samsa'))];
      await new Promise((resolve) => setTimeout(resolve, 100));
      answers.push(postIngress(url, 'samsa', bytesOf(second, 'samsa')));
      expect((await Promise.all(answers)).map((a) => a.status)).toEqual([202, 202]);
      const rows = await query<{ at: string }>(services.databaseUrl, 'SELECT received_at::text AS at FROM messages WHERE message_id = ANY($1) ORDER BY id', [[first.messageId, second.messageId]]);
      return new Set(rows.map((r) => r.at)).size;
    };
    // A group's messages share its clock time: 100 ms apart they are two groups by default (3 ms)...
    expect(await receivedAt(gateway.url)).toBe(2);
    // ...and one group where the gateway waits 300 ms for more.
    const waiting = await startInProcess(gatewayEnv(services, directoryPath, { SVU_SERVICES: 'ingress', SVU_INGRESS_GROUP_WAIT: 'PT0.3S' }));
    try {
      expect(await receivedAt(waiting.url)).toBe(1);
    } finally {
      await waiting.app.close();
    }
  }, 30_000);

  it('stores a message id sent twice within one batch once, with one copy per recipient', async () => {
    const [a, b] = [units[1]!, units[3]!];
    const message = onTimeAdmission([a, b]);
    const other = onTimeAdmission([a]);
    // Published back to back to one queue, the three arrive in one batch (the consumer waits to fill it).
    await Promise.all([publisher.publish('samsa', bytesOf(message, 'samsa')), publisher.publish('samsa', bytesOf(other, 'samsa')), publisher.publish('samsa', bytesOf(message, 'samsa'))]);
    await eventually(() => simulator.receivedBy(a.hsaId).find((r) => r.messageId === other.messageId));
    await eventually(() => simulator.receivedBy(b.hsaId).find((r) => r.messageId === message.messageId));
    const copies = await query<{ recipient_hsa: string }>(services.databaseUrl, 'SELECT recipient_hsa FROM copies WHERE message_id = $1 ORDER BY id', [message.messageId]);
    expect(copies.map((c) => c.recipient_hsa)).toEqual([a.hsaId, b.hsaId]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(simulator.receivedBy(a.hsaId).filter((r) => r.messageId === message.messageId)).toHaveLength(1);
  }, 30_000);
});

describe('unit directory', () => {
  it('takes a changed file into force without restart, and keeps the previous one when a file is broken', async () => {
    const newcomer: DirectoryUnit = { hsaId: 'SE2120000001-NEW1', name: 'Ny enhet', role: 'social-services', dialect: 'samsa', transport: { kind: 'amqp', routingKey: 'unit-new' } };
    writeFileSync(directoryPath, '{ "units": [ { "hsaId": "broken" } ] }');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stillWorks = exampleFor('message', [units[0]!]);
    await post('samsa', bytesOf(stillWorks, 'samsa'));
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === stillWorks.messageId));

    writeFileSync(directoryPath, JSON.stringify({ units: [...units, newcomer] }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const message = exampleFor('message', [newcomer]);
    await post('samsa', bytesOf(message, 'samsa'));
    const [copy] = await eventually(async () => {
      const r = await query<{ state: string; dialect: string }>(services.databaseUrl, 'SELECT state, dialect FROM copies WHERE message_id = $1', [message.messageId]);
      return r[0]?.state === 'delivered' ? r : undefined;
    });
    expect(copy).toEqual({ state: 'delivered', dialect: 'samsa' });
  }, 30_000);
});
