import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/clock/clock';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR, signIn, writeUsers } from '../support/console-users';
import { gatewayEnv, query, writeDirectory } from '../support/gateway-harness';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';
import { postIngress } from '../support/ingress-client';

/** Follow-up reports over episodes sent through the gateway, computed by hand below. */
let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let token: string;
let unit: DirectoryUnit;
let rulesPath: string;
const clock = new ManualClock(new Date('2026-05-01T06:00:00Z'));

async function send(message: CanonicalMessage, at: string): Promise<void> {
  clock.set(at);
  const res = await postIngress(base, 'canonical', bytesOf(message, 'canonical'));
  expect(res.status).toBe(202);
  await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state IN ('delivered', 'cancelled')", [message.messageId])).length > 0 ? true : undefined));
}

function episode(episodeId: string, municipality: string) {
  const make = <T extends Parameters<typeof exampleFor>[0]>(type: T, sentAt: string, body: Record<string, unknown>) => {
    const m = exampleFor(type, [unit], { episodeId }) as any;
    m.sentAt = sentAt;
    if (m.patient !== undefined) m.patient.municipality = municipality;
    m.body = { ...m.body, ...body };
    return m as CanonicalMessage;
  };
  return {
    admission: (admittedAt: string) => make('admission', admittedAt, { admittedAt, assessedAt: undefined, estimatedDischargeDate: undefined }),
    ready: (sentAt: string) => make('ready-for-discharge', sentAt, { readyAt: sentAt }),
    discharged: (at: string) => make('discharged', at, { dischargedAt: at }),
  };
}

beforeAll(async () => {
  services = await createTestServices('reports');
  unit = { hsaId: 'SE2120000006-HTTP', name: 'Mottagare', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${await freePort()}/u`, allowInsecureHttp: true } };
  simulator = new RecipientSimulator({ units: [unit] });
  await simulator.start();
  rulesPath = join(mkdtempSync(join(tmpdir(), 'svu-rules-')), 'rules.json');
  writeFileSync(rulesPath, JSON.stringify({ default: 'law', municipalities: { '0680': 'jonkoping', '2480': 'vasterbotten' } }));
  app = await startGateway(loadConfig(gatewayEnv(services, writeDirectory([unit]), { SVU_USERS: writeUsers(), SVU_REPORT_RULES: rulesPath, SVU_DEADLINE_EVERY: 'PT1H' })), clock);
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  token = await signIn(base, OPERATOR);

  // A (Jönköping): ready 4 May, home 9 May: 5 days. Notified within 24 h.
  const a = episode('REP-A', '0680');
  await send(a.admission('2026-05-03T08:00:00Z'), '2026-05-03T09:00:00Z');
  await send(a.ready('2026-05-04T10:00:00Z'), '2026-05-04T10:00:00Z');
  await send(a.discharged('2026-05-09T09:00:00Z'), '2026-05-09T09:00:00Z');
  // B (Jönköping): ready at 00:30 Swedish time on 11 May (22:30 UTC on the 10th), a later notice cancelled; home 12 May: 1 day.
  const b = episode('REP-B', '0680');
  await send(b.admission('2026-05-09T08:00:00Z'), '2026-05-10T12:00:00Z'); // notified 28 h after admission: late
  await send(b.ready('2026-05-10T22:30:00Z'), '2026-05-10T22:30:00Z');
  const later = b.ready('2026-05-11T08:00:00Z');
  await send(later, '2026-05-11T08:00:00Z');
  const cancel = exampleFor('cancellation', [unit], { episodeId: 'REP-B' }) as any;
  cancel.sentAt = '2026-05-11T09:00:00Z';
  cancel.body = { cancelsMessageId: later.messageId };
  await send(cancel, '2026-05-11T09:00:00Z');
  await send(b.discharged('2026-05-12T07:00:00Z'), '2026-05-12T07:00:00Z');
  // C (law's default): ready 1 May, home 6 May: 5 days, 2 of them liable. D (law): spans April to May: ready 28 April, home 2 May.
  const c = episode('REP-C', '1480');
  await send(c.ready('2026-05-01T07:00:00Z'), '2026-05-01T07:00:00Z');
  await send(c.discharged('2026-05-06T10:00:00Z'), '2026-05-06T10:00:00Z');
  const d = episode('REP-D', '1480');
  await send(d.ready('2026-04-28T07:00:00Z'), '2026-04-28T07:00:00Z');
  await send(d.discharged('2026-05-02T10:00:00Z'), '2026-05-02T10:00:00Z');
}, 120_000);

afterAll(async () => {
  await app?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};

it('reports a Jönköping municipality: share within 24 hours, waiting days after day 0, all days liable above the 2.0 average', async () => {
  const [report] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=0680')).text);
  expect(report).toEqual({
    month: '2026-05',
    groupBy: 'municipality',
    group: '0680',
    episodes: 2,
    notifications: 2,
    notificationsOnTime: 1,
    shareOnTime: 0.5,
    averageWaitingDays: 3,
    waitingDistribution: { 0: 0, 1: 1, 2: 0, 3: 0, '4-7': 1, '8+': 0 },
    liableDays: 6,
    ruleSet: 'jonkoping',
    // B's admission reached the gateway 28 hours after admission.
    deviations: { 'late-on-arrival': 1, 'deadline-missed': 0, 'rejected-by-recipient': 0, 'dead-lettered': 0 },
  });
});

it("applies the law's default to a municipality without an agreement, counting an episode in the month of its discharge", async () => {
  const [report] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=1480')).text);
  expect(report).toMatchObject({ episodes: 2, averageWaitingDays: 4.5, liableDays: 3, ruleSet: 'law' });
  const [april] = JSON.parse((await get('/api/reports/monthly?month=2026-04&municipality=1480')).text);
  expect(april).toMatchObject({ episodes: 0, averageWaitingDays: null, liableDays: 0 });
});

it('lists episodes with notification outcomes and day 0 from the notice that was not cancelled', async () => {
  const episodes = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=0680')).text) as any[];
  const b = episodes.find((e) => e.episodeId === 'REP-B');
  expect(b).toMatchObject({ dayZero: '2026-05-11', dischargeDate: '2026-05-12', waitingDays: 1, notifications: [{ outcome: 'late' }] });
  expect(JSON.stringify(episodes)).not.toMatch(/194107086995|Karin/);
});

it('offers CSV, a series for the chart, and records a region-caused delay (operators only)', async () => {
  const csv = await get('/api/reports/monthly?month=2026-05&format=csv');
  expect(csv.type).toContain('text/csv');
  expect(csv.text.endsWith('\r\n')).toBe(true); // RFC 4180 line ends
  const lines = csv.text.trim().split('\r\n');
  expect(lines[0]).toBe('month;group_by;group;episodes;notifications;notifications_on_time;share_on_time;average_waiting_days;waiting_0;waiting_1;waiting_2;waiting_3;waiting_4-7;waiting_8+;liable_days;rule_set;deviations_late-on-arrival;deviations_deadline-missed;deviations_rejected-by-recipient;deviations_dead-lettered');
  expect(lines).toContain('2026-05;municipality;0680;2;2;1;0.5;3;0;1;0;0;1;0;6;jonkoping;1;0;0;0');
  const series = JSON.parse((await get('/api/reports/series?municipality=1480&month=2026-05&months=3')).text) as any[];
  expect(series.map((r) => r.month)).toEqual(['2026-03', '2026-04', '2026-05']);
  const res = await fetch(`${base}/api/reports/episodes/REP-C/region-caused`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ regionCaused: true, note: 'Väntade på läkare' }),
  });
  expect(res.status).toBe(201);
  const episodes = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=1480')).text) as any[];
  expect(episodes.find((e) => e.episodeId === 'REP-C').regionCaused).toBe(true);
});

it('svu report prints the same from the store', async () => {
  const out = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, '../../dist/apps/cli/src/main.js'), 'report', '--month', '2026-05', '--municipality', '0680', '--format', 'csv', '--database-url', services.databaseUrl, '--rules', rulesPath]);
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.on('close', () => resolve(text));
  });
  expect(out.trim().split('\r\n')[1]).toBe('2026-05;municipality;0680;2;2;1;0.5;3;0;1;0;0;1;0;6;jonkoping;1;0;0;0');
}, 30_000); // a process start: several seconds on a loaded machine
