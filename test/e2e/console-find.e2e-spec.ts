import type { CanonicalMessage } from '@svu/canonical';
import type { DirectoryUnit } from '@svu/directory';
import { withCheckDigit } from '@svu/identity';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, canonicalOf, exampleFor } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { apiCall, startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

/** Finding a message (search, timeline, units' names, error detail) and correct-and-replay in the message's own dialect. */
let services: TestServices;
let simulator: RecipientSimulator;
let base: string;
let units: DirectoryUnit[];
let viewer: string;
let operator: string;
let port: number;
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));

const call = (method: string, path: string, token?: string, body?: unknown) => apiCall(base, method, path, token, body);
const ingest = (format: string, bytes: Buffer) => postIngress(base, format, bytes).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
let patientCounter = 100;
/** A message of `type` to `to` whose patient has an identity number no other test uses. */
function withOwnPatient(type: 'message' | 'admission', to: DirectoryUnit[]): CanonicalMessage {
  const message = exampleFor(type, to) as unknown as { patient: { id: string } };
  patientCounter += 1;
  message.patient.id = withCheckDigit(`19500101${patientCounter}`);
  return message as unknown as CanonicalMessage;
}

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'console-find',
    units: (simulatorPort) => {
      port = simulatorPort;
      const url = (path: string) => ({ kind: 'http' as const, url: `http://127.0.0.1:${port}${path}`, allowInsecureHttp: true });
      return [
        { hsaId: 'SE2120000007-LIFE', name: 'Hemsjukvården Livet', role: 'municipal-health-care', dialect: 'lifecare', transport: url('/life') },
        { hsaId: 'SE2120000007-SLOW', name: 'Hemtjänst Långsam', role: 'municipal-health-care', dialect: 'samsa', transport: url('/slow') },
      ];
    },
    settings: { SVU_RETRY_BUDGET: 'PT1H' },
    clock,
  });
  ({ services, simulator, base, viewer, operator, units } = gateway);
}, 60_000);

afterAll(() => gateway?.close(), 60_000);

describe('search and timeline', () => {
  it('finds a retrying copy by message id and episode id; its timeline shows each attempt with endpoint, status and the start of the answer', async () => {
    simulator.behave(units[1]!.hsaId, { mode: 'fail', status: 503 });
    const message = exampleFor('message', [units[0]!, units[1]!]);
    expect((await ingest('samsa', bytesOf(message, 'samsa'))).status).toBe(202);
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'retrying'", [message.messageId])).length > 0 ? true : undefined));
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));

    for (const q of [message.messageId, message.episodeId]) {
      const found = await call('GET', `/api/messages?q=${encodeURIComponent(q)}`, viewer);
      expect(found.status).toBe(200);
      expect(found.body.items).toHaveLength(1);
      expect(found.body.items[0]).toMatchObject({ messageId: message.messageId, type: 'message', episodeId: message.episodeId, senderHsa: message.sender.hsaId, refusedAs: null });
      expect(found.body.items[0].copies).toEqual(expect.arrayContaining([
        { recipientHsa: units[0]!.hsaId, recipientName: 'Hemsjukvården Livet', state: expect.stringMatching(/delivered|acknowledged/) },
        { recipientHsa: units[1]!.hsaId, recipientName: 'Hemtjänst Långsam', state: expect.stringMatching(/retrying|sending/) },
      ]));
    }

    const timeline = await call('GET', `/api/messages/${message.messageId}`, viewer);
    expect(timeline.status).toBe(200);
    expect(timeline.body.messages).toHaveLength(1);
    const m = timeline.body.messages[0];
    expect(m).toMatchObject({ messageId: message.messageId, dialect: 'samsa', ingress: 'http', senderHsa: message.sender.hsaId });
    const slow = m.copies.find((c: any) => c.recipientHsa === units[1]!.hsaId);
    expect(slow).toMatchObject({ recipientName: 'Hemtjänst Långsam', lastError: 'HTTP 503', lastAttempt: { endpoint: `http://127.0.0.1:${port}/slow`, status: 503, responseStart: 'simulated failure' } });
    const failed = slow.events.filter((e: any) => e.attempt !== null);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]).toMatchObject({ state: 'retrying', detail: 'HTTP 503', attempt: { endpoint: `http://127.0.0.1:${port}/slow`, status: 503, responseStart: 'simulated failure' } });
    const times = slow.events.map((e: any) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const life = m.copies.find((c: any) => c.recipientHsa === units[0]!.hsaId);
    expect(life.events.map((e: any) => e.state)).toContain('delivered');

    // The overview's last errors carry the same detail.
    const overview = (await call('GET', '/api/overview', viewer)).body;
    expect(overview.lastErrors).toEqual(expect.arrayContaining([
      expect.objectContaining({ messageId: message.messageId, endpoint: `http://127.0.0.1:${port}/slow`, httpStatus: 503, responseStart: 'simulated failure' }),
    ]));
    simulator.behave(units[1]!.hsaId, { mode: 'accept' });
  }, 60_000);

  it('finds a message refused at ingress, linked to its dead letter; a message id nobody used is 404', async () => {
    const message = exampleFor('admission', [units[0]!]);
    const broken = bytesOf(message, 'lifecare').toString('utf8').replace('SOMATIK', 'KIRURGI');
    const { body } = await ingest('lifecare', Buffer.from(broken));
    const found = (await call('GET', `/api/messages?q=${message.messageId}`, operator)).body;
    expect(found.items).toEqual([expect.objectContaining({ messageId: message.messageId, refusedAs: 'invalid-message', deadLetterId: body.deadLetterId, copies: [] })]);
    const timeline = (await call('GET', `/api/messages/${message.messageId}`, operator)).body;
    expect(timeline).toMatchObject({ messages: [], refused: [{ deadLetterId: body.deadLetterId, reason: 'invalid-message', dialect: 'lifecare' }] });
    expect((await call('GET', '/api/messages/NOBODY-USED-THIS', operator)).status).toBe(404);
  }, 30_000);

  it('refuses a missing, empty or too long search with a 400 naming q', async () => {
    for (const q of ['', undefined, 'x'.repeat(201)]) {
      const res = await call('GET', `/api/messages${q === undefined ? '' : `?q=${q}`}`, operator);
      expect({ q: q?.length, status: res.status }).toEqual({ q: q?.length, status: 400 });
      expect(JSON.stringify(res.body)).toMatch(/q/);
    }
    expect((await call('GET', `/api/messages/${'x'.repeat(201)}`, operator)).status).toBe(400);
  });

  it('finds a patient\'s messages by identity number for an operator, audited without the number; refuses a viewer with 403 naming q', async () => {
    const message = withOwnPatient('message', [units[0]!]);
    expect((await ingest('samsa', bytesOf(message, 'samsa'))).status).toBe(202);
    const id = message.patient!.id;
    for (const form of [id, `${id.slice(0, 8)}-${id.slice(8)}`, `${id.slice(2, 8)}-${id.slice(8)}`]) {
      const found = await call('GET', `/api/messages?q=${encodeURIComponent(form)}`, operator);
      expect({ form, status: found.status }).toEqual({ form, status: 200 });
      expect(found.body.byIdentityNumber).toBe(true);
      expect(found.body.items.map((i: any) => i.messageId)).toEqual([message.messageId]);
    }
    const refused = await call('GET', `/api/messages?q=${id}`, viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('q: viewers may not search by an identity number');
    const audit = (await call('GET', '/api/audit', operator)).body.items as Array<{ username: string; action: string; detail: any }>;
    const searches = audit.filter((a) => a.action === 'search-identity-number');
    expect(searches.length).toBeGreaterThanOrEqual(3);
    expect(searches[0]).toMatchObject({ username: OPERATOR.username, detail: { hits: 1 } });
    expect(JSON.stringify(audit)).not.toContain(id.slice(2));
    // The store keeps a hash, and no index of the numbers in clear.
    const [row] = await query<{ hash: Buffer }>(services.databaseUrl, 'SELECT patient_id_hash AS hash FROM messages WHERE message_id = $1', [message.messageId]);
    expect(row!.hash).toHaveLength(32);
  }, 30_000);

  it('names the directory\'s units for any signed-in user', async () => {
    const list = await call('GET', '/api/units', viewer);
    expect(list.status).toBe(200);
    expect(list.body).toEqual(expect.arrayContaining([{ hsaId: units[0]!.hsaId, name: 'Hemsjukvården Livet', role: 'municipal-health-care', transport: 'http' }]));
    expect((await call('GET', '/api/units')).status).toBe(401);
  });
});

describe('correct and replay in the message\'s own dialect', () => {
  it('shows a webcare message whose lifecare recipient refused it in webcare (Latin-1), and an unchanged correction is routed, translated and delivered', async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 400 });
    const message = exampleFor('message', [units[0]!]);
    const original = bytesOf(message, 'webcare');
    expect(original.toString('latin1')).toMatch(/[\u00c0-\u00ff]/);
    expect((await ingest('webcare', original)).status).toBe(202);
    const [dead] = await eventually(async () => {
      const rows = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    const id = dead!.id;
    const detail = (await call('GET', `/api/dead-letters/${id}`, operator)).body;
    expect(detail).toMatchObject({
      dialect: 'webcare',
      recipientDialect: 'lifecare',
      recipientName: 'Hemsjukvården Livet',
      senderHsa: message.sender.hsaId,
      replayable: true,
      lastError: 'HTTP 400',
      lastAttempt: { endpoint: `http://127.0.0.1:${port}/life`, status: 400, responseStart: 'simulated failure' },
    });
    expect(detail.payload).toBe(original.toString('latin1'));
    expect(detail.payload).not.toContain('\uFFFD');
    expect(detail.attempts.find((a: any) => a.state === 'dead-lettered')).toMatchObject({ attempt: { status: 400 } });

    // The dead-letter list names the sender too.
    const listed = (await call('GET', `/api/dead-letters?q=${message.messageId}`, viewer)).body.items;
    expect(listed[0]).toMatchObject({ senderHsa: message.sender.hsaId, recipientName: 'Hemsjukvården Livet' });

    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    const corrected = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: detail.payload, dialect: detail.dialect });
    expect({ status: corrected.status, body: corrected.body }).toEqual({ status: 201, body: { status: 'corrected', messageId: message.messageId } });
    const got = await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    expect(canonicalOf('lifecare', got.bytes).patient).toEqual(message.patient);
  }, 60_000);

  it('corrects a copy\'s message when edited, keeping its ids; refuses another dialect or a changed message id', async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 422 });
    const message = exampleFor('message', [units[0]!]);
    expect((await ingest('webcare', bytesOf(message, 'webcare'))).status).toBe(202);
    const [dead] = await eventually(async () => {
      const rows = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    const id = dead!.id;
    const shown = (await call('GET', `/api/dead-letters/${id}`, operator)).body.payload as string;
    const otherDialect = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: bytesOf(message, 'lifecare').toString('utf8'), dialect: 'lifecare' });
    expect(otherDialect.status).toBe(400);
    expect(otherDialect.body.message).toMatch(/^dialect: /);
    const renamed = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: shown.replaceAll(message.messageId, `${message.messageId}-X`) });
    expect(renamed.status).toBe(400);
    expect(renamed.body.message).toMatch(/^payload: messageId must stay/);

    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    const edited = shown.replace('Hej!', 'Hej igen, på nytt!');
    expect(edited).not.toBe(shown);
    expect((await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: edited })).status).toBe(201);
    const got = await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    expect(JSON.stringify(canonicalOf('lifecare', got.bytes).body)).toContain('Hej igen, på nytt!');
    const timeline = (await call('GET', `/api/messages/${message.messageId}`, operator)).body;
    expect(timeline.messages[0].deadLetters).toEqual([expect.objectContaining({ id, resolution: 'corrected' })]);
  }, 60_000);

  it('resolves the dead letter of a copy its sender then cancels (nothing left to replay), in the cancellation\'s transaction', async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 400 });
    const message = exampleFor('discharge-estimate', [units[0]!]);
    expect((await ingest('canonical', bytesOf(message, 'canonical'))).status).toBe(202);
    const [dead] = await eventually(async () => {
      const rows = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    expect((await call('GET', `/api/dead-letters/${dead!.id}`, operator)).body).toMatchObject({ resolvedAt: null, replayable: true });
    const cancellation = exampleFor('cancellation', [units[0]!], { episodeId: message.episodeId });
    (cancellation.body as { cancelsMessageId: string }).cancelsMessageId = message.messageId;
    expect((await ingest('canonical', bytesOf(cancellation, 'canonical'))).status).toBe(202);
    const detail = (await call('GET', `/api/dead-letters/${dead!.id}`, operator)).body;
    expect(detail).toMatchObject({ resolution: 'cancelled', resolvedBy: 'sender', resolutionDetail: `cancelled by its sender (message ${cancellation.messageId})` });
    expect(detail.resolvedAt).not.toBeNull();
    const open = (await call('GET', `/api/dead-letters?q=${message.messageId}`, viewer)).body.items;
    expect(open).toEqual([]);
    expect((await call('POST', `/api/dead-letters/${dead!.id}/replay`, operator)).status).toBe(409);
    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  }, 60_000);

  it('offers no replay of an invalid message and refuses one with a 400 that points to correct', async () => {
    const message = exampleFor('admission', [units[0]!]);
    const broken = bytesOf(message, 'webcare').toString('latin1').replace('<VARDTYP>S</VARDTYP>', '<VARDTYP>Q</VARDTYP>');
    expect(broken).toContain('<VARDTYP>Q</VARDTYP>');
    const { body } = await ingest('webcare', Buffer.from(broken, 'latin1'));
    const id = body.deadLetterId as string;
    expect((await call('GET', `/api/dead-letters/${id}`, operator)).body).toMatchObject({ reason: 'invalid-message', replayable: false, dialect: 'webcare' });
    const replay = await call('POST', `/api/dead-letters/${id}/replay`, operator);
    expect(replay.status).toBe(400);
    expect(replay.body.message).toMatch(/correct it instead \(POST \/api\/dead-letters\/\d+\/correct\)/);
  }, 30_000);
});
