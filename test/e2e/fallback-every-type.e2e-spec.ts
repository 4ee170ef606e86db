import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { CanonicalMessage, MessageType } from '@svu/canonical';
import { parseDirectory, type DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { DispatchService } from '../../apps/gateway/src/deadlines/dispatch.service';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, query, writeDirectory } from '../support/gateway-harness';
import { municipalityName } from '@svu/municipalities';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

// Every type except acknowledgements falls back, cancellations follow documents,
// letters arrive after the postal delay, and episode facts come from what stands (README, Deadlines, fallback documents and day 0).

let services: TestServices;
let simulator: RecipientSimulator;
let failing: DirectoryUnit;
let none: DirectoryUnit;
const UNKNOWN = 'SE2120000009-OKAND1';
const apps: INestApplication[] = [];
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));
let url: string;
let watcher: DeadlineService;
let dispatch: DispatchService;

/** The contract examples' senders, as the sample directory knows them (name, organisation, phone, fax, address). */
const sampleDirectory = (() => {
  const parsed = parseDirectory(readFileSync('config/directory.json', 'utf8'));
  if (!parsed.ok) throw new Error('config/directory.json is invalid');
  return parsed.value;
})();

beforeAll(async () => {
  services = await createTestServices('fallback-types');
  const port = await freePort();
  failing = { hsaId: 'SE2120000004-FAIL1', name: 'Hemsjukvården Söder', organisation: 'Testkommunen', phone: '+46 31 555 10 00', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/fail`, allowInsecureHttp: true }, fax: '+46 31 555 10 11', postalAddress: ['Box 4', '411 04 Göteborg'] };
  none = { hsaId: 'SE2120000004-NONE1', name: 'Socialtjänsten Norr', organisation: 'Testkommunen', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 5', '971 85 Luleå'] };
  const senders = ['SE2321000131-E000000000001', 'SE2120001637-K000000001480', 'SE2321000131-P000000012345', 'SE2321000230-E000000007731'].map((hsaId) => sampleDirectory.lookup(hsaId)!);
  const units = [failing, none, ...senders];
  const env = gatewayEnv(services, writeDirectory(units), {
    SVU_RETRY_BUDGET: 'PT24H',
    SVU_RETRY_MAX: 'PT1S',
    SVU_DEADLINE_EVERY: 'PT1H', // rounds are run by the tests
    SVU_POSTAL_DELAY: 'PT1H',
  });
  simulator = new RecipientSimulator({ units: [failing] });
  await simulator.start();
  simulator.behave(failing.hsaId, { mode: 'fail', status: 503 });
  const app = await startGateway(loadConfig(env), clock);
  apps.push(app);
  url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  watcher = app.get(DeadlineService);
  dispatch = app.get(DispatchService);
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

function pdfText(pdf: Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'svu-fallback-')), 'doc.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

type Doc = {
  id: string;
  copy_id: string;
  message_id: string;
  recipient_hsa: string;
  kind: string;
  trigger: string;
  status: string;
  reference: string;
  pdf: Buffer;
};

const docsOf = (messageIds: readonly string[]) =>
  query<Doc>(services.databaseUrl, 'SELECT id, copy_id, message_id, recipient_hsa, kind, trigger, status, reference, pdf FROM fallback_documents WHERE message_id = ANY($1) ORDER BY id', [messageIds]);

async function send(message: CanonicalMessage): Promise<void> {
  expect((await postIngress(url, 'canonical', bytesOf(message, 'canonical'))).status).toBe(202);
}

/** Waits until every copy of the messages has been routed and the failing unit's copies tried once. */
async function settled(messageIds: readonly string[]): Promise<void> {
  await eventually(async () => {
    const rows = await query<{ recipient_hsa: string; state: string; attempts: number }>(services.databaseUrl, 'SELECT recipient_hsa, state, attempts FROM copies WHERE message_id = ANY($1)', [messageIds]);
    const ready = rows.every((r) => (r.recipient_hsa === failing.hsaId ? r.attempts > 0 || r.state === 'cancelled' : ['manual', 'dead-lettered', 'cancelled'].includes(r.state)));
    return ready && rows.length > 0 ? true : undefined;
  }, 30_000, 'copies routed and tried');
}

const TITLES: ReadonlyArray<[Exclude<MessageType, 'acknowledgement'>, string, string]> = [
  // type, title, what the content shows
  ['admission', 'Inskrivningsmeddelande', 'Höftfraktur'],
  ['discharge-estimate', 'Beräknat utskrivningsdatum', 'Beräknat utskrivningsdatum:'],
  ['care-contact', 'Fast vårdkontakt utsedd', 'Fast vårdkontakt:'],
  ['sip-invitation', 'Kallelse till SIP-möte', 'Mötesform:'],
  ['ready-for-discharge', 'Meddelande om utskrivningsklar patient', 'Dag 0:'],
  ['discharged', 'Utskrivningsmeddelande', 'Utskriven:'],
  ['message', 'Fritt meddelande', 'Rubrik:'],
  ['cancellation', 'Makulering av meddelande', 'MAKULERAT'],
];

const H = 3_600_000;
const at = (base: string, ms: number) => new Date(Date.parse(base) + ms).toISOString();

describe('a fallback document for every type but acknowledgements', () => {
  it('to a unit without electronic route and to an unknown unit at once, to a failing unit after the type\'s time: exactly one each, titled and filled in', async () => {
    const T0 = '2026-03-28T13:10:00Z';
    clock.set(T0);
    const messages = TITLES.map(([type]) => exampleFor(type, [failing.hsaId, none.hsaId, UNKNOWN]));
    // A cancellation must name a message of its own sender system in its episode (docs/senders.md):
    // one sent before it to another unit, so that nothing of it is withheld from these three.
    const cancellation = messages.find((m) => m.type === 'cancellation')!;
    const cancelled = exampleFor('message', ['SE2120000004-ELSEWHERE9'], { episodeId: cancellation.episodeId });
    (cancellation.body as { cancelsMessageId: string }).cancelsMessageId = cancelled.messageId;
    await send(cancelled);
    for (const m of messages) await send(m);
    const ids = messages.map((m) => m.messageId);
    await settled(ids);

    await Promise.all([watcher.tick(), watcher.tick()]);
    let docs = await docsOf(ids);
    expect(docs.filter((d) => d.recipient_hsa === failing.hsaId)).toEqual([]);
    expect(docs.map((d) => `${d.message_id} ${d.recipient_hsa} ${d.kind} ${d.trigger}`).sort()).toEqual(
      ids.flatMap((id) => [`${id} ${none.hsaId} letter no-electronic-route`, `${id} ${UNKNOWN} letter unknown-recipient`]).sort(),
    );

    // The failing unit: ready, discharged and SIP invitation after 2 h, the others after 4 h, an admission at notifyBy − 2 h.
    const failingDocs = async () => (await docsOf(ids)).filter((d) => d.recipient_hsa === failing.hsaId).map((d) => messages.find((m) => m.messageId === d.message_id)!.type).sort();
    clock.set(at(T0, 2 * H - 1000));
    await watcher.tick();
    expect(await failingDocs()).toEqual([]);
    // A copy that egress holds at the instant of a round (its retry in flight, every second here) is
    // skipped by that round and taken by a later one at the same time; never twice.
    const roundsUntil = async (expected: string[], first: () => Promise<unknown>) => {
      await first();
      for (let round = 1; round < 5 && JSON.stringify(await failingDocs()) !== JSON.stringify(expected); round++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await watcher.tick();
      }
      expect(await failingDocs()).toEqual(expected);
    };
    clock.set(at(T0, 2 * H));
    await roundsUntil(['discharged', 'ready-for-discharge', 'sip-invitation'], () => watcher.tick());
    clock.set(at(T0, 4 * H));
    await roundsUntil(['cancellation', 'care-contact', 'discharge-estimate', 'discharged', 'message', 'ready-for-discharge', 'sip-invitation'], () =>
      Promise.all([watcher.tick(), watcher.tick()]),
    );
    clock.set('2026-03-29T09:15:00Z'); // the admission's notifyBy 11:15 − 2 h
    await watcher.tick();
    await watcher.tick();

    docs = await docsOf(ids);
    expect(docs).toHaveLength(3 * TITLES.length);
    for (const [i, [type, title, shows]] of TITLES.entries()) {
      const message = messages[i]!;
      const sender = sampleDirectory.lookup(message.sender.hsaId)!;
      for (const recipient of [failing.hsaId, none.hsaId, UNKNOWN]) {
        const mine = docs.filter((d) => d.message_id === message.messageId && d.recipient_hsa === recipient);
        expect(mine).toHaveLength(1);
        const doc = mine[0]!;
        if (recipient === failing.hsaId) {
          expect([doc.kind, doc.trigger]).toEqual(['fax', type === 'admission' ? 'deadline-near' : 'delivery-overdue']);
        }
        const text = pdfText(doc.pdf);
        expect(text).toContain(title);
        expect(text).toContain(shows);
        expect(text).toContain(message.messageId);
        expect(text).toContain(doc.reference);
        expect(text).toContain(`Telefon: ${sender.phone}`);
        expect(text).toContain(sender.organisation);
        // The other recipients by name (the unknown one by its hsaId).
        for (const other of [failing, none].filter((u) => u.hsaId !== recipient)) expect(text).toContain(other.name);
        if (recipient !== UNKNOWN) expect(text).toContain(`${UNKNOWN} (saknas i enhetskatalogen)`);
        expect(text).toContain('Kvittens – bekräfta mottagandet');
        // The municipality by name as well as code (libs/municipalities).
        if (message.patient !== undefined) {
          const code = message.patient.municipality;
          expect(text).toContain(`${municipalityName(code)!} (kommunkod ${code})`);
        }
      }
    }
    expect(pdfText(docs.find((d) => d.recipient_hsa === none.hsaId)!.pdf)).toContain('971 85 Luleå');

    // A later electronic delivery is still recorded.
    simulator.behave(failing.hsaId, { mode: 'accept' });
    await eventually(async () => {
      const rows = await query<{ n: string }>(services.databaseUrl, "SELECT count(*) AS n FROM copies WHERE message_id = ANY($1) AND recipient_hsa = $2 AND state = 'delivered' AND fallback_at IS NOT NULL", [ids, failing.hsaId]);
      return Number(rows[0]!.n) === ids.length ? true : undefined;
    }, 30_000, 'late electronic deliveries');
    simulator.behave(failing.hsaId, { mode: 'fail', status: 503 });
  }, 120_000);
});

describe('cancellations follow documents', () => {
  it('withdraws documents not yet sent: they leave the queue, are shown withdrawn, audited, cannot be marked sent, and no cancellation document follows', async () => {
    clock.set('2026-07-01T08:00:00Z');
    const ready = exampleFor('ready-for-discharge', [none, failing]);
    await send(ready);
    await settled([ready.messageId]);
    clock.set('2026-07-01T10:00:00Z'); // the failing unit's copy (retrying) falls back too
    // A copy that egress holds at that moment (a probe of its failing recipient) is skipped, not
    // waited for (SKIP LOCKED): the watcher's next round takes it.
    const docs = await eventually(async () => {
      await watcher.tick();
      const made = await docsOf([ready.messageId]);
      return made.length >= 2 ? made : undefined;
    }, 20_000, 'both documents made');
    expect(docs.map((d) => d.recipient_hsa).sort()).toEqual([none.hsaId, failing.hsaId].sort());
    const waiting = (await dispatch.list('waiting', 500)).map((d) => d.id);
    for (const doc of docs) expect(waiting).toContain(doc.id);

    const cancel = exampleFor('cancellation', [none, failing], { episodeId: ready.episodeId });
    (cancel.body as { cancelsMessageId: string }).cancelsMessageId = ready.messageId;
    (cancel as { sender: unknown }).sender = ready.sender;
    await send(cancel);
    await watcher.tick();

    const stillWaiting = (await dispatch.list('waiting', 500)).map((d) => d.id);
    const withdrawn = await dispatch.list('withdrawn', 500);
    for (const doc of docs) {
      expect(stillWaiting).not.toContain(doc.id);
      expect(withdrawn.find((d) => d.id === doc.id)).toMatchObject({ status: 'withdrawn', withdrawnBy: cancel.messageId });
      expect(await dispatch.markSent(doc.id, 'letter', 'operatör Olsson')).toEqual({ refused: `fallback document ${doc.id} is not waiting (it is withdrawn)` });
      const audit = await query<{ username: string; action: string; detail: { cancelledBy: string } }>(services.databaseUrl, 'SELECT username, action, detail FROM audit_log WHERE target = $1', [`fallback-document:${doc.id}`]);
      expect(audit).toEqual([{ username: 'svu-gateway', action: 'withdraw-fallback-document', detail: expect.objectContaining({ cancelledBy: cancel.messageId, messageId: ready.messageId }) }]);
    }
    // No cancellation document follows a withdrawn one.
    expect(await docsOf([cancel.messageId])).toEqual([]);
    const copies = await query<{ message_id: string; recipient_hsa: string; state: string }>(services.databaseUrl, 'SELECT message_id, recipient_hsa, state FROM copies WHERE message_id = ANY($1) ORDER BY id', [[ready.messageId, cancel.messageId]]);
    const stateOf = (m: CanonicalMessage, unit: DirectoryUnit) => copies.find((c) => c.message_id === m.messageId && c.recipient_hsa === unit.hsaId)!.state;
    // The unit without a route never saw the notice: its copy is cancelled, and the cancellation withheld.
    expect([stateOf(ready, none), stateOf(cancel, none)]).toEqual(['cancelled', 'cancelled']);
    // The failing unit's copy is cancelled unless an attempt was under way (it may still arrive): the
    // cancellation is withheld exactly when the notice was.
    expect(stateOf(cancel, failing) === 'cancelled').toBe(stateOf(ready, failing) === 'cancelled');
    // The notice no longer sets day 0.
    const facts = await query(services.databaseUrl, 'SELECT day_zero FROM episode_facts WHERE episode_id = $1', [ready.episodeId]);
    expect(facts).toEqual([]);
  }, 60_000);

  it('sends a cancellation document the same way as the document already sent: by fax to the fax unit, by letter to the letter unit', async () => {
    clock.set('2026-07-02T08:00:00Z');
    const discharged = exampleFor('discharged', [failing, none]);
    await send(discharged);
    await settled([discharged.messageId]);
    clock.set('2026-07-02T10:00:00Z'); // 2 h: the failing unit's copy falls back too
    await watcher.tick();
    const docs = await docsOf([discharged.messageId]);
    expect(docs.map((d) => [d.recipient_hsa, d.kind]).sort()).toEqual([[failing.hsaId, 'fax'], [none.hsaId, 'letter']].sort());
    for (const d of docs) expect((await dispatch.markSent(d.id, d.kind as 'fax' | 'letter', 'operatör Olsson')).entry).toMatchObject({ status: 'sent' });

    clock.set('2026-07-02T11:00:00Z');
    const cancel = exampleFor('cancellation', [failing, none], { episodeId: discharged.episodeId });
    (cancel.body as { cancelsMessageId: string }).cancelsMessageId = discharged.messageId;
    (cancel as { sender: unknown }).sender = discharged.sender;
    await send(cancel);
    await watcher.tick();
    await watcher.tick();

    const followed = await docsOf([cancel.messageId]);
    expect(followed.map((d) => [d.recipient_hsa, d.kind, d.trigger]).sort()).toEqual(
      [[failing.hsaId, 'fax', 'follows-original'], [none.hsaId, 'letter', 'follows-original']].sort(),
    );
    for (const d of followed) {
      const original = docs.find((o) => o.recipient_hsa === d.recipient_hsa)!;
      const text = pdfText(d.pdf);
      expect(text).toContain('Makulering av meddelande');
      expect(text).toContain(`Utskrivningsmeddelande (meddelande-id ${discharged.messageId}) som skickades ${d.kind === 'fax' ? 'per fax' : 'per brev'} 2026-07-02 12:00 (svensk tid), referens ${original.reference}`);
    }
    // Neither unit's copy of the cancellation was withheld: both got the discharge by hand.
    const states = await query<{ recipient_hsa: string; state: string }>(services.databaseUrl, 'SELECT recipient_hsa, state FROM copies WHERE message_id = $1', [cancel.messageId]);
    expect(states.every((s) => s.state !== 'cancelled')).toBe(true);
    // A cancelled discharge does not set the discharge date.
    const facts = await query<{ discharged_at: Date | null }>(services.databaseUrl, 'SELECT discharged_at FROM episode_facts WHERE episode_id = $1', [discharged.episodeId]);
    expect(facts).toEqual([]);
  }, 60_000);
});

describe('delivery by hand tells the truth', () => {
  it('counts a letter as delivered at marked-sent time plus the postal delay (1 h here), a fax when marked sent', async () => {
    clock.set('2026-03-28T13:10:00Z');
    const early = exampleFor('admission', [none]); // notifyBy 2026-03-29T11:15:00Z
    const late = exampleFor('admission', [none]);
    const faxed = exampleFor('admission', [none]);
    const all = [early, late, faxed];
    for (const m of all) await send(m);
    await settled(all.map((m) => m.messageId));
    await watcher.tick();
    const docs = await docsOf(all.map((m) => m.messageId));
    const docOf = (m: CanonicalMessage) => docs.find((d) => d.message_id === m.messageId)!;

    clock.set('2026-03-29T11:14:30Z');
    const sentEarly = await dispatch.markSent(docOf(early).id, 'letter', 'operatör Olsson', new Date('2026-03-29T10:00:00Z'));
    expect(sentEarly.entry?.deliveredAt).toEqual(new Date('2026-03-29T11:00:00Z'));
    const sentLate = await dispatch.markSent(docOf(late).id, 'letter', 'operatör Olsson', new Date('2026-03-29T10:45:00Z'));
    expect(sentLate.entry?.deliveredAt).toEqual(new Date('2026-03-29T11:45:00Z'));
    const sentFax = await dispatch.markSent(docOf(faxed).id, 'fax', 'operatör Olsson', new Date('2026-03-29T11:14:00Z'));
    expect(sentFax.entry?.deliveredAt).toEqual(new Date('2026-03-29T11:14:00Z'));

    clock.set('2026-03-29T11:15:01Z');
    await watcher.tick();
    const missed = await query<{ message_id: string }>(services.databaseUrl, "SELECT message_id FROM deviations WHERE kind = 'deadline-missed' AND message_id = ANY($1)", [all.map((m) => m.messageId)]);
    expect(missed).toEqual([{ message_id: late.messageId }]);
    const manual = await query<{ message_id: string; manual_delivered_at: Date }>(services.databaseUrl, 'SELECT message_id, manual_delivered_at FROM copies WHERE message_id = $1', [late.messageId]);
    expect(manual[0]!.manual_delivered_at).toEqual(new Date('2026-03-29T11:45:00Z'));
  }, 60_000);
});

describe('episode facts from what stands', () => {
  async function facts(episodeId: string) {
    return (
      await query<{ day_zero: string | null; day_zero_message_id: string | null; ready_not_delivered: boolean | null; discharge_message_id: string | null }>(
        services.databaseUrl,
        "SELECT to_char(day_zero, 'YYYY-MM-DD') AS day_zero, day_zero_message_id, ready_not_delivered, discharge_message_id FROM episode_facts WHERE episode_id = $1",
        [episodeId],
      )
    )[0];
  }
  const cancellationOf = (m: CanonicalMessage) => {
    const cancel = exampleFor('cancellation', [none], { episodeId: m.episodeId });
    (cancel.body as { cancelsMessageId: string }).cancelsMessageId = m.messageId;
    (cancel as { sender: unknown }).sender = m.sender;
    return cancel;
  };

  it('day 0 stays with the first ready notice when it is sent again; if the first is cancelled, the next counts', async () => {
    clock.set('2026-07-05T08:00:00Z');
    const first = exampleFor('ready-for-discharge', [none]);
    (first as { sentAt: string }).sentAt = '2026-07-03T22:30:00Z'; // 00:30 on 4 July in Sweden
    const again = exampleFor('ready-for-discharge', [none], { episodeId: first.episodeId });
    (again as { sentAt: string }).sentAt = '2026-07-05T07:00:00Z';
    for (const m of [first, again]) await send(m);
    expect(await facts(first.episodeId)).toMatchObject({ day_zero: '2026-07-04', day_zero_message_id: first.messageId });

    const cancelled = exampleFor('ready-for-discharge', [none]);
    (cancelled as { sentAt: string }).sentAt = '2026-07-03T08:00:00Z';
    const next = exampleFor('ready-for-discharge', [none], { episodeId: cancelled.episodeId });
    (next as { sentAt: string }).sentAt = '2026-07-05T07:00:00Z';
    for (const m of [cancelled, next, cancellationOf(cancelled)]) await send(m);
    expect(await facts(cancelled.episodeId)).toMatchObject({ day_zero: '2026-07-05', day_zero_message_id: next.messageId });
  }, 60_000);

  it('a cancelled discharge does not set the discharge date; the one that stands does', async () => {
    const wrong = exampleFor('discharged', [none]);
    const right = exampleFor('discharged', [none], { episodeId: wrong.episodeId });
    for (const m of [wrong, cancellationOf(wrong), right]) await send(m);
    expect(await facts(wrong.episodeId)).toMatchObject({ discharge_message_id: right.messageId });
    const alone = exampleFor('discharged', [none]);
    for (const m of [alone, cancellationOf(alone)]) await send(m);
    expect(await facts(alone.episodeId)).toBeUndefined();
  }, 60_000);

  it('marks a ready notice that reached nobody, until its document is sent', async () => {
    clock.set('2026-07-06T08:00:00Z');
    const ready = exampleFor('ready-for-discharge', [none]);
    await send(ready);
    await settled([ready.messageId]);
    await watcher.tick();
    expect(await facts(ready.episodeId)).toMatchObject({ day_zero_message_id: ready.messageId, ready_not_delivered: true });
    const [doc] = await docsOf([ready.messageId]);
    await dispatch.markSent(doc!.id, 'fax', 'operatör Olsson');
    expect(await facts(ready.episodeId)).toMatchObject({ ready_not_delivered: false });
  }, 60_000);
});
