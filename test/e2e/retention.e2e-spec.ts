import type { ChildProcess } from 'node:child_process';
import { Database } from '../../apps/gateway/src/store/database';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { signIn, VIEWER, writeUsers } from '../support/console-users';
import { gatewayEnv, query, spawnGateway, writeDirectory } from '../support/gateway-harness';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';

/**
 * The retention job with two gateway processes (both run `deadlines`, so both prune): data older than
 * its retention is pruned, recent data is kept, the audit log is kept longer, and what was pruned is
 * recorded once (GET /api/retention). Rows are written straight into the store with old timestamps.
 */
let services: TestServices;
const children: ChildProcess[] = [];
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
const CANONICAL = (id: string) => ({
  messageId: id,
  type: 'admission',
  episodeId: `EP-${id}`,
  patient: { idType: 'personnummer', id: '191212121212', givenName: 'Test', familyName: 'Testsson', municipality: '1480' },
  body: { admittedAt: '2026-01-01T10:00:00Z', careType: 'somatic', text: 'fritext om patienten' },
});

async function insertMessage(id: string, receivedAt: Date, copyState: string): Promise<void> {
  const [m] = await query<{ id: string }>(
    services.databaseUrl,
    `INSERT INTO messages (message_id, type, episode_id, sender_hsa, dialect, ingress, sent_at, payload, canonical, received_at)
     VALUES ($1, 'admission', $2, 'SE2321000131-E000000000001', 'lifecare', 'amqp', $3, $4, $5, $3) RETURNING id`,
    [id, `EP-${id}`, receivedAt, Buffer.from(`<original ${id}/>`), JSON.stringify(CANONICAL(id))],
  );
  await query(
    services.databaseUrl,
    `INSERT INTO copies (message_pk, message_id, episode_id, type, recipient_hsa, recipient_role, state, payload, created_at, updated_at)
     VALUES ($1, $2, $3, 'admission', 'SE2120001637-K000000001480', 'municipal-health-care', $4, $5, $6, $6)`,
    [m!.id, id, `EP-${id}`, copyState, Buffer.from(`<translated ${id}/>`), receivedAt],
  );
}

beforeAll(async () => {
  services = await createTestServices('retention');
  // The schema, as a gateway would create it, then the data before any gateway prunes.
  const db = new Database(loadConfig({ DATABASE_URL: services.databaseUrl }));
  await db.migrate();
  await db.onApplicationShutdown();
  await insertMessage('RET-OLD-DELIVERED', ago(100), 'delivered');
  await insertMessage('RET-OLD-RETRYING', ago(100), 'retrying'); // may still be sent: kept
  await insertMessage('RET-RECENT', ago(10), 'delivered');
  for (let i = 0; i < 5; i++) await insertMessage(`RET-OLD-${i}`, ago(95), 'delivered');
  await query(services.databaseUrl, "INSERT INTO dead_letters (reason, message_id, payload, created_at, resolved_at, resolution) VALUES ('invalid-message', 'DL-OLD', 'x', $1, $1, 'discarded')", [ago(100)]);
  await query(services.databaseUrl, "INSERT INTO dead_letters (reason, message_id, payload, created_at) VALUES ('invalid-message', 'DL-OPEN', 'x', $1)", [ago(100)]);
  await query(services.databaseUrl, "INSERT INTO dead_letters (reason, message_id, payload, created_at, resolved_at, resolution) VALUES ('invalid-message', 'DL-RECENT', 'x', $1, $1, 'replayed')", [ago(5)]);
  for (const [copyOf, sentAt, status] of [['RET-OLD-DELIVERED', ago(100), 'sent'], ['RET-RECENT', ago(5), 'sent'], ['RET-OLD-0', null, 'waiting']] as const) {
    const [copy] = await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM copies WHERE message_id = $1', [copyOf]);
    await query(
      services.databaseUrl,
      `INSERT INTO fallback_documents (copy_id, message_id, recipient_hsa, kind, trigger, reference, pdf, created_at, status, sent_via, sent_at, sent_by)
       VALUES ($1, $2, 'SE2120001637-K000000001480', 'fax', 'deadline', $3, '%PDF-1.7', $4, $5, $6, $7, $8)`,
      [copy!.id, copyOf, `SVU-${copy!.id}-${copyOf}`, ago(100), status, status === 'sent' ? 'fax' : null, sentAt, status === 'sent' ? 'otto' : null],
    );
  }
  await query(services.databaseUrl, "INSERT INTO audit_log (at, username, role, action, target) VALUES ($1, 'otto', 'operator', 'view-dead-letter', 'dead-letter:1')", [ago(100)]);
  await query(services.databaseUrl, "INSERT INTO audit_log (at, username, role, action, target) VALUES ($1, 'otto', 'operator', 'view-dead-letter', 'dead-letter:2')", [ago(400)]);
}, 60_000);

afterAll(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await services?.cleanup();
}, 60_000);

it('prunes what is older than its retention with two processes, keeps recent data and the audit log longer, and records it once', async () => {
  const port = await freePort();
  const env = gatewayEnv(services, writeDirectory([]), {
    SVU_USERS: writeUsers(),
    SVU_RETAIN_PAYLOADS: 'P90D',
    SVU_RETAIN_DEAD_LETTERS: 'P30D',
    SVU_RETAIN_DOCUMENTS: 'P30D',
    SVU_RETAIN_AUDIT: 'P365D',
    SVU_RETENTION_EVERY: 'PT0.2S',
    SVU_RETENTION_BATCH: '2',
  });
  children.push(spawnGateway({ ...env, SVU_SERVICES: 'deadlines,console', PORT: String(port) }));
  children.push(spawnGateway({ ...env, SVU_SERVICES: 'deadlines' }));

  // Pruned: the six old settled messages (in batches of two), one resolved dead letter, one sent PDF, one audit entry.
  await eventually(
    async () => {
      const rows = await query<{ kind: string; n: string }>(services.databaseUrl, 'SELECT kind, sum(count) AS n FROM retention_runs GROUP BY kind');
      const by = Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
      return by['payloads'] === 6 && by['dead-letters'] === 1 && by['documents'] === 1 && by['audit'] === 1 ? by : undefined;
    },
    30_000,
    'retention ran',
  );
  // Several more rounds of both processes: nothing is pruned or recorded twice.
  await new Promise((resolve) => setTimeout(resolve, 1_500));

  const messages = await query<{ message_id: string; payload: Buffer; canonical: Record<string, unknown> & { patient: Record<string, unknown>; body: Record<string, unknown> }; pruned: boolean }>(
    services.databaseUrl,
    'SELECT message_id, payload, canonical, payload_pruned_at IS NOT NULL AS pruned FROM messages ORDER BY message_id',
  );
  const byId = new Map(messages.map((m) => [m.message_id, m]));
  const old = byId.get('RET-OLD-DELIVERED')!;
  expect(old.pruned).toBe(true);
  expect(old.payload.length).toBe(0);
  expect(old.canonical.patient).toEqual({ idType: 'personnummer', municipality: '1480' });
  expect(old.canonical.body).toEqual({ admittedAt: '2026-01-01T10:00:00Z', careType: 'somatic' });
  expect(JSON.stringify(old.canonical)).not.toMatch(/191212121212|Testsson|fritext/);
  expect(byId.get('RET-OLD-RETRYING')!.pruned).toBe(false);
  expect(byId.get('RET-RECENT')!.pruned).toBe(false);
  expect(byId.get('RET-RECENT')!.payload.toString()).toBe('<original RET-RECENT/>');
  const copies = await query<{ message_id: string; has_payload: boolean }>(services.databaseUrl, 'SELECT message_id, payload IS NOT NULL AS has_payload FROM copies');
  for (const c of copies) expect(`${c.message_id} ${c.has_payload}`).toBe(`${c.message_id} ${['RET-OLD-RETRYING', 'RET-RECENT'].includes(c.message_id)}`);

  expect((await query<{ message_id: string }>(services.databaseUrl, 'SELECT message_id FROM dead_letters ORDER BY message_id')).map((r) => r.message_id)).toEqual(['DL-OPEN', 'DL-RECENT']);
  const documents = await query<{ message_id: string; has_pdf: boolean; sent_by: string | null }>(services.databaseUrl, 'SELECT message_id, pdf IS NOT NULL AS has_pdf, sent_by FROM fallback_documents ORDER BY message_id');
  expect(documents).toEqual([
    { message_id: 'RET-OLD-0', has_pdf: true, sent_by: null }, // waiting for dispatch: kept
    { message_id: 'RET-OLD-DELIVERED', has_pdf: false, sent_by: 'otto' }, // the dispatch record stays
    { message_id: 'RET-RECENT', has_pdf: true, sent_by: 'otto' },
  ]);
  expect((await query<{ target: string }>(services.databaseUrl, 'SELECT target FROM audit_log ORDER BY id')).map((r) => r.target)).toEqual(['dead-letter:1']);
  // Outside the retention job the audit log still refuses deletes.
  await expect(query(services.databaseUrl, 'DELETE FROM audit_log')).rejects.toThrow(/cannot be changed/);

  const totals = await query<{ kind: string; n: string }>(services.databaseUrl, 'SELECT kind, sum(count) AS n FROM retention_runs GROUP BY kind ORDER BY kind');
  expect(totals.map((r) => [r.kind, Number(r.n)])).toEqual([['audit', 1], ['dead-letters', 1], ['documents', 1], ['payloads', 6]]);

  const base = `http://127.0.0.1:${port}`;
  const token = await signIn(base, VIEWER);
  const res = await fetch(`${base}/api/retention`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { kept: Array<{ kind: string; days: number }>; runs: Array<{ kind: string; count: number; cutoff: string }> };
  expect(body.kept).toEqual([{ kind: 'payloads', days: 90 }, { kind: 'dead-letters', days: 30 }, { kind: 'documents', days: 30 }, { kind: 'audit', days: 365 }]);
  expect(body.runs.reduce((n, r) => n + (r.kind === 'payloads' ? r.count : 0), 0)).toBe(6);
  expect((await fetch(`${base}/api/retention`)).status).toBe(401);

  // The limit is decimal digits, and a parameter the API does not take is refused, each naming the field.
  const asked = async (queryString: string) => {
    const answer = await fetch(`${base}/api/retention?${queryString}`, { headers: { authorization: `Bearer ${token}` } });
    return [answer.status, await answer.json()];
  };
  expect(((await asked('limit=2'))[1] as typeof body).runs).toHaveLength(2);
  for (const limit of ['1e2', '0x10', '%2B5']) {
    expect(await asked(`limit=${limit}`)).toEqual([400, { statusCode: 400, error: 'Bad Request', message: 'limit must be a whole number from 1 to 1000', field: 'limit' }]);
  }
  expect(await asked('limit=5&kind=audit')).toEqual([400, { statusCode: 400, error: 'Bad Request', message: 'kind is unknown (this request takes limit)', field: 'kind' }]);
}, 90_000);
