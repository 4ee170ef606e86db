import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { decodeDocument, encodeDocument, type Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import type { GatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { SENT_2026, identityMessage, wireId } from '../fixtures/personnummer';
import { gatewayEnv, IngressPublisher, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { createTestServices, eventually, type TestServices } from '../support/services';

/**
 * The birth number 000 (never issued; docs/identity-numbers.md) refused at the gateway's edges: an
 * explicit 400 with the problem at patient.id over HTTP, a dead letter with its reason over both
 * transports, and no identity number in the log.
 */
const FORMATS: readonly Format[] = ['lifecare', 'webcare', 'samsa', 'canonical'];
const UNISSUED = '201509160006';
const VALID = '200002292399';

let services: TestServices;
let gateway: { app: INestApplication; url: string; config: GatewayConfig };
let publisher: IngressPublisher;

/** The contract example's two recipients, with no electronic route (nothing to deliver to in this test). */
const UNITS: DirectoryUnit[] = [
  { hsaId: 'SE2120001637-K000000001480', name: 'Kommun', role: 'municipal-health-care', dialect: 'webcare', transport: { kind: 'none' }, fax: '+46 31 100 00 00', postalAddress: ['Box 1', '411 00 Göteborg'] },
  { hsaId: 'SE2321000131-P000000012345', name: 'Vårdcentral', role: 'primary-care', dialect: 'samsa', transport: { kind: 'none' }, fax: '+46 31 100 00 01', postalAddress: ['Box 2', '411 00 Göteborg'] },
];

/** A discharge-estimate carrying `id` (12 digits) in the format's form, with a message id of its own. */
function message(format: Format, id: string, messageId: string): Buffer {
  const bytes = identityMessage(format, 'personnummer', wireId(format, id, SENT_2026.swedishYear), SENT_2026);
  return encodeDocument(format, decodeDocument(format, bytes)!.replace('LC-2026-000140', messageId));
}

beforeAll(async () => {
  services = await createTestServices('identity');
  gateway = await startInProcess(gatewayEnv(services, writeDirectory(UNITS)));
  publisher = new IngressPublisher(services.amqpUrl);
}, 120_000);

afterAll(async () => {
  await publisher?.close();
  await gateway?.app.close();
  await services?.cleanup();
}, 60_000);

describe('birth number 000 at ingress', () => {
  it.each(FORMATS.map((f) => [f]))('%s over HTTP: 400 with the problem at patient.id, kept as a dead letter', async (format) => {
    const messageId = `PNR000-HTTP-${format}`;
    const answer = await postIngress(gateway.url, format, message(format, UNISSUED, messageId));
    const json = (await answer.json()) as { problems: unknown; deadLetterId: string };
    expect(answer.status).toBe(400);
    expect(json.problems).toEqual([{ path: 'patient.id', message: 'birth number 000 is never issued' }]);
    const rows = await query<{ reason: string; problems: unknown; message_id: string }>(
      services.databaseUrl,
      'SELECT reason, problems, message_id FROM dead_letters WHERE id = $1',
      [json.deadLetterId],
    );
    expect(rows).toEqual([{ reason: 'invalid-message', problems: json.problems, message_id: messageId }]);
  }, 60_000);

  it('accepts the same message with a valid number of the shared data (the refusal is the birth number)', async () => {
    for (const format of FORMATS) {
      const answer = await postIngress(gateway.url, format, message(format, VALID, `PNR-VALID-${format}`));
      expect([format, answer.status]).toEqual([format, 202]);
    }
  }, 60_000);

  it('over AMQP: kept as a dead letter with the problem at patient.id', async () => {
    const messageId = 'PNR000-AMQP-lifecare';
    await publisher.publish('lifecare', message('lifecare', UNISSUED, messageId));
    const rows = await eventually(async () => {
      const r = await query<{ reason: string; problems: unknown }>(services.databaseUrl, 'SELECT reason, problems FROM dead_letters WHERE message_id = $1', [messageId]);
      return r.length > 0 ? r : undefined;
    }, 30_000);
    expect(rows).toEqual([{ reason: 'invalid-message', problems: [{ path: 'patient.id', message: 'birth number 000 is never issued' }] }]);
  }, 60_000);

  it('logs the refusals by message id, without the identity number in any form', async () => {
    const log = await eventually(() => {
      const text = readFileSync(gateway.config.logFile!, 'utf8');
      return text.includes('PNR000-AMQP-lifecare') ? text : undefined;
    });
    expect(log).toContain('PNR000-HTTP-webcare');
    expect(log).not.toMatch(/(20)?150916[-+]?0006|(20)?000229[-+]?2399/);
  });
});
