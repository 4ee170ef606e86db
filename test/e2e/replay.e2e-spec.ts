import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { replay } from '../../apps/cli/src/replay/replay';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { startGateway } from '../../apps/gateway/src/main';
import { OPERATOR, writeUsers } from '../support/console-users';
import { gatewayEnv } from '../support/gateway-harness';
import { createTestServices, type TestServices } from '../support/services';
import { TEST_SENDER_KEY } from '../support/senders';

/** The shipped fixture sets against the real gateway, through the library and through the built `svu replay`. */
const ROOT = join(__dirname, '../..');
const DIRECTORY = join(ROOT, 'fixtures/directory.json');
const SVU = join(ROOT, 'dist/apps/cli/src/main.js');

let services: TestServices;
let app: INestApplication;
let gatewayUrl: string;

const sink = () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { lines, stream: Object.assign(stream, { isTTY: false }) };
};

/** Carriage returns or escape sequences: what a terminal progress bar would leave in a CI log. */
const TERMINAL_CONTROL = { asymmetricMatch: (text: string) => text.includes('\r') || text.includes(String.fromCharCode(27)) };

/** Runs the built `svu` without blocking this process, which serves the gateway under test. */
function svu(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    // The sender system's key through the environment, as the README advises (an option shows in ps).
    const child = spawn(process.execPath, [SVU, ...args], { env: { ...process.env, SVU_SENDER_KEY: TEST_SENDER_KEY } });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', () => undefined);
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

beforeAll(async () => {
  services = await createTestServices('replay');
  app = await startGateway(loadConfig(gatewayEnv(services, DIRECTORY, { SVU_USERS: writeUsers(), SVU_DEADLINE_EVERY: 'PT1S', SVU_RETRY_BUDGET: 'PT1H', SVU_RETRY_MAX: 'PT1S' })));
  gatewayUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await services?.cleanup();
}, 60_000);

it('passes every shipped fixture set against the real gateway', async () => {
  const out = sink();
  const results = await replay(['happy-path', 'cross-dialect', 'outage', 'invalid'].map((s) => join(ROOT, 'fixtures', s)), {
    gatewayUrl,
    amqpUrl: services.amqpUrl,
    directoryPath: DIRECTORY,
    topologyPrefix: 'svu',
    senderKey: TEST_SENDER_KEY,
    username: OPERATOR.username,
    password: OPERATOR.password,
    out: out.stream as never,
  });
  const failures = results.filter((r) => r.failure !== undefined).map((r) => `${r.suite} › ${r.name}: ${r.failure!.message}\n${r.failure!.details}`);
  expect(failures).toEqual([]);
  expect(results.length).toBeGreaterThanOrEqual(25);
  expect(out.lines.join('')).not.toEqual(TERMINAL_CONTROL);
}, 150_000);

it('fails a wrong expectation with a field diff, a JUnit failure and exit code 1, in plain lines when not on a terminal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svu-wrong-'));
  cpSync(join(ROOT, 'fixtures/cross-dialect'), dir, { recursive: true });
  const expected = join(dir, 'expected/01-admission.samsa.json');
  writeFileSync(expected, readFileSync(expected, 'utf8').replace('"beraknatUtskrivningsdatum": "{{date+P5D}}"', '"beraknatUtskrivningsdatum": "{{date+P6D}}"'));
  const junit = join(dir, 'report.xml');
  const run = await svu(['replay', dir, '--gateway', gatewayUrl, '--amqp-url', services.amqpUrl, '--directory', DIRECTORY, '--junit', junit]);
  expect(run.status).toBe(1);
  expect(run.stdout).toMatch(/body\.estimatedDischargeDate: expected \d{4}-\d{2}-\d{2}, got \d{4}-\d{2}-\d{2}/);
  expect(run.stdout).toMatch(/^3 passed, 1 failed$/m);
  expect(run.stdout).not.toEqual(TERMINAL_CONTROL);
  const xml = readFileSync(junit, 'utf8');
  expect(xml).toContain('<testsuite name="cross-dialect" tests="4" failures="1"');
  expect(xml).toMatch(/<failure message="1 field\(s\) differ" type="ExpectationFailed">body\.estimatedDischargeDate: expected/);
}, 150_000);

it('records what was received as the new expectation, with the placeholders put back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'svu-record-'));
  cpSync(join(ROOT, 'fixtures/cross-dialect'), dir, { recursive: true });
  const expected = join(dir, 'expected/02-ready-for-discharge.samsa.json');
  const original = readFileSync(expected, 'utf8');
  writeFileSync(expected, original.replace('"destination": "korttid"', '"destination": "hem"'));
  const record = await svu(['replay', dir, '--gateway', gatewayUrl, '--amqp-url', services.amqpUrl, '--directory', DIRECTORY, '--record']);
  expect(record.status).toBe(0);
  expect(readFileSync(expected, 'utf8')).toBe(original);
}, 150_000);
