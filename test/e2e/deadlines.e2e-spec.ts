import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { DispatchService } from '../../apps/gateway/src/deadlines/dispatch.service';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { gatewayEnv, query, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

let services: TestServices;
let simulator: RecipientSimulator;
let units: DirectoryUnit[];
let env: Record<string, string>;
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));
const apps: INestApplication[] = [];

async function start(): Promise<INestApplication> {
  const app = await startGateway(loadConfig(env), clock);
  apps.push(app);
  return app;
}
const urlOf = (app: INestApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

function pdfText(pdf: Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'svu-fallback-')), 'doc.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

beforeAll(async () => {
  services = await createTestServices('deadlines');
  const port = await freePort();
  units = [
    { hsaId: 'SE2120000003-FAX1', name: 'Kommun med fax', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/fax`, allowInsecureHttp: true }, fax: '+46 31 555 00 11', postalAddress: ['Box 1', '411 01 Göteborg'] },
    { hsaId: 'SE2120000003-POST', name: 'Socialtjänst utan elektronisk väg', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 2', '971 85 Luleå'] },
  ];
  env = gatewayEnv(services, writeDirectory(units), { SVU_RETRY_BUDGET: 'PT1H', SVU_RETRY_MAX: 'PT0.2S', SVU_DEADLINE_EVERY: 'PT1H', SVU_POSTAL_DELAY: 'PT1H' });
  simulator = new RecipientSimulator({ units });
  await simulator.start();
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

const docsFor = (messageId: string) =>
  query<{ id: string; kind: string; trigger: string; reference: string; pdf: Buffer; status: string }>(
    services.databaseUrl,
    'SELECT id, kind, trigger, reference, pdf, status FROM fallback_documents WHERE message_id = $1 ORDER BY id',
    [messageId],
  );

describe('the 24-hour deadline', () => {
  it('falls back exactly once when notifyBy − margin comes, with two watchers and across a restart; a late electronic delivery is still recorded', async () => {
    clock.set('2026-03-28T13:10:00Z');
    const first = await start();
    const second = await start();
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 503 });
    const message = exampleFor('admission', [units[0]!]); // notifyBy 2026-03-29T11:15:00Z
    expect((await postIngress(urlOf(first), 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
    await eventually(async () => ((await query<{ attempts: number }>(services.databaseUrl, 'SELECT attempts FROM copies WHERE message_id = $1', [message.messageId]))[0]?.attempts ?? 0) > 0 || undefined);

    clock.set('2026-03-29T09:14:59Z'); // one second before notifyBy − 2 h
    await first.get(DeadlineService).tick();
    expect(await docsFor(message.messageId)).toHaveLength(0);

    clock.set('2026-03-29T09:15:00Z');
    await Promise.all([first.get(DeadlineService).tick(), second.get(DeadlineService).tick(), first.get(DeadlineService).tick()]);
    await first.close();
    const restarted = await start();
    await restarted.get(DeadlineService).tick();
    const docs = await docsFor(message.messageId);
    expect(docs.map((d) => [d.kind, d.trigger, d.status])).toEqual([['fax', 'deadline-near', 'waiting']]);
    const text = pdfText(docs[0]!.pdf);
    expect(text).toContain('+46 31 555 00 11');
    expect(text).toContain('Höftfraktur');
    // Summer time began at 01:00 UTC that day: 24 elapsed hours after 12:15 CET is 13:15 CEST.
    expect(text).toContain('2026-03-29 13:15 (svensk tid)');
    expect(text).toContain(docs[0]!.reference);

    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    const [copy] = await eventually(async () => {
      const rows = await query<{ state: string; fallback: boolean }>(services.databaseUrl, 'SELECT state, fallback_at IS NOT NULL AS fallback FROM copies WHERE message_id = $1', [message.messageId]);
      return rows[0]?.state === 'delivered' ? rows : undefined;
    });
    expect(copy).toEqual({ state: 'delivered', fallback: true });
  }, 60_000);

  it('falls back at once for a recipient without electronic route, as a letter to its postal address', async () => {
    clock.set('2026-03-28T13:10:00Z');
    const app = apps.at(-1)!;
    const message = exampleFor('admission', [units[1]!]);
    await postIngress(urlOf(app), 'lifecare', bytesOf(message, 'lifecare'));
    await eventually(async () => ((await query<{ state: string }>(services.databaseUrl, 'SELECT state FROM copies WHERE message_id = $1', [message.messageId]))[0]?.state === 'manual' ? true : undefined));
    await app.get(DeadlineService).tick();
    const docs = await docsFor(message.messageId);
    expect(docs.map((d) => [d.kind, d.trigger])).toEqual([['letter', 'no-electronic-route']]);
    const text = pdfText(docs[0]!.pdf);
    expect(text).toContain('971 85 Luleå');
    expect(text).toContain('Karin Öberg');
  }, 30_000);

  it('records a missed deadline, but not when the document was sent by hand in time (a letter posted 75 min before, arriving after SVU_POSTAL_DELAY of 1 h)', async () => {
    clock.set('2026-03-28T13:10:00Z');
    const app = apps.at(-1)!;
    const missed = exampleFor('admission', [units[1]!]);
    const inTime = exampleFor('admission', [units[1]!]);
    for (const m of [missed, inTime]) await postIngress(urlOf(app), 'samsa', bytesOf(m, 'samsa'));
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = ANY($1) AND state = 'manual'", [[missed.messageId, inTime.messageId]])).length === 2 ? true : undefined));
    await app.get(DeadlineService).tick();
    const [doc] = await docsFor(inTime.messageId);
    clock.set('2026-03-29T10:00:00Z');
    const sent = await app.get(DispatchService).markSent(doc!.id, 'letter', 'operatör Olsson');
    expect(sent.entry).toMatchObject({ status: 'sent', sentVia: 'letter', sentBy: 'operatör Olsson' });
    expect((await app.get(DispatchService).markSent(doc!.id, 'letter', 'någon annan')).refused).toMatch(/is not waiting \(it is sent\)/);

    clock.set('2026-03-29T11:15:01Z');
    await app.get(DeadlineService).tick();
    await app.get(DeadlineService).tick();
    const deviations = await query<{ message_id: string; kind: string }>(
      services.databaseUrl,
      "SELECT message_id, kind FROM deviations WHERE kind = 'deadline-missed' AND message_id = ANY($1)",
      [[missed.messageId, inTime.messageId]],
    );
    expect(deviations).toEqual([{ message_id: missed.messageId, kind: 'deadline-missed' }]);
    const events = await query<{ state: string }>(
      services.databaseUrl,
      'SELECT e.state FROM copy_events e JOIN copies c ON c.id = e.copy_id WHERE c.message_id = $1 ORDER BY e.id',
      [inTime.messageId],
    );
    expect(events.map((e) => e.state)).toEqual(['received', 'manual', 'fallback', 'delivered-by-hand']);
  }, 30_000);

  it('delivers a message that arrives past notifyBy anyway and records it as late on arrival', async () => {
    clock.set('2026-03-29T11:15:01Z');
    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    const app = apps.at(-1)!;
    const message = exampleFor('admission', [units[0]!]);
    await postIngress(urlOf(app), 'webcare', bytesOf(message, 'webcare'));
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    const deviations = await query<{ kind: string }>(services.databaseUrl, 'SELECT kind FROM deviations WHERE message_id = $1', [message.messageId]);
    expect(deviations.map((d) => d.kind)).toEqual(['late-on-arrival']);
    await app.get(DeadlineService).tick();
    expect(await docsFor(message.messageId)).toHaveLength(0);
  }, 30_000);
});

describe('day 0', () => {
  it('records the Swedish date of sending per ready notice, keeps later notices as history, and marks a cancelled one', async () => {
    const app = apps.at(-1)!;
    const first = exampleFor('ready-for-discharge', [units[0]!]);
    (first as any).sentAt = '2026-07-01T22:30:00Z'; // 00:30 on 2 July in Sweden
    const second = exampleFor('ready-for-discharge', [units[0]!], { episodeId: first.episodeId });
    (second as any).sentAt = '2026-07-03T08:00:00Z';
    const cancel = exampleFor('cancellation', [units[0]!], { episodeId: first.episodeId });
    (cancel.body as any).cancelsMessageId = second.messageId;
    for (const m of [first, second, cancel]) {
      expect((await postIngress(urlOf(app), 'canonical', bytesOf(m, 'canonical'))).status).toBe(202);
    }
    const rows = await query<{ message_id: string; day_zero: string; cancelled: boolean }>(
      services.databaseUrl,
      "SELECT message_id, to_char(day_zero, 'YYYY-MM-DD') AS day_zero, cancelled_at IS NOT NULL AS cancelled FROM day_zero WHERE episode_id = $1 ORDER BY sent_at",
      [first.episodeId],
    );
    expect(rows).toEqual([
      { message_id: first.messageId, day_zero: '2026-07-02', cancelled: false },
      { message_id: second.messageId, day_zero: '2026-07-03', cancelled: true },
    ]);
  }, 30_000);
});
