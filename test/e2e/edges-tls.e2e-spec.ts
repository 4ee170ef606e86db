import type { INestApplication } from '@nestjs/common';
import { gatewayEnv, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { bytesOf, onTimeAdmission } from '../support/messages';
import { hashKey, writeSenders } from '../support/senders';
import { createTestServices, type TestServices } from '../support/services';
import { postHttps, testCa, type Issued, type TestCa } from '../support/tls';
import type { CanonicalMessage } from '@svu/canonical';
import type { DirectoryUnit } from '@svu/directory';

/**
 * HTTPS ingress (SVU_TLS_CERT, SVU_TLS_KEY) asking for client certificates verified against
 * SVU_TLS_CA: a certificate names its sender system by fingerprint or subject (docs/senders.md).
 */
const HOSPITAL = 'SE2120000003-HOSPT';
const KEYED_KEY = 'keyed.0123456789abcdef0123456789abcdef';

let services: TestServices;
let gateway: { app: INestApplication; url: string };
let pki: TestCa;
let byFingerprint: Issued;
let bySubject: Issued;
let unknownClient: Issued;
let untrusted: Issued;
const unit: DirectoryUnit = { hsaId: 'SE2120000003-MUNI', name: 'Kommun', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'none' } };

const admission = (): CanonicalMessage => {
  const message = onTimeAdmission([unit]);
  return { ...message, sender: { ...message.sender, hsaId: HOSPITAL } };
};
const senderSystemOf = async (message: CanonicalMessage) =>
  (await query<{ sender_system: string }>(services.databaseUrl, 'SELECT sender_system FROM messages WHERE message_id = $1', [message.messageId]))[0]?.sender_system;

beforeAll(async () => {
  services = await createTestServices('edges_tls');
  pki = testCa('ingress');
  const server = pki.issue('server', '/CN=localhost');
  byFingerprint = pki.issue('client-fp', '/C=SE/O=Region Test/CN=lifecare-fp');
  bySubject = pki.issue('client-subject', '/C=SE/O=Region Test/CN=lifecare-subject');
  unknownClient = pki.issue('client-unknown', '/C=SE/O=Region Test/CN=nobody');
  untrusted = testCa('other').issue('client-untrusted', '/C=SE/O=Region Test/CN=lifecare-subject');
  const senders = writeSenders([
    { id: 'by-fingerprint', name: 'Certificate by fingerprint', hsaIds: [HOSPITAL], certificateFingerprint: byFingerprint.fingerprint256 },
    { id: 'by-subject', name: 'Certificate by subject', hsaIds: [HOSPITAL], certificateSubject: bySubject.subject },
    { id: 'keyed', name: 'Bearer key', hsaIds: [HOSPITAL], keyHash: hashKey(KEYED_KEY) },
  ]);
  const started = await startInProcess(
    gatewayEnv(services, writeDirectory([unit]), {
      SVU_SERVICES: 'ingress',
      SVU_SENDERS: senders,
      SVU_TLS_CERT: server.certPath,
      SVU_TLS_KEY: server.keyPath,
      SVU_TLS_CA: pki.ca.certPath,
    }),
  );
  gateway = { app: started.app, url: started.url.replace('http://', 'https://') };
}, 60_000);

afterAll(async () => {
  await gateway?.app.close();
  await services?.cleanup();
}, 60_000);

const post = (message: CanonicalMessage, client?: Issued, headers: Record<string, string> = {}) =>
  postHttps(`${gateway.url}/ingress/canonical`, bytesOf(message, 'canonical'), { ca: pki.ca.cert, ...(client === undefined ? {} : { client }), headers });

it('takes a message whose client certificate names a sender system by fingerprint or by subject', async () => {
  const [first, second] = [admission(), admission()];
  expect((await post(first, byFingerprint)).status).toBe(202);
  expect((await post(second, bySubject)).status).toBe(202);
  expect([await senderSystemOf(first), await senderSystemOf(second)]).toEqual(['by-fingerprint', 'by-subject']);
}, 30_000);

it('takes a bearer key over HTTPS without a client certificate', async () => {
  const message = admission();
  expect((await post(message, undefined, { authorization: `Bearer ${KEYED_KEY}` })).status).toBe(202);
  expect(await senderSystemOf(message)).toBe('keyed');
}, 30_000);

it('answers 401 with no credential, a certificate of another CA, one that names no system, or a key of another system', async () => {
  const messages = [admission(), admission(), admission(), admission()];
  const answers = [
    await post(messages[0]!),
    await post(messages[1]!, untrusted),
    await post(messages[2]!, unknownClient),
    await post(messages[3]!, byFingerprint, { authorization: `Bearer ${KEYED_KEY}` }),
  ];
  expect(answers.map((a) => [a.status, a.json['reason']])).toEqual(Array(4).fill([401, 'unauthenticated']));
  expect(answers[1]!.json['error']).toMatch(/^the client certificate is not trusted/);
  expect(answers[2]!.json['error']).toBe('the client certificate names no sender system');
  expect(answers[3]!.json['error']).toBe('the client certificate and the bearer key name different sender systems');
  for (const m of messages) expect(await senderSystemOf(m)).toBeUndefined();
}, 30_000);
