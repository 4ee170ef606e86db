import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor, onTimeAdmission } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { apiCall, startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

// Issue #18: manual dispatch that cannot notify twice (superseded documents, the check at the moment
// of marking, confirm and undo), and counts that tell the truth (at risk beyond the list's cap,
// deviations paged with their total, the report's share over notifications that were due).

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let viewer: string;
let operator: string;
let failing: DirectoryUnit;
let none: DirectoryUnit;
let accepting: DirectoryUnit;
const clock = new ManualClock(new Date());
const H = 3_600_000;

const call = (method: string, path: string, token?: string, body?: unknown) => apiCall(base, method, path, token, body);
const ingest = async (message: ReturnType<typeof exampleFor>) => expect((await postIngress(base, 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
const copyOf = async (messageId: string) =>
  (await query<{ id: string; state: string; manual_delivered_at: Date | null; delivered_at: Date | null }>(services.databaseUrl, 'SELECT id, state, manual_delivered_at, delivered_at FROM copies WHERE message_id = $1', [messageId]))[0];
const documentOf = async (messageId: string) => {
  await app.get(DeadlineService).tick();
  return eventually(async () => (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM fallback_documents WHERE message_id = $1', [messageId]))[0]);
};
const list = async (q = '') => (await call('GET', `/api/manual-dispatch${q}`, viewer)).body;
const audit = async () => ((await call('GET', '/api/audit?limit=500', viewer)).body as { items: Array<{ action: string; target: string; username: string }> }).items;

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'console-dispatch',
    units: (port) => [
      (failing = { hsaId: 'SE2120000007-FAIL', name: 'Hemsjukvården Solrosen', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/f`, allowInsecureHttp: true }, fax: '+46 31 555 70 00' }),
      (accepting = { hsaId: 'SE2120000007-OKAY', name: 'Hemtjänsten Lönnen', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/a`, allowInsecureHttp: true } }),
      (none = { hsaId: 'SE2120000007-NONE', name: 'Socialtjänsten Björken', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 7', '411 07 Göteborg'] }),
    ],
    settings: { SVU_RETRY_BUDGET: 'PT0.5S' },
    clock,
  });
  ({ services, simulator, app, base, viewer, operator } = gateway);
  simulator.behave(failing.hsaId, { mode: 'fail', status: 503 });
}, 60_000);

afterAll(() => gateway?.close(), 60_000);

describe('manual dispatch cannot notify twice', () => {
  it('a document whose copy is delivered electronically between list and click is refused (409, audited), and leaves the waiting list marked why', async () => {
    const message = exampleFor('message', [failing]);
    await ingest(message);
    await eventually(async () => ((await copyOf(message.messageId))?.state === 'dead-lettered' ? true : undefined), 20_000, 'dead-lettered');
    const doc = await documentOf(message.messageId);

    // The operator reads the list: the document waits, with its copy's state.
    const before = await list();
    expect(before.items.find((d: any) => d.id === doc.id)).toMatchObject({ status: 'waiting', copyState: 'dead-lettered', supersededBy: null, trigger: 'retries-exhausted' });

    // Meanwhile a replay delivers the copy electronically.
    simulator.behave(failing.hsaId, { mode: 'accept' });
    const letter = (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM dead_letters WHERE message_id = $1', [message.messageId]))[0]!;
    expect((await call('POST', `/api/dead-letters/${letter.id}/replay`, operator)).status).toBeLessThan(300);
    await eventually(async () => ((await copyOf(message.messageId))?.delivered_at ? true : undefined), 20_000, 'delivered electronically');

    // The click comes after: refused, with the reason, and the refusal audited.
    const refused = await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'fax' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/superseded: its copy was delivered electronically at \d{4}-/);
    expect((await copyOf(message.messageId))!.manual_delivered_at).toBeNull();
    expect((await audit()).some((a) => a.action === 'mark-sent-refused' && a.target === `fallback-document:${doc.id}`)).toBe(true);

    // It has left the waiting list; it is kept as superseded, with why and when.
    const after = await list();
    expect(after.items.some((d: any) => d.id === doc.id)).toBe(false);
    expect(after.counts.superseded).toBeGreaterThanOrEqual(1);
    const superseded = await list('?status=superseded');
    expect(superseded.items.find((d: any) => d.id === doc.id)).toMatchObject({ status: 'superseded', supersededBy: 'delivered-electronically', copyState: 'delivered' });
    expect(superseded.items.find((d: any) => d.id === doc.id).copyDeliveredAt).not.toBeNull();
    // The overview's count of documents waiting is that of the list.
    expect((await call('GET', '/api/overview', viewer)).body.manualDispatchWaiting).toBe(after.counts.waiting);
  }, 60_000);

  it('marks sent, undoes within the window (operators only, audited; the copy is as before), and refuses the undo after it', async () => {
    const message = onTimeAdmission([none]);
    await ingest(message);
    await eventually(async () => ((await copyOf(message.messageId))?.state === 'manual' ? true : undefined));
    const doc = await documentOf(message.messageId);
    const copyBefore = (await copyOf(message.messageId))!;

    const sent = await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter' });
    expect(sent.body).toMatchObject({ status: 'sent', sentVia: 'letter' });
    expect(sent.body.markedAt).not.toBeNull();
    expect((await copyOf(message.messageId))!.manual_delivered_at).not.toBeNull();

    expect((await call('POST', `/api/manual-dispatch/${doc.id}/undo-sent`, viewer)).status).toBe(403);
    const undone = await call('POST', `/api/manual-dispatch/${doc.id}/undo-sent`, operator);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ status: 'waiting', sentVia: null, sentAt: null, markedAt: null });
    const copyAfter = (await copyOf(message.messageId))!;
    expect([copyAfter.state, copyAfter.manual_delivered_at]).toEqual([copyBefore.state, null]);
    const events = await query<{ state: string }>(services.databaseUrl, 'SELECT state FROM copy_events WHERE copy_id = $1 ORDER BY id', [copyAfter.id]);
    expect(events.map((e) => e.state).slice(-2)).toEqual(['delivered-by-hand', 'delivery-by-hand-undone']);
    expect((await audit()).some((a) => a.action === 'undo-mark-sent' && a.username === OPERATOR.username && a.target === `fallback-document:${doc.id}`)).toBe(true);
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/undo-sent`, operator)).status).toBe(409); // not sent now

    // Marked again; past the window the undo is refused.
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter' })).status).toBe(200);
    clock.advance(61_000);
    const late = await call('POST', `/api/manual-dispatch/${doc.id}/undo-sent`, operator);
    expect(late.status).toBe(409);
    expect(late.body.message).toContain('undo window of 60 s has passed');
    expect((await call('POST', '/api/manual-dispatch/999999999/undo-sent', operator)).status).toBe(404);
  }, 60_000);

  it('filters by unit name or HSA id, trigger, age and status, and pages with the total', async () => {
    const messages = [0, 1, 2].map(() => exampleFor('message', [none]));
    for (const m of messages) await ingest(m);
    for (const m of messages) await eventually(async () => ((await copyOf(m.messageId))?.state === 'manual' ? true : undefined));
    await app.get(DeadlineService).tick();
    const byName = await list('?unit=bj%C3%96rken&trigger=no-electronic-route&limit=500');
    expect(byName.items.length).toBe(byName.total);
    expect(byName.total).toBeGreaterThanOrEqual(3);
    expect(byName.items.every((d: any) => d.recipientHsa === none.hsaId && d.trigger === 'no-electronic-route' && d.status === 'waiting')).toBe(true);
    expect((await list('?unit=7-none')).total).toBe(byName.total);
    expect((await list('?unit=nowhere')).total).toBe(0);
    expect((await list('?unit=bj%C3%B6rken&trigger=retries-exhausted')).total).toBe(0);
    // Age: made at least N hours ago.
    expect((await list('?unit=bj%C3%B6rken&olderThanHours=1')).total).toBe(0);
    clock.advance(2 * H);
    expect((await list('?unit=bj%C3%B6rken&olderThanHours=1')).total).toBe(byName.total);
    // Paging: one at a time, the total the same on every page.
    const second = await list('?unit=bj%C3%B6rken&limit=1&offset=1');
    expect([second.total, second.offset, second.limit, second.items.length]).toEqual([byName.total, 1, 1, 1]);
    expect(second.items[0].id).toBe(byName.items[1].id);
    const all = await list('?status=all&limit=500');
    expect(all.total).toBe(all.counts.waiting + all.counts.superseded + all.counts.sent + all.counts.withdrawn);
    for (const bad of ['?olderThanHours=-1', '?offset=x', '?status=gone', '?trigger=whim']) expect([bad, (await call('GET', `/api/manual-dispatch${bad}`, viewer)).status]).toEqual([bad, 400]);
    // An empty unit is no filter (an emptied field of the form).
    expect((await list('?unit=')).total).toBe((await list()).total);
  }, 60_000);
});

describe('counts that tell the truth', () => {
  it('the at-risk count is the true total beyond the list cap', async () => {
    const messages = Array.from({ length: 55 }, () => onTimeAdmission([none]));
    for (let i = 0; i < messages.length; i += 11) await Promise.all(messages.slice(i, i + 11).map((m) => ingest(m)));
    for (const m of messages) await eventually(async () => ((await copyOf(m.messageId))?.state === 'manual' ? true : undefined));
    // Their deadlines (about 22 h ahead) fall within the margin.
    clock.set(new Date(Date.now() + 22 * H));
    const o = (await call('GET', '/api/overview', viewer)).body;
    const [row] = await query<{ n: string }>(
      services.databaseUrl,
      `SELECT count(*) AS n FROM copies WHERE type = 'admission' AND notify_by IS NOT NULL AND delivered_at IS NULL AND manual_delivered_at IS NULL
         AND state <> 'cancelled' AND notify_by <= $1::timestamptz + interval '2 hours'`,
      [clock.now()],
    );
    const n = Number(row!.n);
    expect(n).toBeGreaterThanOrEqual(55);
    expect([o.atRisk.length, o.atRiskLimit, o.atRiskTotal]).toEqual([50, 50, n]);
    expect(typeof o.deadLetters).toBe('number');
  }, 90_000);

  it("the report's share within 24 h counts only notifications that were due", async () => {
    simulator.behave(failing.hsaId, { mode: 'fail', status: 503 });
    const notYetDue = onTimeAdmission([failing], { episodeId: `due-a-${Date.now()}` }); // deadline ahead, not delivered
    const overdue = exampleFor('admission', [failing], { episodeId: `due-b-${Date.now()}` }); // deadline long past, not delivered
    const onTime = onTimeAdmission([accepting], { episodeId: `due-c-${Date.now()}` }); // delivered
    for (const m of [notYetDue, overdue, onTime]) await ingest(m);
    await eventually(async () => ((await copyOf(onTime.messageId))?.delivered_at ? true : undefined));
    const month = new Date().toISOString().slice(0, 7);
    const summary = async (episodeId: string) => {
      expect((await call('GET', `/api/reports/monthly?month=${month}`, viewer)).status).toBe(200); // catches the summary up
      return (await query<{ notifications: number; notifications_on_time: number }>(services.databaseUrl, 'SELECT notifications, notifications_on_time FROM report_episodes WHERE episode_id = $1', [episodeId]))[0];
    };
    const counts = async (episodeId: string) => {
      const row = await summary(episodeId);
      return row === undefined ? undefined : [row.notifications, row.notifications_on_time];
    };
    expect(await eventually(() => counts(notYetDue.episodeId))).toEqual([0, 0]); // neither hit nor miss
    expect(await eventually(() => counts(overdue.episodeId))).toEqual([1, 0]);
    expect(await eventually(() => counts(onTime.episodeId))).toEqual([1, 1]);
    // Its deadline passes and is judged: now it is due, and a miss.
    clock.set(new Date(Date.now() + 25 * H));
    await app.get(DeadlineService).tick();
    await eventually(async () => ((await counts(notYetDue.episodeId))?.[0] === 1 ? true : undefined), 20_000, 'judged deadline counted');
    expect(await counts(notYetDue.episodeId)).toEqual([1, 0]);
  }, 60_000);

  it('deviations are paged with their total', async () => {
    const first = (await call('GET', '/api/deviations?limit=1', viewer)).body;
    expect(first.total).toBeGreaterThanOrEqual(2);
    expect([first.items.length, first.limit, first.offset]).toEqual([1, 1, 0]);
    const second = (await call('GET', '/api/deviations?limit=1&offset=1', viewer)).body;
    expect(second.total).toBe(first.total);
    expect(second.items[0].id).not.toBe(first.items[0].id);
  });

});
