import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { CanonicalMessage } from '@svu/canonical';
import type { DirectoryUnit } from '@svu/directory';
import { Client } from 'pg';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { SUMMARY_LOCK } from '@svu/report-store';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR, signIn, VIEWER, writeUsers } from '../support/console-users';
import { gatewayEnv, query, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * Payment liability through the store's SQL path, computed by hand below (docs/payment-liability.md).
 * Rules: the shipped config/report-rules.json (Jönköping and Västerbotten counties, three agreements
 * without figures, the law's default) with a day rate of 10,000 kr for 2026.
 */
let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let token: string;
let municipal: DirectoryUnit;
let outpatient: DirectoryUnit;
let rulesPath: string;
const clock = new ManualClock(new Date('2026-05-01T06:00:00Z'));

async function send(message: CanonicalMessage, at: string): Promise<void> {
  clock.set(at);
  const res = await postIngress(base, 'canonical', bytesOf(message, 'canonical'));
  expect(res.status).toBe(202);
  await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state IN ('delivered', 'cancelled')", [message.messageId])).length > 0 ? true : undefined));
}

function episode(episodeId: string, municipality: string, recipients: DirectoryUnit[] = [municipal]) {
  const make = <T extends Parameters<typeof exampleFor>[0]>(type: T, sentAt: string, body: Record<string, unknown>) => {
    const m = exampleFor(type, recipients, { episodeId }) as any;
    m.sentAt = sentAt;
    if (m.patient !== undefined) m.patient.municipality = municipality;
    m.body = { ...m.body, ...body };
    return m as CanonicalMessage;
  };
  return {
    admission: (admittedAt: string, body: Record<string, unknown> = {}) => make('admission', admittedAt, { admittedAt, assessedAt: undefined, estimatedDischargeDate: '2026-05-20', ...body }),
    ready: (sentAt: string, readyAt = sentAt) => make('ready-for-discharge', sentAt, { readyAt }),
    discharged: (at: string) => make('discharged', at, { dischargedAt: at }),
  };
}

beforeAll(async () => {
  services = await createTestServices('reports');
  const port = await freePort();
  municipal = { hsaId: 'SE2120000006-HTTP', name: 'Hemsjukvården', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/k`, allowInsecureHttp: true } };
  outpatient = { hsaId: 'SE2321000131-VC1', name: 'Vårdcentralen', role: 'primary-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/p`, allowInsecureHttp: true } };
  simulator = new RecipientSimulator({ units: [municipal, outpatient] });
  await simulator.start();
  const rules = JSON.parse(readFileSync(join(__dirname, '../../config/report-rules.json'), 'utf8'));
  rules.dayRates = { source: 'test rate', perYear: { '2026': 10000 } };
  rulesPath = join(mkdtempSync(join(tmpdir(), 'svu-rules-')), 'rules.json');
  writeFileSync(rulesPath, JSON.stringify(rules));
  app = await startGateway(loadConfig(gatewayEnv(services, writeDirectory([municipal, outpatient]), { SVU_USERS: writeUsers(), SVU_REPORT_RULES: rulesPath, SVU_DEADLINE_EVERY: 'PT1H' })), clock);
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  token = await signIn(base, OPERATOR);

  // Jönköping (0680). J1: every precondition met, ready 4 May, home 9 May: 5 days.
  const j1 = episode('REP-J1', '0680');
  await send(j1.admission('2026-05-03T08:00:00Z'), '2026-05-03T09:00:00Z');
  await send(j1.ready('2026-05-04T10:00:00Z'), '2026-05-04T10:00:00Z');
  await send(j1.discharged('2026-05-09T09:00:00Z'), '2026-05-09T09:00:00Z');
  // J2: admission without the estimated length of stay, ready 10 May, home 19 May: 9 days, not liable (precondition).
  const j2 = episode('REP-J2', '0680');
  await send(j2.admission('2026-05-09T08:00:00Z', { estimatedDischargeDate: undefined }), '2026-05-09T09:00:00Z');
  await send(j2.ready('2026-05-10T10:00:00Z'), '2026-05-10T10:00:00Z');
  await send(j2.discharged('2026-05-19T09:00:00Z'), '2026-05-19T09:00:00Z');
  // J3: only the vårdcentral as recipient and no municipal need: out of scope; 9 days.
  const j3 = episode('REP-J3', '0680', [outpatient]);
  await send(j3.admission('2026-05-09T08:00:00Z', { needs: undefined }), '2026-05-09T09:00:00Z');
  await send(j3.ready('2026-05-10T10:00:00Z'), '2026-05-10T10:00:00Z');
  await send(j3.discharged('2026-05-19T09:00:00Z'), '2026-05-19T09:00:00Z');
  // J4: every precondition met, 1 day.
  const j4 = episode('REP-J4', '0680');
  await send(j4.admission('2026-05-11T08:00:00Z'), '2026-05-11T09:00:00Z');
  await send(j4.ready('2026-05-12T10:00:00Z'), '2026-05-12T10:00:00Z');
  await send(j4.discharged('2026-05-13T09:00:00Z'), '2026-05-13T09:00:00Z');
  // J5: registered in Jönköping, placed by Malmö (1280, no agreement configured: the law's default). 5 days, 2 liable.
  const j5 = episode('REP-J5', '0680');
  await send(j5.ready('2026-05-01T07:00:00Z'), '2026-05-01T07:00:00Z');
  await send(j5.discharged('2026-05-06T10:00:00Z'), '2026-05-06T10:00:00Z');
  // Västerbotten (2480): ready at 23:30 Swedish time on 9 May, notice sent at 00:30 on the 10th, home 12 May.
  const v1 = episode('REP-V1', '2480');
  await send(v1.ready('2026-05-09T22:30:00Z', '2026-05-09T21:30:00Z'), '2026-05-09T22:30:00Z');
  await send(v1.discharged('2026-05-12T08:00:00Z'), '2026-05-12T08:00:00Z');
  // Västra Götaland (1480): an agreement without figures. 6 days.
  const g1 = episode('REP-G1', '1480');
  await send(g1.ready('2026-05-01T07:00:00Z'), '2026-05-01T07:00:00Z');
  await send(g1.discharged('2026-05-07T10:00:00Z'), '2026-05-07T10:00:00Z');
}, 180_000);

afterAll(async () => {
  await app?.close();
  await simulator?.stop();
  await services?.cleanup();
}, 60_000);

const get = async (path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};
const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('Jönköping: two counted patients average 3.0 above 2.0 (6 days, 60,000 kr); the one without an estimate and the outpatient-only one are left out, with reasons', async () => {
  const [report] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=0680')).text);
  expect(report).toMatchObject({
    group: '0680',
    name: 'Jönköping',
    episodes: 5,
    liableDays: 6,
    liableKronor: 60000,
    ruleSet: 'jonkoping',
    ruleSetBasis: 'county',
    placedByOtherMunicipality: 0,
  });
  expect(report.liability).toEqual([
    expect.objectContaining({ model: 'average', counted: 2, outOfScope: 1, noDayZero: 0, averageWaitingDays: 3, municipalityLiable: true, dayRate: 10000, preconditionFailed: { 'admission-notice': 1, estimate: 2, 'ready-notice': 0, 'sip-called': 0 } }),
  ]);
  expect(report.liabilityReason).toBe('jonkoping (by county): average 3.00 days over 2 patient(s) above 2: their days charged');

  const episodes = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=0680')).text) as any[];
  const byId = Object.fromEntries(episodes.map((e) => [e.episodeId, e]));
  expect(Object.fromEntries(episodes.map((e) => [e.episodeId, [e.waitingDays, e.liableDays, e.liableKronor]]))).toEqual({
    'REP-J1': [5, 5, 50000],
    'REP-J2': [9, 0, 0],
    'REP-J3': [9, 0, 0],
    'REP-J4': [1, 1, 10000],
    'REP-J5': [5, 0, 0],
  });
  expect(byId['REP-J2'].reason).toMatch(/^not charged: precondition not met: estimate \(no estimated length of stay in the episode\)$/);
  expect(byId['REP-J3'].reason).toBe('not charged: out of scope: after discharge only region outpatient care');
  const admission = byId['REP-J1'].preconditions.find((p: any) => p.precondition === 'admission-notice');
  expect(admission).toMatchObject({ required: true, met: true, via: 'electronic', deliveredAt: expect.stringMatching(/^2026-05-03T09:00:\d\dZ$/) });
  expect(admission.detail).toContain(`delivered to ${municipal.hsaId}`);
  expect(JSON.stringify(episodes)).not.toMatch(/194107086995|Karin/);
});

it('the episode report comes a page at a time: limit and after, the total and the next id in headers', async () => {
  const page = async (query: string) => {
    const res = await fetch(`${base}/api/reports/episodes?month=2026-05&municipality=0680${query}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    return { status: res.status, ids: res.status === 200 && !query.includes('csv') ? (JSON.parse(body) as any[]).map((e) => e.episodeId) : body, total: res.headers.get('x-total-count'), next: res.headers.get('x-next-after') };
  };
  expect(await page('&limit=2')).toEqual({ status: 200, ids: ['REP-J1', 'REP-J2'], total: '5', next: 'REP-J2' });
  expect(await page('&limit=2&after=REP-J2')).toEqual({ status: 200, ids: ['REP-J3', 'REP-J4'], total: '5', next: 'REP-J4' });
  expect(await page('&limit=2&after=REP-J4')).toEqual({ status: 200, ids: ['REP-J5'], total: '5', next: null });
  const csv = await page('&limit=1&format=csv');
  expect([csv.total, csv.next, (csv.ids as string).trim().split('\r\n').length]).toEqual(['5', 'REP-J1', 2]);
  // all=true: the whole month in one CSV (the console's download), whatever the page size.
  const whole = await page('&limit=2&format=csv&all=true');
  const rows = (whole.ids as string).trim().split('\r\n');
  expect([whole.status, whole.total, whole.next, rows.length]).toEqual([200, '5', null, 6]);
  expect(rows.slice(1).map((r) => r.split(';')[0])).toEqual(['REP-J1', 'REP-J2', 'REP-J3', 'REP-J4', 'REP-J5']);
  for (const [query, field, message] of [
    ['&all=true', 'all', 'all applies to format=csv only'],
    ['&format=csv&all=yes', 'all', 'all must be true or false'],
    ['&format=csv&all=true&after=REP-J2', 'after', 'after cannot be given with all=true (all is every episode of the month, from the first)'],
  ] as const) {
    const refused = await page(query);
    expect([refused.status, JSON.parse(refused.ids as string).field, JSON.parse(refused.ids as string).message]).toEqual([400, field, message]);
  }
  for (const limit of ['0', '5001', '1.5']) {
    const refused = await page(`&limit=${limit}`);
    expect([refused.status, JSON.parse(refused.ids as string).field]).toEqual([400, 'limit']);
  }
  const badAfter = await page('&after=%20x');
  expect([badAfter.status, JSON.parse(badAfter.ids as string).field]).toEqual([400, 'after']);
});

it('the placing municipality pays when recorded (operators, audited); a code that is no municipality is refused', async () => {
  expect((await post('/api/reports/episodes/REP-J5/placing-municipality', { municipality: '0199' })).status).toBe(400);
  expect((await post('/api/reports/episodes/REP-J5/placing-municipality', { municipality: '1280', note: 'Placerad i Malmö' })).status).toBe(201);
  const [malmo] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=1280')).text);
  // Law's default: 5 days, the 2 after the third liable.
  expect(malmo).toMatchObject({ name: 'Malmö', episodes: 1, placedByOtherMunicipality: 1, liableDays: 2, liableKronor: 20000, ruleSet: 'law', ruleSetBasis: 'default' });
  expect(malmo.liabilityReason).toBe("law (default: no agreement configured for this municipality): each patient's days after day 3 charged");
  const [jkpg] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=0680')).text);
  expect(jkpg).toMatchObject({ episodes: 4, liableDays: 6 });
  const episodes = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=1280')).text) as any[];
  expect(episodes).toEqual([expect.objectContaining({ episodeId: 'REP-J5', municipality: '1280', municipalityBasis: 'placing', registrationMunicipality: '0680', liableDays: 2 })]);
  const audit = await query<{ target: string; detail: { note?: string } }>(services.databaseUrl, "SELECT target, detail FROM audit_log WHERE action = 'placing-municipality'");
  expect(audit).toEqual([{ target: 'episode:REP-J5', detail: { municipality: '1280', note: 'Placerad i Malmö' } }]);
});

it('refuses bad report requests and notes naming the field; refused changes and role limits are audited; viewers read the computed reasons', async () => {
  const refusal = async (res: { status: number; text: string } | Response) => {
    const text = 'text' in res && typeof res.text === 'string' ? res.text : await (res as Response).text();
    const body = JSON.parse(text) as { field?: string; message: string };
    return [res.status, body.field, body.message];
  };
  expect(await refusal(await get('/api/reports/monthly?month=2026-05&municipality=0680&unit=SE2321000131-E000000000001'))).toEqual([400, 'unit', expect.stringContaining('unit cannot be given with municipality')]);
  expect(await refusal(await get(`/api/reports/monthly?month=2026-05&municipality=${encodeURIComponent("0680' OR 1=1--")}`))).toEqual([400, 'municipality', 'municipality must be a kommunkod (four digits, e.g. 0680)']);
  expect(await refusal(await get(`/api/reports/series?municipality=${'9'.repeat(5000)}`))).toEqual([400, 'municipality', 'municipality must be a kommunkod (four digits, e.g. 0680)']);
  expect(await refusal(await get('/api/reports/episodes?month=2026-05&month=2026-06'))).toEqual([400, 'month', 'month must be given once']);
  expect(await refusal(await get(`/api/reports/monthly?month=2026-05&unit=${encodeURIComponent("' OR 1=1")}`))).toEqual([400, 'unit', expect.stringContaining('unit must be an HSA id')]);
  expect(await refusal(await post('/api/reports/episodes/REP-J5/region-caused', { regionCaused: false, note: 'x'.repeat(2001) }))).toEqual([400, 'note', 'note must be a text of at most 2000 characters']);
  const before = Number((await query<{ n: number }>(services.databaseUrl, "SELECT count(*)::int AS n FROM audit_log WHERE action = 'refused'"))[0]!.n);
  expect(await refusal(await post('/api/reports/episodes/REP-J5/placing-municipality', { municipality: '0699' }))).toEqual([400, 'municipality', expect.stringContaining('kommunkoder')]);
  expect(await refusal(await post('/api/reports/episodes/REP-J5/placing-municipality', { municipality: '0680', x: 1 }))).toEqual([400, 'x', expect.stringContaining('x is unknown')]);
  expect(await refusal(await post('/api/reports/episodes/NOPE-1/placing-municipality', { municipality: '0680' }))).toEqual([404, 'episodeId', expect.stringContaining('no episode NOPE-1')]);
  expect(await refusal(await post('/api/reports/episodes/NOPE-1/region-caused', { regionCaused: true }))).toEqual([404, 'episodeId', expect.stringContaining('no episode NOPE-1')]);
  const viewer = await signIn(base, VIEWER);
  const asViewer = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, body === undefined ? { headers: { authorization: `Bearer ${viewer}` } } : { method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await asViewer('/api/reports/episodes/REP-J1/region-caused', { regionCaused: true })).status).toBe(403);
  const refused = await query<{ username: string; target: string; detail: { status: number; field?: string } }>(
    services.databaseUrl,
    "SELECT username, target, detail FROM audit_log WHERE action = 'refused' ORDER BY id OFFSET $1",
    [before],
  );
  expect(refused.map((r) => [r.username, r.target, r.detail.status, r.detail.field])).toEqual([
    [OPERATOR.username, 'POST /api/reports/episodes/REP-J5/placing-municipality', 400, 'municipality'],
    [OPERATOR.username, 'POST /api/reports/episodes/REP-J5/placing-municipality', 400, 'x'],
    [OPERATOR.username, 'POST /api/reports/episodes/NOPE-1/placing-municipality', 404, 'episodeId'],
    [OPERATOR.username, 'POST /api/reports/episodes/NOPE-1/region-caused', 404, 'episodeId'],
    [VIEWER.username, 'POST /api/reports/episodes/REP-J1/region-caused', 403, undefined],
  ]);
  // A note is kept in the audit entry (ten years) with identity numbers masked.
  expect((await post('/api/reports/episodes/REP-J1/region-caused', { regionCaused: false, note: 'Ring om 19121212-1212' })).status).toBe(201);
  const [noted] = await query<{ detail: { note: string } }>(services.databaseUrl, "SELECT detail FROM audit_log WHERE action = 'region-caused-delay' ORDER BY id DESC LIMIT 1");
  expect(noted!.detail.note).toBe('Ring om ********-****');
  // The reasons are the gateway's words, not an operator's: a viewer reads them as an operator does.
  const operatorView = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=0680')).text) as Array<{ episodeId: string; reason: string }>;
  const viewerView = (await (await asViewer('/api/reports/episodes?month=2026-05&municipality=0680')).json()) as Array<{ episodeId: string; reason: string }>;
  expect(viewerView.map((e) => [e.episodeId, e.reason])).toEqual(operatorView.map((e) => [e.episodeId, e.reason]));
  expect(viewerView.find((e) => e.episodeId === 'REP-J3')?.reason).toContain('out of scope');
  const [monthly] = (await (await asViewer('/api/reports/monthly?month=2026-05&municipality=0680')).json()) as Array<{ liability: Array<{ reason: string }> }>;
  expect(monthly!.liability[0]!.reason).toContain('average 3.00 days');
});

it('Västerbotten counts from readyAt (the 9th, across midnight): 3 days, where the send date gives 2', async () => {
  const [report] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=2480')).text);
  expect(report).toMatchObject({ name: 'Umeå', ruleSet: 'vasterbotten', averageWaitingDays: 2, liableDays: 0, liableKronor: 0 });
  expect(report.liability[0]).toMatchObject({ model: 'streak', averageWaitingDays: 3, municipalityLiable: false });
  const [v1] = JSON.parse((await get('/api/reports/episodes?month=2026-05&municipality=2480')).text) as any[];
  expect(v1).toMatchObject({ dayZero: '2026-05-09', waitingDays: 3, liableDays: 0 });
});

it('an agreement without figures is reported, not charged', async () => {
  const [report] = JSON.parse((await get('/api/reports/monthly?month=2026-05&municipality=1480')).text);
  expect(report).toMatchObject({ name: 'Göteborg', episodes: 1, averageWaitingDays: 6, liableDays: null, liableKronor: null, ruleSet: 'vastra-gotaland' });
  expect(report.liabilityReason).toBe('vastra-gotaland (by county): agreement without figures: reported, not charged');
});

it('CSV of months and of episodes carries kronor and reasons; the series is capped', async () => {
  const csv = await get('/api/reports/monthly?month=2026-05&format=csv');
  expect(csv.type).toContain('text/csv');
  expect(csv.text.endsWith('\r\n')).toBe(true); // RFC 4180 line ends
  const lines = csv.text.trim().split('\r\n');
  expect(lines[0]).toBe('month;group_by;group;name;episodes;notifications;notifications_on_time;share_on_time;average_waiting_days;waiting_0;waiting_1;waiting_2;waiting_3;waiting_4-7;waiting_8+;placed_by_other_municipality;liable_days;liable_kronor;rule_set;rule_set_basis;liability_reason;deviations_late-on-arrival;deviations_deadline-missed;deviations_rejected-by-recipient;deviations_dead-lettered');
  expect(lines.find((l) => l.startsWith('2026-05;municipality;0680;'))).toMatch(/;6;60000;jonkoping;county;jonkoping \(by county\): average 3\.00 days over 2 patient\(s\) above 2: their days charged;/);
  const episodes = await get('/api/reports/episodes?month=2026-05&municipality=0680&format=csv');
  const j2 = episodes.text.split('\r\n').find((l) => l.startsWith('REP-J2;'));
  expect(j2).toMatch(/^REP-J2;0680;registration;jonkoping;2026-05-10;2026-05-19;9;true;true;\S+;2026-05-09T09:00:\d\dZ;electronic;true;false;;;;/);
  expect(j2).toMatch(/;false;0;0;not charged: precondition not met: estimate/);
  // Nothing is ignored silently: an unknown value or parameter is refused with 400, naming it.
  const refusal = async (path: string) => {
    const res = await get(path);
    return [res.status, JSON.parse(res.text).field, JSON.parse(res.text).message];
  };
  expect(await refusal('/api/reports/series?municipality=0680&month=2026-05&months=37')).toEqual([400, 'months', 'months must be 1-36']);
  expect(await refusal('/api/reports/series?municipality=0680&month=2026-05&months=1.0')).toEqual([400, 'months', 'months must be 1-36']);
  expect(await refusal('/api/reports/monthly?month=2026-05&format=csv&bom=yes')).toEqual([400, 'bom', 'bom must be true or false']);
  expect(await refusal('/api/reports/monthly?month=2026-05&bom=true')).toEqual([400, 'bom', 'bom applies to format=csv only']);
  expect(await refusal('/api/reports/episodes?month=2026-05&format=csv&separator=tab')).toEqual([400, 'separator', 'separator must be semicolon or comma']);
  expect(await refusal('/api/reports/episodes?month=2026-5')).toEqual([400, 'month', 'month must be YYYY-MM']);
  expect(await refusal('/api/reports/monthly?month=2026-05&municipality=0680&municipality=1480')).toEqual([400, 'municipality', 'municipality must be given once']);
  expect(await refusal('/api/reports/series?municipality=0680&month=2026-05&monhts=3')).toEqual([400, 'monhts', 'monhts is unknown (this request takes municipality, month, months)']);
  const withBom = await fetch(`${base}/api/reports/episodes?month=2026-05&municipality=0680&format=csv&bom=true&separator=comma`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = Buffer.from(await withBom.arrayBuffer());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(bytes.toString('utf8').split('\r\n')[0]).toContain(',');
  const series = JSON.parse((await get('/api/reports/series?municipality=0680&month=2026-05&months=3')).text) as any[];
  expect(series.map((r) => [r.month, r.liableDays])).toEqual([['2026-03', 0], ['2026-04', 0], ['2026-05', 6]]);
  // Without a month, the series ends in the gateway clock's Swedish month (00:30 on 1 June in Sweden).
  clock.set('2026-05-31T22:30:00Z');
  const current = JSON.parse((await get('/api/reports/series?municipality=0680&months=2')).text) as any[];
  expect(current.map((r) => r.month)).toEqual(['2026-05', '2026-06']);
});

const svu = (args: string[]) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, '../../dist/apps/cli/src/main.js'), 'report', ...args, '--database-url', services.databaseUrl]);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });

it('svu report prints the same from the store, the episodes with reasons, and refuses a broken rules file naming the field', async () => {
  const months = await svu(['--month', '2026-05', '--municipality', '0680', '--format', 'csv', '--rules', rulesPath]);
  expect(months.out.trim().split('\r\n')[1]).toMatch(/^2026-05;municipality;0680;Jönköping;\d;.*;6;60000;jonkoping;county;/);
  const episodes = await svu(['--month', '2026-05', '--municipality', '0680', '--episodes', '--rules', rulesPath]);
  expect((JSON.parse(episodes.out) as any[]).find((e) => e.episodeId === 'REP-J3').reason).toBe('not charged: out of scope: after discharge only region outpatient care');
  // An agreement that changes on 11 May (same figures, a new version): each part is judged on its own
  // episodes. | part | counted | average | liable |  J1 (9 May) 5 days: 5.0 > 2.0, 5 days; J4 (13 May)
  // 1 day: 1.0 ≤ 2.0, 0 days. | month | 5 days, 50,000 kr (6 days without the change) |
  const changing = JSON.parse(readFileSync(rulesPath, 'utf8'));
  const first = changing.ruleSets.jonkoping.versions[0];
  changing.ruleSets.jonkoping.versions = [{ ...first, to: '2026-05-10' }, { ...first, from: '2026-05-11' }];
  const changingPath = join(mkdtempSync(join(tmpdir(), 'svu-rules-')), 'changing.json');
  writeFileSync(changingPath, JSON.stringify(changing));
  const [midMonth] = JSON.parse((await svu(['--month', '2026-05', '--municipality', '0680', '--rules', changingPath])).out) as any[];
  expect(midMonth).toMatchObject({ liableDays: 5, liableKronor: 50000 });
  expect(midMonth.liability.map((p: any) => [p.from, p.to, p.counted, p.averageWaitingDays, p.liableDays, p.liableKronor])).toEqual([
    ['2026-05-01', '2026-05-10', 1, 5, 5, 50000],
    ['2026-05-11', '2026-05-31', 1, 1, 0, 0],
  ]);
  expect(midMonth.liabilityReason).toMatch(/^jonkoping \(by county\): from 2026-05-01 to 2026-05-10: .* \| from 2026-05-11 to 2026-05-31: /);
  const broken = JSON.parse(readFileSync(rulesPath, 'utf8'));
  broken.ruleSets.jonkoping.versions[0].averageThresholdDays = -1;
  const brokenPath = join(mkdtempSync(join(tmpdir(), 'svu-rules-')), 'broken.json');
  writeFileSync(brokenPath, JSON.stringify(broken));
  const refused = await svu(['--month', '2026-05', '--rules', brokenPath]);
  expect(refused.code).toBe(1);
  expect(refused.err).toContain('ruleSets.jonkoping.versions[0].averageThresholdDays: must be');
  expect(refused.out).toBe('');
}, 60_000);

it('svu report names the database URL (password masked) when the database is missing', async () => {
  const missing = new URL(services.databaseUrl);
  missing.pathname = '/svu_no_such_database';
  missing.username ||= 'postgres';
  missing.password = 'hemligt';
  const child = spawn(process.execPath, [join(__dirname, '../../dist/apps/cli/src/main.js'), 'report', '--month', '2026-05', '--database-url', missing.toString()]);
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code).toBe(1);
  missing.password = '***';
  expect(err).toBe(`svu: cannot connect to PostgreSQL at ${missing.toString()} (--database-url / DATABASE_URL): database "svu_no_such_database" does not exist\n`);
});

it('the summary follows the write path: changes reach it without a report, and a report never waits for a catch-up', async () => {
  const summary = async (id: string) => (await query(services.databaseUrl, 'SELECT wait_sent, placing_municipality FROM report_episodes WHERE episode_id = $1', [id]))[0] as { wait_sent: number; placing_municipality: string | null } | undefined;
  const pending = async () => Number(((await query(services.databaseUrl, 'SELECT count(*)::int AS n FROM report_pending')) as [{ n: number }])[0].n);
  // A new episode and an operator's note, with no report asked for: the background job computes them.
  const w1 = episode('REP-W1', '0617');
  await send(w1.ready('2026-06-01T07:00:00Z'), '2026-06-01T07:00:00Z');
  await send(w1.discharged('2026-06-04T10:00:00Z'), '2026-06-04T10:00:00Z');
  expect((await post('/api/reports/episodes/REP-W1/placing-municipality', { municipality: '0604' })).status).toBe(201);
  await eventually(async () => ((await pending()) === 0 && (await summary('REP-W1'))?.placing_municipality === '0604' ? true : undefined), 20_000);
  expect(await summary('REP-W1')).toEqual({ wait_sent: 3, placing_municipality: '0604' });

  // While another process holds the drain (a long batch, say), a report waits at most 300 ms and
  // answers from the summary as it stands, saying how many episodes are not in it yet.
  const holder = new Client({ connectionString: services.databaseUrl });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [SUMMARY_LOCK]);
    expect((await post('/api/reports/episodes/REP-W1/placing-municipality', { municipality: null })).status).toBe(201);
    const started = Date.now();
    const res = await fetch(`${base}/api/reports/monthly?month=2026-06&municipality=0604`, { headers: { authorization: `Bearer ${token}` } });
    const waited = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-summary-pending-episodes')).toBe('1');
    expect((JSON.parse(await res.text()) as any[])[0]).toMatchObject({ group: '0604', episodes: 1 }); // not yet moved back to 0617
    expect(waited).toBeGreaterThanOrEqual(250);
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
  // The lock released, the next report catches up on the last changes itself and says nothing is pending.
  const res = await fetch(`${base}/api/reports/monthly?month=2026-06&municipality=0617`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.headers.get('x-summary-pending-episodes')).toBe('0');
  expect((JSON.parse(await res.text()) as any[])[0]).toMatchObject({ group: '0617', episodes: 1, placedByOtherMunicipality: 0 });
}, 60_000);

it("dates an acknowledgement by the gateway's clock", async () => {
  const admission = episode('REP-A1', '0604').admission('2026-08-03T08:00:00Z', { estimatedDischargeDate: '2026-08-10' });
  await send(admission, '2026-08-03T08:00:00Z');
  const ack = exampleFor('acknowledgement', [outpatient], { episodeId: 'REP-A1' }) as any;
  ack.sender = { hsaId: municipal.hsaId, name: municipal.name };
  ack.sentAt = '2026-08-03T08:30:00Z';
  ack.body = { acknowledgesMessageId: admission.messageId, status: 'received' };
  clock.set('2026-08-03T08:30:00Z');
  expect((await postIngress(base, 'canonical', bytesOf(ack, 'canonical'))).status).toBe(202);
  const acknowledged = await eventually(async () => {
    const [copy] = await query<{ acknowledged_at: Date | null }>(services.databaseUrl, 'SELECT acknowledged_at FROM copies WHERE message_id = $1 AND recipient_hsa = $2', [admission.messageId, municipal.hsaId]);
    return copy?.acknowledged_at ?? undefined;
  }, 20_000, 'the copy acknowledged');
  expect(acknowledged.toISOString()).toBe('2026-08-03T08:30:00.000Z');
}, 60_000);

it("counts a notification not delivered as due once its deadline has passed on the gateway's clock, not before", async () => {
  const counts = async () =>
    (await query(services.databaseUrl, 'SELECT notifications, notifications_on_time FROM report_episodes WHERE episode_id = $1', ['REP-N1']))[0] as
      | { notifications: number; notifications_on_time: number }
      | undefined;
  const pending = async () => Number(((await query(services.databaseUrl, 'SELECT count(*)::int AS n FROM report_pending')) as [{ n: number }])[0].n);
  // The municipality's system answers 503: the admission's copy waits, undelivered.
  simulator.behave(municipal.hsaId, { mode: 'fail', status: 503 });
  try {
    const admission = episode('REP-N1', '0604').admission('2026-07-01T08:00:00Z', { estimatedDischargeDate: '2026-07-10' });
    clock.set('2026-07-01T08:00:00Z');
    expect((await postIngress(base, 'canonical', bytesOf(admission, 'canonical'))).status).toBe(202);
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND attempts > 0 AND state <> 'delivered'", [admission.messageId])).length > 0 ? true : undefined), 20_000, 'the copy tried and not delivered');
    // Its 24 hours are still ahead on the gateway's clock (the database's clock is months later): not due.
    await eventually(async () => ((await pending()) === 0 && (await counts()) !== undefined ? true : undefined), 20_000, 'the episode in the summary');
    expect(await counts()).toEqual({ notifications: 0, notifications_on_time: 0 });
    // A day and an hour later on the gateway's clock, the episode computed again (an operator's note): due, and late.
    clock.set('2026-07-02T09:00:00Z');
    expect((await post('/api/reports/episodes/REP-N1/placing-municipality', { municipality: '0617' })).status).toBe(201);
    await eventually(async () => ((await pending()) === 0 && (await counts())?.notifications === 1 ? true : undefined), 20_000, 'the notification counted as due');
    expect(await counts()).toEqual({ notifications: 1, notifications_on_time: 0 });
  } finally {
    simulator.behave(municipal.hsaId, { mode: 'accept' });
  }
}, 60_000);
