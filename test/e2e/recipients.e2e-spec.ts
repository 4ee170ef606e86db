import { createServer, type Server } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { gatewayEnv, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, onTimeAdmission } from '../support/messages';
import { createTestServices, eventually, freePort, type TestServices } from '../support/services';
import { testCa, type TestCa } from '../support/tls';

/**
 * HTTP recipients that authenticate the gateway (docs/recipients.md): an HTTPS sink that requires a
 * client certificate of its CA and a bearer token or basic credentials, which the gateway reads from
 * the files and environment variables the directory names.
 */
const TOKEN = `token-${process.pid}-d41d8cd98f00b204`;
const USER = 'svu-gateway';
const PASSWORD = `password-${process.pid}-9e107d9d372bb682`;

let services: TestServices;
let gateway: { app: INestApplication; url: string };
let pki: TestCa;
let sink: Server;
let logFile: string;
const arrived: Array<{ path: string; authorization: string | undefined; client: string | undefined; messageId: string | undefined }> = [];
let units: DirectoryUnit[];
let directoryPath: string;

beforeAll(async () => {
  services = await createTestServices('recipients');
  pki = testCa('recipients');
  const server = pki.issue('sink', '/CN=localhost');
  const gatewayCert = pki.issue('gateway', '/C=SE/O=Region Test/CN=svu-gateway');
  const tokenFile = join(pki.dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  process.env['SVU_TEST_RECIPIENT_USER'] = USER;
  process.env['SVU_TEST_RECIPIENT_PASSWORD'] = PASSWORD;
  delete process.env['SVU_TEST_RECIPIENT_MISSING'];
  const expected: Record<string, string> = { '/bearer': `Bearer ${TOKEN}`, '/basic': `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
  sink = createServer({ key: server.key, cert: server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      const client = Array.isArray(cn) ? cn.join(',') : cn;
      arrived.push({ path: req.url ?? '', authorization: req.headers.authorization, client, messageId: req.headers['x-svu-message-id'] as string | undefined });
      res.statusCode = req.headers.authorization === expected[req.url ?? ''] ? 200 : 401;
      res.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => sink.listen(port, '127.0.0.1', resolve));
  const tls = { certFile: gatewayCert.certPath, keyFile: gatewayCert.keyPath, caFile: pki.ca.certPath };
  const unit = (id: string, path: string, auth: NonNullable<Extract<DirectoryUnit['transport'], { kind: 'http' }>['auth']>): DirectoryUnit => ({
    hsaId: `SE2120000008-${id}`,
    name: id,
    role: 'municipal-health-care',
    dialect: 'samsa',
    transport: { kind: 'http', url: `https://127.0.0.1:${port}${path}`, auth, tls },
  });
  units = [
    unit('BEARER', '/bearer', { bearerTokenFile: tokenFile }),
    unit('BASIC', '/basic', { usernameEnv: 'SVU_TEST_RECIPIENT_USER', passwordEnv: 'SVU_TEST_RECIPIENT_PASSWORD' }),
    unit('MISSING', '/missing', { bearerTokenEnv: 'SVU_TEST_RECIPIENT_MISSING' }),
  ];
  directoryPath = writeDirectory(units);
  const env = gatewayEnv(services, directoryPath, { SVU_SERVICES: 'ingress,router,egress', SVU_RETRY_BUDGET: 'PT60S' });
  logFile = env['SVU_LOG_FILE']!;
  gateway = await startInProcess(env);
}, 60_000);

afterAll(async () => {
  await gateway?.app.close();
  await new Promise((resolve) => sink?.close(resolve));
  delete process.env['SVU_TEST_RECIPIENT_USER'];
  delete process.env['SVU_TEST_RECIPIENT_PASSWORD'];
  await services?.cleanup();
}, 60_000);

it('delivers over HTTPS with the client certificate and the bearer token or basic credentials the directory names', async () => {
  const message = onTimeAdmission(units.slice(0, 2));
  expect((await postIngress(gateway.url, 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
  const states = await eventually(async () => {
    const rows = await query<{ recipient_hsa: string; state: string }>(services.databaseUrl, 'SELECT recipient_hsa, state FROM copies WHERE message_id = $1 ORDER BY id', [message.messageId]);
    return rows.every((r) => r.state === 'delivered') && rows.length === 2 ? rows : undefined;
  });
  expect(states.map((s) => s.recipient_hsa)).toEqual([units[0]!.hsaId, units[1]!.hsaId]);
  const mine = arrived.filter((a) => a.messageId === message.messageId).map((a) => ({ path: a.path, client: a.client, ok: a.authorization !== undefined }));
  expect(mine.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
    { path: '/basic', client: 'svu-gateway', ok: true },
    { path: '/bearer', client: 'svu-gateway', ok: true },
  ]);
}, 40_000);

it('retries a copy whose credential is missing, naming the variable and never a secret', async () => {
  const message = onTimeAdmission([units[2]!]);
  expect((await postIngress(gateway.url, 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
  // Between its tries the copy waits as 'retrying'; the recipient's probe takes it to 'sending' for a
  // moment now and then (a read that falls in that moment is not the answer).
  const copy = await eventually(async () => {
    const rows = await query<{ state: string; last_error: string | null }>(services.databaseUrl, 'SELECT state, last_error FROM copies WHERE message_id = $1', [message.messageId]);
    return rows[0]?.last_error === null || rows[0] === undefined || rows[0].state === 'sending' ? undefined : rows[0];
  });
  expect(copy).toEqual({ state: 'retrying', last_error: 'environment variable SVU_TEST_RECIPIENT_MISSING with a credential is not set' });
  expect(arrived.filter((a) => a.messageId === message.messageId)).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const log = readFileSync(logFile, 'utf8');
  for (const secret of [TOKEN, PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) expect(log).not.toContain(secret);
}, 40_000);

it('delivers a waiting copy once the directory names the credential right: the correction applies to copies already routed', async () => {
  const message = onTimeAdmission([units[2]!]);
  expect((await postIngress(gateway.url, 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
  await eventually(async () => {
    const rows = await query<{ last_error: string | null }>(services.databaseUrl, 'SELECT last_error FROM copies WHERE message_id = $1', [message.messageId]);
    return rows[0]?.last_error?.includes('SVU_TEST_RECIPIENT_MISSING') === true ? true : undefined;
  }, 20_000, 'the copy failing for its missing credential');
  const fixed = units.map((u, i) => (i === 2 && u.transport.kind === 'http' ? { ...u, transport: { ...u.transport, url: u.transport.url.replace('/missing', '/bearer'), auth: { bearerTokenFile: tokenFileOf(units[0]!) } } } : u));
  writeFileSync(directoryPath, JSON.stringify({ units: fixed }, null, 2));
  await eventually(async () => {
    const rows = await query<{ state: string }>(services.databaseUrl, 'SELECT state FROM copies WHERE message_id = $1', [message.messageId]);
    return rows[0]?.state === 'delivered' ? true : undefined;
  }, 40_000, 'the waiting copy delivered with the corrected credential');
  expect(arrived.filter((a) => a.messageId === message.messageId).map((a) => a.path)).toContain('/bearer');
}, 60_000);

function tokenFileOf(unit: DirectoryUnit): string {
  const auth = unit.transport.kind === 'http' ? unit.transport.auth : undefined;
  if (auth === undefined || !('bearerTokenFile' in auth) || auth.bearerTokenFile === undefined) throw new Error('the unit has no token file');
  return auth.bearerTokenFile;
}
