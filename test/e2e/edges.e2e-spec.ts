import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import type { CanonicalMessage } from '@svu/canonical';
import type { DirectoryUnit, SenderSystem } from '@svu/directory';
import amqp from 'amqplib';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, IngressPublisher, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor, onTimeAdmission } from '../support/messages';
import { hashKey, writeSenders } from '../support/senders';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * The edges of ingress (docs/senders.md): who may send, as whom, what a cancellation or an
 * acknowledgement may act on, message ids per sender system, limits, and what happens to what is
 * refused: an answer with the reason, a dead letter, an audit entry, and no delivery.
 */

const HOSPITAL_A = 'SE2120000002-HOSPA';
const HOSPITAL_B = 'SE2120000002-HOSPB';
const HOSPITAL_SLOW = 'SE2120000002-HOSPS';

let services: TestServices;
let simulator: RecipientSimulator;
let gateway: Awaited<ReturnType<typeof startInProcess>>;
let municipality: DirectoryUnit;
let healthCentre: DirectoryUnit;
let amqpUsers: string[] = [];

/** A sender system of this suite with a fresh bearer key. */
function system(id: string, hsaIds: string[], extra: Partial<SenderSystem> = {}): SenderSystem & { key: string } {
  const key = `${id}.${randomBytes(16).toString('hex')}`;
  return { id, name: id, hsaIds, keyHash: hashKey(key), ...extra, key };
}

const systemA = system('hospital-a', [HOSPITAL_A]);
const systemB = system('hospital-b', [HOSPITAL_B]);
const systemSlow = system('hospital-slow', [HOSPITAL_SLOW], { limits: { messagesPerSecond: 2 } });
let systemMunicipality: SenderSystem & { key: string };
const amqpUserA = `svu-edges-a-${randomBytes(3).toString('hex')}`;
const amqpUserStranger = `svu-edges-x-${randomBytes(3).toString('hex')}`;

function rabbitmqctl(args: string[]): void {
  execFileSync('rabbitmqctl', ['-q', ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** A RabbitMQ user of this suite's own, with rights on its vhost only; removed in afterAll. */
function addAmqpUser(name: string, password: string): string {
  rabbitmqctl(['add_user', name, password]);
  amqpUsers.push(name);
  rabbitmqctl(['set_permissions', '-p', services.name, name, '.*', '.*', '.*']);
  const url = new URL(services.amqpUrl);
  url.username = name;
  url.password = password;
  return url.toString();
}

const withSender = <M extends CanonicalMessage>(message: M, hsaId: string): M => ({ ...message, sender: { ...message.sender, hsaId } });

const postAs = async (who: { key: string } | undefined, body: Buffer, dialect = 'canonical', headers: Record<string, string> = {}) => {
  const res = await postIngress(gateway.url, dialect, body, who === undefined ? { authorization: '', ...headers } : { authorization: `Bearer ${who.key}`, ...headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
};

const deadLetter = async (id: string) =>
  (await query<Record<string, any>>(services.databaseUrl, 'SELECT reason, sender_system, message_id, payload, last_error FROM dead_letters WHERE id = $1', [id]))[0];
const storedMessages = (messageId: string) =>
  query<{ sender_system: string; sender_hsa: string }>(services.databaseUrl, 'SELECT sender_system, sender_hsa FROM messages WHERE message_id = $1 ORDER BY id', [messageId]);
const copyStates = (messageId: string) => query<{ recipient_hsa: string; state: string; acknowledged: boolean }>(
  services.databaseUrl,
  'SELECT recipient_hsa, state, acknowledged_at IS NOT NULL AS acknowledged FROM copies WHERE message_id = $1 ORDER BY id',
  [messageId],
);
const received = (unit: DirectoryUnit, messageId: string) => simulator.receivedBy(unit.hsaId).filter((r) => r.messageId === messageId);
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));

beforeAll(async () => {
  services = await createTestServices('edges');
  const port = await freePort();
  municipality = { hsaId: 'SE2120000002-MUNI1', name: 'Kommun', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/m1`, allowInsecureHttp: true } };
  healthCentre = { hsaId: 'SE2120000002-VC1', name: 'Vårdcentral', role: 'primary-care', dialect: 'lifecare', transport: { kind: 'amqp', routingKey: 'edges-vc1' } };
  const hospitalA: DirectoryUnit = { hsaId: HOSPITAL_A, name: 'Sjukhus A', role: 'hospital', dialect: 'canonical', transport: { kind: 'amqp', routingKey: 'edges-hospa' } };
  systemMunicipality = system('municipality', [municipality.hsaId]);
  const units = [municipality, healthCentre, hospitalA];
  simulator = new RecipientSimulator({ units, amqpUrl: services.amqpUrl });
  await simulator.start();
  const amqpA = { ...system('hospital-a-amqp', [HOSPITAL_A]), amqpUser: amqpUserA };
  const senders = [systemA, systemB, systemSlow, systemMunicipality, amqpA].map((s): SenderSystem => {
    const { key, ...rest } = s;
    void key;
    return rest;
  });
  gateway = await startInProcess(
    gatewayEnv(services, writeDirectory(units), {
      SVU_SENDERS: writeSenders(senders),
      SVU_RETRY_BUDGET: 'PT60S',
      SVU_REFUSED_BODY_MAX: '1024',
      SVU_REFUSED_RETENTION: 'PT4S',
    }),
  );
}, 60_000);

afterAll(async () => {
  await simulator?.stop();
  await gateway?.app.close();
  for (const user of amqpUsers) rabbitmqctl(['delete_user', user]);
  amqpUsers = [];
  await services?.cleanup();
}, 60_000);

describe('HTTP sender identity', () => {
  it('answers 401 without a credential or with a wrong key, and stores nothing of the body', async () => {
    const message = onTimeAdmission([municipality]);
    const forged = withSender(message, HOSPITAL_A);
    const before = await query<{ n: string }>(services.databaseUrl, 'SELECT count(*) AS n FROM dead_letters');
    const none = await postAs(undefined, bytesOf(forged, 'canonical'));
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ reason: 'unauthenticated' });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await postAs({ key: `${systemA.id}.not-the-key` }, bytesOf(forged, 'canonical'));
    expect(wrong).toMatchObject({ status: 401, json: { reason: 'unauthenticated', error: 'the bearer key is not valid' } });
    const unknownSystem = await postAs({ key: 'nobody.key' }, bytesOf(forged, 'canonical'));
    expect(unknownSystem.status).toBe(401);
    expect(await storedMessages(forged.messageId)).toEqual([]);
    expect(await query<{ n: string }>(services.databaseUrl, 'SELECT count(*) AS n FROM dead_letters')).toEqual(before);
    await settle();
    expect(received(municipality, forged.messageId)).toEqual([]);
  }, 30_000);

  it('takes a message from a system that may send as its sender, and records which system sent it', async () => {
    const message = withSender(onTimeAdmission([municipality]), HOSPITAL_A);
    expect((await postAs(systemA, bytesOf(message, 'canonical'))).status).toBe(202);
    expect(await storedMessages(message.messageId)).toEqual([{ sender_system: systemA.id, sender_hsa: HOSPITAL_A }]);
    await eventually(() => received(municipality, message.messageId)[0]);
  }, 30_000);

  it('refuses with 403 sender-not-allowed a sender HSA id the credential may not use: kept as a dead letter, audited, never delivered', async () => {
    const message = withSender(onTimeAdmission([municipality, healthCentre]), HOSPITAL_A);
    const answer = await postAs(systemB, bytesOf(message, 'canonical'));
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ reason: 'sender-not-allowed', messageId: message.messageId });
    expect(answer.json['error']).toContain(HOSPITAL_A);
    const kept = await deadLetter(answer.json['deadLetterId']);
    expect(kept).toMatchObject({ reason: 'sender-not-allowed', sender_system: systemB.id, message_id: message.messageId });
    const audit = await query<{ username: string; action: string; target: string }>(services.databaseUrl, 'SELECT username, action, target FROM audit_log WHERE target = $1', [
      `dead-letter:${answer.json['deadLetterId']}`,
    ]);
    expect(audit).toEqual([{ username: `sender-system:${systemB.id}`, action: 'ingress-refused', target: `dead-letter:${answer.json['deadLetterId']}` }]);
    expect(await storedMessages(message.messageId)).toEqual([]);
    await settle();
    expect([...received(municipality, message.messageId), ...received(healthCentre, message.messageId)]).toEqual([]);
  }, 30_000);

  it('refuses a request a browser makes (it names an Origin), so no web page can post here', async () => {
    const message = withSender(onTimeAdmission([municipality]), HOSPITAL_A);
    const answer = await postAs(systemA, bytesOf(message, 'canonical'), 'canonical', { origin: 'https://evil.example', 'content-type': 'text/plain' });
    expect(answer).toMatchObject({ status: 403, json: { reason: 'browser-request' } });
    expect(await storedMessages(message.messageId)).toEqual([]);
  }, 30_000);
});

describe('ownership of cancellations and acknowledgements', () => {
  it('refuses a cancellation from another sender system in an unrelated episode: the pending copy stays and is delivered', async () => {
    simulator.behave(municipality.hsaId, { mode: 'fail', status: 503 });
    try {
      const admission = withSender(onTimeAdmission([municipality]), HOSPITAL_A);
      expect((await postAs(systemA, bytesOf(admission, 'canonical'))).status).toBe(202);
      const cancellation = withSender(exampleFor('cancellation', [municipality]), HOSPITAL_B);
      (cancellation.body as { cancelsMessageId: string }).cancelsMessageId = admission.messageId;
      const answer = await postAs(systemB, bytesOf(cancellation, 'canonical'));
      expect(answer).toMatchObject({ status: 403, json: { reason: 'cancellation-not-owner', messageId: cancellation.messageId } });
      expect(await deadLetter(answer.json['deadLetterId'])).toMatchObject({ reason: 'cancellation-not-owner', sender_system: systemB.id });
      const deviations = await query<{ kind: string; unit_hsa: string }>(services.databaseUrl, 'SELECT kind, unit_hsa FROM deviations WHERE message_id = $1', [cancellation.messageId]);
      expect(deviations).toEqual([{ kind: 'cancellation-not-owner', unit_hsa: HOSPITAL_B }]);
      expect((await copyStates(admission.messageId)).map((c) => c.state)).not.toContain('cancelled');
      expect(await storedMessages(cancellation.messageId)).toEqual([]);

      // The same system may not cancel it from another episode either.
      const elsewhere = withSender(exampleFor('cancellation', [municipality]), HOSPITAL_A);
      (elsewhere.body as { cancelsMessageId: string }).cancelsMessageId = admission.messageId;
      expect((await postAs(systemA, bytesOf(elsewhere, 'canonical'))).json).toMatchObject({ reason: 'cancellation-not-owner' });
      // Another system's id and an id no one has are refused alike: the answer tells no one which ids exist.
      const unknown = withSender(exampleFor('cancellation', [municipality], { episodeId: admission.episodeId }), HOSPITAL_B);
      (unknown.body as { cancelsMessageId: string }).cancelsMessageId = `NO-SUCH-${randomBytes(4).toString('hex')}`;
      const unknownAnswer = await postAs(systemB, bytesOf(unknown, 'canonical'));
      expect(unknownAnswer).toMatchObject({ status: 403, json: { reason: 'cancellation-not-owner' } });
      expect((await deadLetter(unknownAnswer.json['deadLetterId']))?.last_error ?? '').not.toContain(systemA.id);

      simulator.behave(municipality.hsaId, { mode: 'accept' });
      await eventually(() => received(municipality, admission.messageId)[0], 20_000, 'the admission delivered');
      expect([...received(municipality, cancellation.messageId), ...received(municipality, elsewhere.messageId)]).toEqual([]);
    } finally {
      simulator.behave(municipality.hsaId, { mode: 'accept' });
    }
  }, 40_000);

  it('lets the sender system cancel its own message in the same episode', async () => {
    simulator.behave(municipality.hsaId, { mode: 'fail', status: 503 });
    try {
      const admission = withSender(onTimeAdmission([municipality]), HOSPITAL_A);
      expect((await postAs(systemA, bytesOf(admission, 'canonical'))).status).toBe(202);
      const cancellation = withSender(exampleFor('cancellation', [municipality], { episodeId: admission.episodeId }), HOSPITAL_A);
      (cancellation.body as { cancelsMessageId: string }).cancelsMessageId = admission.messageId;
      expect((await postAs(systemA, bytesOf(cancellation, 'canonical'))).status).toBe(202);
      expect((await copyStates(admission.messageId)).map((c) => c.state)).toEqual(['cancelled']);
    } finally {
      simulator.behave(municipality.hsaId, { mode: 'accept' });
    }
  }, 30_000);

  it('refuses a forged acknowledgement: not from the unit the copy went to, or as a unit the credential may not use', async () => {
    const admission = withSender(onTimeAdmission([municipality, healthCentre]), HOSPITAL_A);
    expect((await postAs(systemA, bytesOf(admission, 'canonical'))).status).toBe(202);
    await eventually(() => received(municipality, admission.messageId)[0]);
    await eventually(() => received(healthCentre, admission.messageId)[0]);
    const ack = (from: string, status: 'received' | 'rejected') => {
      const m = withSender(exampleFor('acknowledgement', [HOSPITAL_A], { episodeId: admission.episodeId }), from) as any;
      m.body = { acknowledgesMessageId: admission.messageId, status, ...(status === 'rejected' ? { reason: 'Fel mottagare' } : {}) };
      return m as CanonicalMessage;
    };
    // Hospital B was sent no copy: its rejection acts on nothing.
    const notAddressed = ack(HOSPITAL_B, 'rejected');
    const first = await postAs(systemB, bytesOf(notAddressed, 'canonical'));
    expect(first).toMatchObject({ status: 403, json: { reason: 'acknowledgement-not-addressed' } });
    // Claiming to be the municipality needs the municipality's credential.
    const claimed = await postAs(systemB, bytesOf(ack(municipality.hsaId, 'rejected'), 'canonical'));
    expect(claimed).toMatchObject({ status: 403, json: { reason: 'sender-not-allowed' } });
    expect((await copyStates(admission.messageId)).every((c) => !c.acknowledged)).toBe(true);
    const deviations = await query<{ kind: string; message_id: string }>(services.databaseUrl, 'SELECT kind, message_id FROM deviations WHERE message_id = ANY($1) ORDER BY id', [
      [admission.messageId, notAddressed.messageId],
    ]);
    expect(deviations.filter((d) => d.kind !== 'late-on-arrival')).toEqual([{ kind: 'acknowledgement-not-addressed', message_id: notAddressed.messageId }]);
    await settle();
    expect(simulator.receivedBy(HOSPITAL_A)).toEqual([]);

    // An acknowledgement in another episode acts on nothing, even from the unit the copy went to.
    const otherEpisode = ack(municipality.hsaId, 'rejected') as any;
    otherEpisode.episodeId = `${admission.episodeId}-OTHER`;
    expect((await postAs(systemMunicipality, bytesOf(otherEpisode, 'canonical'))).json).toMatchObject({ reason: 'acknowledgement-not-addressed' });
    expect((await copyStates(admission.messageId)).every((c) => !c.acknowledged)).toBe(true);
    // The municipality's own system acknowledges its copy, and only that one.
    expect((await postAs(systemMunicipality, bytesOf(ack(municipality.hsaId, 'received'), 'canonical'))).status).toBe(202);
    expect((await copyStates(admission.messageId)).map((c) => `${c.recipient_hsa} ${c.acknowledged}`)).toEqual([`${municipality.hsaId} true`, `${healthCentre.hsaId} false`]);
  }, 40_000);
});

describe('message ids per sender system', () => {
  it('accepts another system’s message under an id already used (no squatting), a repeat as a duplicate, and answers 409 for other content', async () => {
    const messageId = `SQUAT-${randomBytes(4).toString('hex')}`;
    // Both to the same unit: a recipient that honours Idempotency-Key must not take one for a repeat of the other.
    const squatter = withSender(onTimeAdmission([municipality], { messageId }), HOSPITAL_B);
    expect((await postAs(systemB, bytesOf(squatter, 'canonical'))).status).toBe(202);
    const real = withSender(onTimeAdmission([municipality], { messageId }), HOSPITAL_A);
    const accepted = await postAs(systemA, bytesOf(real, 'canonical'));
    expect(accepted).toMatchObject({ status: 202, json: { messageId } });
    expect(accepted.json['duplicate']).toBeUndefined();
    expect(await storedMessages(messageId)).toEqual([
      { sender_system: systemB.id, sender_hsa: HOSPITAL_B },
      { sender_system: systemA.id, sender_hsa: HOSPITAL_A },
    ]);
    await eventually(() => received(municipality, messageId)[0]);

    expect(await postAs(systemA, bytesOf(real, 'canonical'))).toMatchObject({ status: 202, json: { messageId, duplicate: true } });
    // The same message in another dialect is the same message.
    expect(await postAs(systemA, bytesOf(real, 'samsa'), 'samsa')).toMatchObject({ status: 202, json: { duplicate: true } });
    const other = { ...real, episodeId: `${real.episodeId}-other` };
    const conflict = await postAs(systemA, bytesOf(other, 'canonical'));
    expect(conflict).toMatchObject({ status: 409, json: { reason: 'message-id-conflict', messageId } });
    expect(await deadLetter(conflict.json['deadLetterId'])).toMatchObject({ reason: 'message-id-conflict', sender_system: systemA.id });
    expect(await storedMessages(messageId)).toHaveLength(2);
    await settle();
    const both = received(municipality, messageId);
    expect(both).toHaveLength(2);
    expect(new Set(both.map((r) => r.idempotencyKey)).size).toBe(2);
  }, 40_000);
});

describe('limits and sizes', () => {
  it('answers 429 with Retry-After to a sender system over its rate, while another is served', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const answer = await postAs(systemSlow, bytesOf(withSender(onTimeAdmission([municipality]), HOSPITAL_SLOW), 'canonical'));
      statuses.push(answer.status);
      if (answer.status === 429) {
        retryAfter = answer.headers.get('retry-after');
        expect(answer.json).toMatchObject({ reason: 'rate-limited' });
      }
      expect((await postAs(systemA, bytesOf(withSender(onTimeAdmission([municipality]), HOSPITAL_A), 'canonical'))).status).toBe(202);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(2);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  }, 30_000);

  /** Writes `head` and `body` on a new connection; what came back once the server closed it (fails after 10 s open). */
  async function rawExchange(head: string, body: Buffer | string): Promise<string> {
    const socket = connectTcp(new URL(gateway.url).port === '' ? 80 : Number(new URL(gateway.url).port), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(head);
    socket.write(body);
    // A second request on the same connection: it must not be left hanging.
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`connection left open; got: ${text.slice(0, 200)}`)), 10_000))]);
    } finally {
      socket.destroy();
    }
    return text;
  }

  it('answers 413 over 256 KiB and closes the connection, so nothing waits on it', async () => {
    const size = 300_000;
    const text = await rawExchange(`POST /ingress/canonical HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${systemA.key}\r\nContent-Length: ${size}\r\n\r\n`, Buffer.alloc(size, 'a'));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  }, 30_000);

  it('answers 413 at once to a body declared over 256 KiB, without waiting for bytes that may never come', async () => {
    const text = await rawExchange(`POST /ingress/canonical HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${systemA.key}\r\nContent-Length: 999999999\r\n\r\n`, '{');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('is larger than 262144 bytes');
    expect(text.toLowerCase()).toContain('connection: close');
  }, 30_000);

  it('takes a sender hanging up before its body is whole as nothing sent: no error logged, nothing kept', async () => {
    const socket = connectTcp(new URL(gateway.url).port === '' ? 80 : Number(new URL(gateway.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(`POST /ingress/canonical HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${systemA.key}\r\nContent-Length: 100\r\n\r\n{"me`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    const log = await eventually(() => {
      const text = readFileSync(gateway.config.logFile!, 'utf8');
      return text.includes('ingress request ended before it was whole') ? text : undefined;
    }, 10_000, 'the hang-up logged');
    // Anyone on the network can hang up: that must not fill the error log (it was an error with a stack).
    const errors = log.split('\n').filter((line) => /"level":(50|60)/.test(line) && /aborted/.test(line));
    expect(errors).toEqual([]);
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  }, 30_000);

  it('answers 413 to a chunked body once it passes 256 KiB, and closes the connection', async () => {
    const chunk = Buffer.alloc(100_000, 'a');
    const chunked = Buffer.concat([0, 1, 2].map(() => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])));
    const text = await rawExchange(`POST /ingress/canonical HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${systemA.key}\r\nTransfer-Encoding: chunked\r\n\r\n`, chunked);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  }, 30_000);

  it('keeps at most SVU_REFUSED_BODY_MAX bytes of a refused body, and removes it after SVU_REFUSED_RETENTION', async () => {
    const junk = Buffer.from(`{"messageId": "JUNK-${randomBytes(4).toString('hex')}", "padding": "${'x'.repeat(3_000)}"}`);
    const answer = await postAs(systemA, junk);
    expect(answer.status).toBe(400);
    const kept = await deadLetter(answer.json['deadLetterId']);
    expect(kept!['payload']).toHaveLength(1024);
    expect(kept!['last_error']).toBe(`body cut to its first 1024 of ${junk.length} bytes`);
    const pruned = await eventually(async () => {
      const row = await deadLetter(answer.json['deadLetterId']);
      return row!['payload'] === null ? row : undefined;
    }, 20_000, 'the body removed');
    expect(pruned['last_error']).toContain('body removed after the retention period');
  }, 30_000);
});

describe('AMQP sender identity', () => {
  it('keeps a message without user_id, or with a user no system has, as an unauthenticated dead letter without its body', async () => {
    const before = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE reason = 'unauthenticated'");
    const anonymous = new IngressPublisher(services.amqpUrl, 'svu', null);
    const strangerUrl = addAmqpUser(amqpUserStranger, randomBytes(8).toString('hex'));
    const stranger = new IngressPublisher(strangerUrl);
    const messages = [withSender(onTimeAdmission([municipality]), HOSPITAL_A), withSender(onTimeAdmission([municipality]), HOSPITAL_A)];
    try {
      await anonymous.publish('canonical', bytesOf(messages[0]!, 'canonical'));
      await stranger.publish('canonical', bytesOf(messages[1]!, 'canonical'));
    } finally {
      await anonymous.close();
      await stranger.close();
    }
    const rows = await eventually(async () => {
      const r = await query<Record<string, any>>(services.databaseUrl, "SELECT payload, last_error, message_id, dialect FROM dead_letters WHERE reason = 'unauthenticated' AND NOT (id = ANY($1)) ORDER BY id", [
        before.map((b) => b.id),
      ]);
      return r.length === 2 ? r : undefined;
    });
    expect(rows.map((r) => [r['payload'], r['message_id'], r['dialect']])).toEqual([
      [null, null, 'canonical'],
      [null, null, 'canonical'],
    ]);
    expect(rows.map((r) => r['last_error'] as string).sort()).toEqual([
      expect.stringMatching(/^no user_id property; body not kept: \d+ bytes, sha256 [0-9a-f]{64}, routing key canonical$/),
      expect.stringMatching(/^user_id names no sender system; body not kept: \d+ bytes, sha256 [0-9a-f]{64}, routing key canonical$/),
    ]);
    for (const m of messages) expect(await storedMessages(m.messageId)).toEqual([]);
    await settle();
    for (const m of messages) expect(received(municipality, m.messageId)).toEqual([]);
  }, 40_000);

  it('maps user_id to its sender system: what it may send is taken, what it may not is refused', async () => {
    const url = addAmqpUser(amqpUserA, randomBytes(8).toString('hex'));
    const publisher = new IngressPublisher(url);
    const allowed = withSender(onTimeAdmission([municipality]), HOSPITAL_A);
    const notAllowed = withSender(onTimeAdmission([municipality]), HOSPITAL_B);
    try {
      await publisher.publish('samsa', bytesOf(allowed, 'samsa'));
      await publisher.publish('samsa', bytesOf(notAllowed, 'samsa'));
    } finally {
      await publisher.close();
    }
    await eventually(() => received(municipality, allowed.messageId)[0]);
    expect(await storedMessages(allowed.messageId)).toEqual([{ sender_system: 'hospital-a-amqp', sender_hsa: HOSPITAL_A }]);
    const refused = await eventually(async () => (await query<Record<string, any>>(services.databaseUrl, 'SELECT reason, sender_system FROM dead_letters WHERE message_id = $1', [notAllowed.messageId]))[0]);
    expect(refused).toEqual({ reason: 'sender-not-allowed', sender_system: 'hospital-a-amqp' });
    await settle();
    expect(received(municipality, notAllowed.messageId)).toEqual([]);
  }, 40_000);

  it('cannot claim another user’s user_id: RabbitMQ refuses the publish', async () => {
    const connection = await amqp.connect(services.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      const refused = new Promise<unknown>((resolve) => channel.on('error', resolve));
      channel.publish('svu.ingress', 'canonical', Buffer.from('{}'), { userId: amqpUserA });
      expect(String(await refused)).toContain('PRECONDITION_FAILED');
    } finally {
      await connection.close().catch(() => undefined);
    }
  }, 30_000);
});
