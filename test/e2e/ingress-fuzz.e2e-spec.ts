import fc from 'fast-check';
import type { INestApplication } from '@nestjs/common';
import { FORMATS } from '@svu/dialects';
import { exampleBytes, MESSAGE_TYPES } from '../fixtures/contract-examples';
import { apply, mutation } from '../fuzz/mutations';
import { gatewayEnv, query, startInProcess, writeDirectory } from '../support/gateway-harness';
import { createTestServices, type TestServices } from '../support/services';
import { postIngress } from '../support/ingress-client';

/**
 * Mutated messages over HTTP ingress: every answer is 202, 400, 403 (a sender or an id the test sender
 * system may not use, an acknowledgement of nothing sent to it), 409 (another message under an id used
 * before) or 413 — never a server error — and nothing refused vanishes.
 */
const RUNS = Number(process.env['FUZZ_HTTP_RUNS'] ?? 1_500);
let services: TestServices;
let gateway: { app: INestApplication; url: string };

beforeAll(async () => {
  services = await createTestServices('ingress_fuzz');
  gateway = await startInProcess(gatewayEnv(services, writeDirectory([]), { SVU_SERVICES: 'ingress' }));
}, 60_000);

afterAll(async () => {
  await gateway?.app.close();
  await services?.cleanup();
}, 60_000);

it(`answers ${RUNS} mutated messages with 202, 400, 403, 409 or 413 and keeps every refused one`, async () => {
  const counts = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...FORMATS), fc.nat({ max: MESSAGE_TYPES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (format, type, mutations) => {
      const body = apply(exampleBytes(MESSAGE_TYPES[type]!, format), mutations);
      const res = await postIngress(gateway.url, format, body);
      const json = (await res.json()) as { problems?: Array<{ path: string; message: string }>; messageId?: string };
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      expect([202, 400, 403, 409, 413]).toContain(res.status);
      if (res.status === 400) expect(json.problems!.length).toBeGreaterThan(0);
    }),
    { numRuns: RUNS },
  );
  const refused = (counts.get(400) ?? 0) + (counts.get(403) ?? 0) + (counts.get(409) ?? 0);
  const kept = await query<{ n: string }>(services.databaseUrl, 'SELECT count(*) AS n FROM dead_letters');
  expect(Number(kept[0]!.n)).toBe(refused);
  expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
  console.log(`HTTP ingress fuzz: ${[...counts].map(([status, n]) => `${n} × ${status}`).join(', ')}`);
}, 180_000);
