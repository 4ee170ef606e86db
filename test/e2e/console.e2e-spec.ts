import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR, VIEWER } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { apiDocument, documentedOperations } from '../support/api-document';
import { postIngress } from '../support/ingress-client';
import { bytesOf, canonicalOf, exampleFor } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { apiCall, startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let units: DirectoryUnit[];
let viewer: string;
let operator: string;
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));

const call = (method: string, path: string, token?: string, body?: unknown) => apiCall(base, method, path, token, body);
const ingest = (format: string, bytes: Buffer) => postIngress(base, format, bytes).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

/** Every documented console route (any signed-in user, or operators only), with its path parameters filled in. */
const consoleRoutes = async () =>
  (await documentedOperations(base))
    .filter((op) => op.access === 'signed-in' || op.access === 'operator')
    .map((op) => ({ method: op.method, path: op.path.replace(/\{\w+\}/g, '1'), operatorOnly: op.access === 'operator' }));

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'console',
    units: (port) => [
      { hsaId: 'SE2120000004-HTTP', name: 'Hemsjukvården Test', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/u`, allowInsecureHttp: true } },
      { hsaId: 'SE2120000004-NONE', name: 'Socialtjänst Test', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 9', '411 09 Göteborg'] },
    ],
    settings: { SVU_BULK_PER_SECOND: '20', SVU_RETRY_BUDGET: 'PT0.5S' },
    clock,
  });
  ({ services, simulator, app, base, viewer, operator, units } = gateway);
}, 60_000);

afterAll(() => gateway?.close(), 60_000);

describe('authorization', () => {
  it('documents every route the app serves in the generated OpenAPI document, and no other, each with an operationId', async () => {
    const express = app.getHttpAdapter().getInstance() as { router?: { stack: any[] }; _router?: { stack: any[] } };
    const stack = (express.router ?? express._router)!.stack;
    const served = stack
      // Not the API documentation's own pages, nor Nest's catch-all that answers 404 for every other path.
      .filter((layer) => layer.route !== undefined && !String(layer.route.path).startsWith('/api/docs') && !String(layer.route.path).includes('*'))
      .flatMap((layer) => Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`))
      .sort();
    const operations = await documentedOperations(base);
    expect(served.length).toBeGreaterThanOrEqual(34);
    expect(served).toContain('POST /ingress/{dialect}');
    expect(served).toEqual(operations.map((op) => `${op.method} ${op.path}`).sort());
    const ids = operations.map((op) => op.operationId);
    expect(ids.filter((id) => !/^[a-z][A-Za-z]+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every answer of the document a real shape (no bare object) and every console operation its security', async () => {
    const document = await apiDocument(base);
    expect(document.openapi).toBe('3.1.0');
    const bare: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op['responses'] as Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>)) {
          for (const [type, media] of Object.entries(response.content ?? {})) {
            const schema = media.schema ?? {};
            if (type === 'application/json' && schema['$ref'] === undefined && schema['anyOf'] === undefined) bare.push(`${method} ${path} ${status}`);
          }
        }
        if (op['x-access'] === 'signed-in' || op['x-access'] === 'operator') expect({ path, security: op['security'] }).toEqual({ path, security: [{ consoleToken: [] }, { consoleSession: [] }] });
        if (op['x-access'] === 'sender') expect({ path, security: op['security'] }).toEqual({ path, security: [{ senderKey: [] }, { clientCertificate: [] }] });
      }
    }
    expect(bare).toEqual([]);
  });

  it('refuses a caller who is not signed in on every console route', async () => {
    const routes = await consoleRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(27);
    for (const { method, path } of routes) {
      expect({ method, path, status: (await call(method, path)).status }).toEqual({ method, path, status: 401 });
      expect({ method, path, status: (await call(method, path, 'forged.token')).status }).toEqual({ method, path, status: 401 });
    }
  });

  it('refuses a viewer on every operator route', async () => {
    const routes = (await consoleRoutes()).filter((r) => r.operatorOnly);
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const { method, path } of routes) {
      expect({ method, path, status: (await call(method, path, viewer, method === 'GET' ? undefined : {})).status }).toEqual({ method, path, status: 403 });
    }
  });

  it('refuses a wrong password and a tampered token', async () => {
    expect((await call('POST', '/api/login', undefined, { username: OPERATOR.username, password: 'wrong' })).status).toBe(401);
    const [body, mac] = viewer.split('.');
    const forged = Buffer.from(JSON.stringify({ username: VIEWER.username, role: 'operator', exp: Date.now() + 1e6 })).toString('base64url');
    expect((await call('POST', '/api/dead-letters/1/discard', `${forged}.${mac}`, { reason: 'x' })).status).toBe(401);
    expect((await call('GET', '/api/me', `${body}.${mac}`)).body).toEqual({ username: VIEWER.username, role: 'viewer' });
  });
});

describe('dead-letter queue', () => {
  it('lists without identity numbers, filters, searches, and shows the payload to operators only, audited', async () => {
    const message = exampleFor('admission', [units[0]!]);
    const broken = bytesOf(message, 'lifecare').toString('utf8').replace('SOMATIK', 'KIRURGI');
    const answer = await ingest('lifecare', Buffer.from(broken));
    expect(answer.status).toBe(400);
    const list = await call('GET', `/api/dead-letters?reason=invalid-message&dialect=lifecare&q=${message.messageId}`, viewer);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toMatch(/19410708|410708-6995|194107086995|Karin|Öberg/);
    expect((await call('GET', `/api/dead-letters?dialect=samsa&q=${message.messageId}`, viewer)).body.items).toHaveLength(0);
    expect((await call('GET', `/api/dead-letters?q=${message.episodeId}`, viewer)).body.items).toHaveLength(1);
    const id = list.body.items[0].id as string;

    const asViewer = (await call('GET', `/api/dead-letters/${id}`, viewer)).body;
    expect(asViewer.payload).toBeNull();
    expect(asViewer.problems).toEqual([{ path: 'body.careType', message: 'unknown code "KIRURGI"' }]);
    expect(JSON.stringify(asViewer)).not.toMatch(/194107086995|410708-6995/);
    const asOperator = (await call('GET', `/api/dead-letters/${id}`, operator)).body;
    expect(asOperator.payload).toBe(broken);

    const audit = (await call('GET', '/api/audit', viewer)).body.items as Array<{ username: string; action: string; target: string; detail: any }>;
    const views = audit.filter((a) => a.action === 'view-dead-letter' && a.target === `dead-letter:${id}`);
    expect(views.map((v) => [v.username, v.detail.patientDataShown])).toEqual([[OPERATOR.username, true], [VIEWER.username, false]]);
  }, 30_000);

  it('pages with a cursor through many dead letters without repeats', async () => {
    const episodeId = `PAGE-${Date.now()}`;
    for (let i = 0; i < 7; i++) await ingest('samsa', Buffer.from(JSON.stringify({ meddelandeId: `PAGE-${episodeId}-${i}`, vardtillfalleId: episodeId })));
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 5; page++) {
      const res = await call('GET', `/api/dead-letters?q=${episodeId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, viewer);
      seen.push(...res.body.items.map((d: any) => d.messageId));
      if (res.body.next === null) break;
      cursor = res.body.next;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('corrects and replays: refuses a still-invalid edit, accepts a valid one, keeps the original', async () => {
    const message = exampleFor('message', [units[0]!]);
    const original = bytesOf(message, 'samsa').toString('utf8').replace('"meddelande": {', '"meddelandeX": {');
    const { body } = await ingest('samsa', Buffer.from(original));
    const id = body.deadLetterId as string;
    const stillBad = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: original.replace('kommunal-hsl', 'kommun') });
    expect(stillBad.status).toBe(400);
    expect(stillBad.body.problems.map((p: any) => p.path)).toEqual(expect.arrayContaining(['body.subject', 'recipients[0].role']));
    const fixed = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: bytesOf(message, 'samsa').toString('utf8') });
    expect(fixed.status).toBe(201);
    expect(fixed.body).toEqual({ status: 'corrected', messageId: message.messageId });
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    const detail = (await call('GET', `/api/dead-letters/${id}`, operator)).body;
    expect(detail).toMatchObject({ resolution: 'corrected', resolvedBy: OPERATOR.username, payload: original });
    expect((await call('POST', `/api/dead-letters/${id}/discard`, operator, { reason: 'late' })).status).toBe(409);
  }, 30_000);

  it('shows a webcare payload as the gateway reads it and sends an edited one in webcare\'s encoding', async () => {
    const message = exampleFor('message', [units[0]!]);
    const written = bytesOf(message, 'webcare');
    const role = /roll="\d+"/.exec(written.toString('latin1'))![0];
    // As real feeds send it: Windows-1252 bytes 0x80 (€) and 0x92 (’) in a document declaring ISO-8859-1,
    // and a recipient role webcare does not know. (latin1 here only views bytes one to one.)
    const original = Buffer.from(written.toString('latin1').replace('Hej!', 'Hej! Avgift 50 \u0080, \u0092ok\u0092.').replace(role, 'roll="9"'), 'latin1');
    expect([...original].filter((b) => b === 0x80 || b === 0x92)).toHaveLength(3);
    const { status, body } = await ingest('webcare', original);
    expect(status).toBe(400);
    const id = body.deadLetterId as string;
    const dead = (await call('GET', `/api/dead-letters/${id}`, operator)).body;
    expect(dead.payloadCharset).toBe('iso-8859-1');
    const shown = dead.payload as string;
    expect(shown).toContain('Hej! Avgift 50 €, ’ok’.');
    expect(shown).toContain('läkemedelslista');

    // The operator fixes the role and types € and a Polish ł, which ISO-8859-1 cannot carry.
    const edited = shown.replace('roll="9"', role).replace('Avgift 50 €', 'Avgift 50 € (Łukasz Wałęsa)');
    const fixed = await call('POST', `/api/dead-letters/${id}/correct`, operator, { payload: edited });
    expect(fixed.body).toEqual({ status: 'corrected', messageId: message.messageId });
    const got = await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    expect(canonicalOf('samsa', got.bytes).body).toMatchObject({ text: 'Hej! Avgift 50 € (Łukasz Wałęsa), ’ok’.\nKan ni skicka aktuell läkemedelslista före hemgång?\nMvh sjuksköterska' });
    expect((await call('GET', `/api/dead-letters/${id}`, operator)).body).toMatchObject({ resolution: 'corrected', payload: shown });
  }, 30_000);

  it('replays a copy that could not be delivered once the recipient is back', async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 500 });
    const message = exampleFor('message', [units[0]!]);
    await ingest('canonical', bytesOf(message, 'canonical'));
    const [dead] = await eventually(async () => {
      const rows = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    expect((await call('POST', `/api/dead-letters/${dead!.id}/replay`, operator)).body).toEqual({ status: 'replayed', messageId: message.messageId });
    await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
  }, 30_000);

  it('discards only with a reason', async () => {
    const { body } = await ingest('samsa', Buffer.from('{"meddelandeId": "DISCARD-ME"}'));
    expect((await call('POST', `/api/dead-letters/${body.deadLetterId}/discard`, operator, {})).status).toBe(400);
    expect((await call('POST', `/api/dead-letters/${body.deadLetterId}/discard`, operator, { reason: 'Testmeddelande från leverantör' })).body).toEqual({ status: 'discarded' });
  });

  it('bulk: previews the count, needs it confirmed, runs in the background with progress, and can be cancelled', async () => {
    const episodeId = `BULK-${Date.now()}`;
    for (let i = 0; i < 6; i++) await ingest('samsa', Buffer.from(JSON.stringify({ meddelandeId: `B-${episodeId}-${i}`, vardtillfalleId: episodeId })));
    const filter = { q: episodeId };
    expect((await call('POST', '/api/dead-letters/bulk/preview', operator, { filter })).body.count).toBe(6);
    expect((await call('POST', '/api/dead-letters/bulk', operator, { filter, action: 'discard', reason: 'skräp', confirm: 5 })).status).toBe(409);
    const job = (await call('POST', '/api/dead-letters/bulk', operator, { filter, action: 'discard', reason: 'skräp', confirm: 6 })).body;
    expect(job).toMatchObject({ total: 6, status: 'running' });
    const finished = await eventually(async () => {
      const j = (await call('GET', `/api/bulk-jobs/${job.id}`, viewer)).body;
      return j.status === 'done' ? j : undefined;
    });
    expect(finished).toMatchObject({ done: 6, failed: 0 });
    expect((await call('GET', `/api/dead-letters?q=${episodeId}`, viewer)).body.items).toHaveLength(0);

    const many = `BULK2-${Date.now()}`;
    for (let i = 0; i < 40; i++) await ingest('samsa', Buffer.from(JSON.stringify({ meddelandeId: `C-${many}-${i}`, vardtillfalleId: many })));
    const slow = (await call('POST', '/api/dead-letters/bulk', operator, { filter: { q: many }, action: 'discard', reason: 'skräp', confirm: 40 })).body;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelled = (await call('POST', `/api/bulk-jobs/${slow.id}/cancel`, operator)).body;
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: OPERATOR.username });
    // The runner looks before each dead letter and marks the job finished when it stops: from then on
    // the job's counts are final and agree with what is left in the store.
    const after = await eventually(async () => {
      const j = (await call('GET', `/api/bulk-jobs/${slow.id}`, viewer)).body;
      return j.finishedAt !== null ? j : undefined;
    });
    const left = (await call('GET', `/api/dead-letters?q=${many}&limit=100`, viewer)).body;
    expect(left.items.length).toBe(40 - after.done);
    expect(left.total).toBe(40 - after.done);
    expect(after.done + after.failed + after.skipped + after.cancelled).toBe(40);
    expect(after.cancelled).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await call('GET', `/api/bulk-jobs/${slow.id}`, viewer)).body).toEqual(after);
    // The list of jobs holds both, newest first, with the same counts.
    const jobs = (await call('GET', '/api/bulk-jobs', viewer)).body as any[];
    expect(jobs.slice(0, 2).map((j) => [j.id, j.status])).toEqual([[slow.id, 'cancelled'], [job.id, 'done']]);
    expect(jobs[0]).toEqual(after);
    expect((await call('GET', '/api/bulk-jobs?page=2', viewer)).body).toMatchObject({ field: 'page' });

    // A job whose runner stopped with its process (no sign of life): a cancel finishes it at once.
    const [orphan] = await query<{ id: string }>(services.databaseUrl, `INSERT INTO bulk_jobs (action, filter, total, done, created_by, created_at, beat_at)
      VALUES ('replay', '{}', 10, 4, 'otto', now() - interval '1 hour', now() - interval '1 hour') RETURNING id::text`);
    expect((await call('POST', `/api/bulk-jobs/${orphan!.id}/cancel`, operator)).body).toMatchObject({ status: 'cancelled', done: 4, cancelled: 6, finishedAt: expect.any(String) });
    expect((await call('POST', `/api/bulk-jobs/${orphan!.id}/cancel`, operator)).body).toMatchObject({ cancelled: 6 });

    // The audit log: one row per job, its dead letters grouped under it.
    const log = (await call('GET', `/api/audit?action=bulk-discard`, viewer)).body;
    expect(log.items.slice(0, 2).map((a: any) => [a.target, a.items])).toEqual([[`bulk-job:${slow.id}`, after.done + after.failed], [`bulk-job:${job.id}`, 6]]);
    expect(log.total).toBe(2);
    const items = (await call('GET', `/api/audit?job=${job.id}`, viewer)).body;
    expect([items.total, items.items.every((a: any) => a.action === 'discard' && a.target.startsWith('dead-letter:'))]).toEqual([6, true]);
    const top = (await call('GET', '/api/audit?limit=500', viewer)).body;
    expect(top.items.some((a: any) => a.detail?.bulkJob !== undefined)).toBe(false);
  }, 60_000);
});

describe('dead-letter list, bulk preview and audit log filters', () => {
  it('finds dead letters by part of the HSA id or of the unit name, counts the total, and previews a bulk job with its breakdown', async () => {
    simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 503 });
    const messages = [0, 1].map(() => exampleFor('message', [units[0]!]));
    for (const m of messages) await ingest('samsa', bytesOf(m, 'samsa'));
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM dead_letters WHERE reason = 'delivery-failed' AND message_id = ANY($1)", [messages.map((m) => m.messageId)])).length === 2 ? true : undefined));
    simulator.behave(units[0]!.hsaId, { mode: 'accept' });
    const exact = (await call('GET', `/api/dead-letters?reason=delivery-failed&recipient=${units[0]!.hsaId}`, viewer)).body;
    expect(exact.total).toBeGreaterThanOrEqual(2);
    for (const text of ['0004-http', '2120000004', 'hemsjukvården', 'Hemsjukvården Test']) {
      const page = (await call('GET', `/api/dead-letters?reason=delivery-failed&recipient=${encodeURIComponent(text)}`, viewer)).body;
      expect([text, page.total, page.items.every((d: any) => d.recipientHsa === units[0]!.hsaId)]).toEqual([text, exact.total, true]);
    }
    expect((await call('GET', `/api/dead-letters?reason=delivery-failed&recipient=Socialtj`, viewer)).body.total).toBe(0);
    const paged = (await call('GET', `/api/dead-letters?reason=delivery-failed&recipient=Hemsj&limit=1`, viewer)).body;
    expect([paged.items.length, paged.total, typeof paged.next]).toEqual([1, exact.total, 'string']);
    const preview = (await call('POST', '/api/dead-letters/bulk/preview', operator, { filter: { reason: 'delivery-failed', recipient: 'hemsjukv' } })).body;
    expect(preview.count).toBe(exact.total);
    expect(preview.breakdown.byUnit).toEqual([{ key: units[0]!.hsaId, name: 'Hemsjukvården Test', count: exact.total }]);
    expect(preview.breakdown.byReason).toEqual([{ key: 'delivery-failed', count: exact.total }]);
    expect(preview.breakdown.byType.reduce((n: number, t: any) => n + t.count, 0)).toBe(exact.total);
  }, 30_000);

  it('filters the audit log by user, action, target and period, pages it with a total, and refuses unknown parameters by name', async () => {
    const all = (await call('GET', '/api/audit?limit=500', viewer)).body;
    expect(all.total).toBeGreaterThan(3);
    const mine = (await call('GET', `/api/audit?user=${VIEWER.username}&action=login`, viewer)).body;
    expect(mine.items.length).toBeGreaterThan(0);
    expect(mine.items.every((a: any) => a.username === VIEWER.username && a.action === 'login')).toBe(true);
    const firstTwo = (await call('GET', '/api/audit?limit=2', viewer)).body;
    expect([firstTwo.items.length, firstTwo.total, firstTwo.next]).toEqual([2, all.total, firstTwo.items[1].id]);
    const nextTwo = (await call('GET', `/api/audit?limit=2&before=${firstTwo.next}`, viewer)).body;
    expect(nextTwo.items.map((a: any) => a.id)).toEqual(all.items.slice(2, 4).map((a: any) => a.id));
    // A target filter lists the entries of bulk jobs' dead letters too.
    const target = (await call('GET', '/api/audit?target=dead-letter:', viewer)).body.items[0].target as string;
    const byTarget = (await call('GET', `/api/audit?target=${encodeURIComponent(target)}`, viewer)).body;
    expect(byTarget.items.length).toBeGreaterThan(0);
    expect(byTarget.items.every((a: any) => a.target.includes(target))).toBe(true);
    expect((await call('GET', '/api/audit?to=2000-01-01', viewer)).body).toEqual({ items: [], total: 0, next: null });
    expect((await call('GET', '/api/audit?from=2000-01-01', viewer)).body.total).toBe(all.total);
    for (const [path, field] of [['/api/audit?who=x', 'who'], ['/api/audit?from=yesterday', 'from'], ['/api/audit?job=x', 'job'], ['/api/audit?limit=0', 'limit']]) {
      const refused = await call('GET', path!, viewer);
      expect([path, refused.status, refused.body.field]).toEqual([path, 400, field]);
    }
  }, 30_000);
});

describe('manual dispatch, deviations, audit, metrics', () => {
  it('lists fallback documents, serves the PDF (audited), and lets only an operator mark one sent', async () => {
    const message = exampleFor('admission', [units[1]!]);
    await ingest('samsa', bytesOf(message, 'samsa'));
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'manual'", [message.messageId])).length > 0 ? true : undefined));
    await app.get(DeadlineService).tick();
    const waiting = ((await call('GET', '/api/manual-dispatch', viewer)).body).items as any[];
    const doc = waiting.find((d) => d.messageId === message.messageId);
    expect(doc).toMatchObject({ kind: 'letter', trigger: 'no-electronic-route', status: 'waiting' });
    // The document holds the patient's name and identity number in full: operators only.
    expect((await call('GET', `/api/manual-dispatch/${doc.id}/pdf`, viewer)).status).toBe(403);
    const pdf = await call('GET', `/api/manual-dispatch/${doc.id}/pdf`, operator);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect((pdf.body as Buffer).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/sent`, viewer, { via: 'letter' })).status).toBe(403);
    // The time of sending moves the 24-hour judgement: not ahead of the clock, not before the document existed.
    const future = await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter', at: '2099-01-01T00:00:00Z' });
    expect([future.status, (future.body).message]).toEqual([400, 'at: lies in the future']);
    const before = await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter', at: '2000-01-01T00:00:00Z' });
    expect([before.status, (before.body).message]).toEqual([400, 'at: lies before the document was made']);
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter', at: 'yesterday' })).status).toBe(400);
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter' })).body).toMatchObject({ status: 'sent', sentBy: OPERATOR.username });
    expect((await call('POST', `/api/manual-dispatch/${doc.id}/sent`, operator, { via: 'letter' })).status).toBe(409);
    const audit = (await call('GET', '/api/audit', viewer)).body.items as any[];
    expect(audit.some((a) => a.action === 'download-fallback-document' && a.username === OPERATOR.username)).toBe(true);
    expect(audit.some((a) => a.action === 'download-fallback-document' && a.username === VIEWER.username)).toBe(false);
    expect(audit.some((a) => a.action === 'mark-sent' && a.username === OPERATOR.username)).toBe(true);
  }, 30_000);

  it('queries deviations by unit and period', async () => {
    const rows = ((await call('GET', `/api/deviations?unit=${units[0]!.hsaId}&kind=dead-lettered&from=2020-01-01`, viewer)).body).items as any[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.unitHsa === units[0]!.hsaId && r.kind === 'dead-lettered')).toBe(true);
    expect((await call('GET', `/api/deviations?unit=${units[0]!.hsaId}&to=2000-01-01`, viewer)).body).toEqual({ total: 0, offset: 0, limit: 200, items: [] });
    expect((await call('GET', '/api/deviations?from=yesterday', viewer)).status).toBe(400);
    // Every list takes its own parameters only, and its limit in decimal digits.
    expect((await call('GET', '/api/deviations?limit=1e2', viewer)).body).toMatchObject({ field: 'limit' });
    for (const path of ['/api/deviations?units=x', '/api/dead-letters?limt=5', '/api/manual-dispatch?page=2', '/api/audit?after=1', '/api/at-risk?all=1']) {
      const answer = await call('GET', path, viewer);
      expect([path, answer.status, answer.body.field]).toEqual([path, 400, new URL(path, 'http://x').searchParams.keys().next().value]);
    }
  });

  it('offers no way to change the audit log, and the store refuses it too', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) expect([404, 405]).toContain((await call(method, '/api/audit', operator, {})).status);
    await expect(query(services.databaseUrl, "UPDATE audit_log SET username = 'someone else'")).rejects.toThrow(/cannot be changed/);
    await expect(query(services.databaseUrl, 'DELETE FROM audit_log')).rejects.toThrow(/cannot be changed/);
  });

  it('serves Prometheus metrics and health', async () => {
    const text = (await call('GET', '/metrics')).body.toString('utf8');
    for (const name of ['svu_messages_total', 'process_cpu_seconds_total', 'svu_copies', 'svu_dead_letters', 'svu_copies_at_risk', 'svu_delivery_latency_seconds_bucket', 'svu_fallback_documents_total']) expect(text).toContain(name);
    expect(text).not.toMatch(/194107086995|Karin/);
    expect((await call('GET', '/health/ready')).body).toEqual({ status: 'ready', broker: true, database: true });
  });
});
