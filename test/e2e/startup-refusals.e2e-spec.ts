import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DirectoryUnit } from '@svu/directory';
import { writeUsers } from '../support/console-users';
import { gatewayEnv, spawnGateway, writeDirectory } from '../support/gateway-harness';
import { createTestServices, type TestServices } from '../support/services';

/**
 * A gateway process (the built one) given a file it cannot use at start — missing, not JSON, a field
 * that does not pass — ends with exit code 1 and one line on stderr that names the file, its setting
 * and what is wrong: no stack trace, and nothing left for the log to explain.
 */

// Each case starts Node and the gateway's modules once.
jest.setTimeout(60_000);

let services: TestServices;
let directoryPath: string;
const dir = mkdtempSync(join(tmpdir(), 'svu-startup-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const missing = join(dir, 'missing.json');

beforeAll(async () => {
  services = await createTestServices('startup');
  const unit: DirectoryUnit = { hsaId: 'SE2120000002-START', name: 'Mottagare', role: 'municipal-health-care', dialect: 'webcare', transport: { kind: 'amqp', routingKey: 'start' } };
  directoryPath = writeDirectory([unit]);
}, 60_000);

afterAll(async () => {
  await services?.cleanup();
}, 60_000);

/** Starts a gateway with `extra` settings; its exit code and what it wrote to stderr. */
async function start(extra: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const child = spawnGateway(gatewayEnv(services, directoryPath, { SVU_SERVICES: 'router', ...extra }));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, lines: stderr.split('\n').filter((line) => line.trim() !== '') };
}

describe('a file the gateway cannot use at start stops it with one line saying which and why', () => {
  const notJson = file('not-json.json', '{\n  "units": [\n    { "hsaId": "SE2120000002-START" }\n    { }\n  ]\n}\n');
  const badUnit = file('bad-unit.json', JSON.stringify({ units: [{ hsaId: 'SE2120000002-START', name: 'Mottagare', role: 'municipal-health-care', dialect: 'smoke-signals', transport: { kind: 'amqp', routingKey: 'start' } }] }));
  const noCredential = file('senders.json', JSON.stringify({ senders: [{ id: 'lab', name: 'Lab', hsaIds: ['SE2120000002-START'] }] }));
  const badRole = file('users.json', JSON.stringify({ users: [{ username: 'a', role: 'admin', passwordHash: 'scrypt$00$00' }] }));
  const fallback = file('fallback.json', '{ "afterAcceptance": { "discharged": PT2H } }');
  const rulesNotJson = file('rules-not-json.json', '{\n  "default": "law",\n  "ruleSets": {\n    "law": }\n}\n');
  const rulesBadField = file('rules-bad-field.json', JSON.stringify({ default: 'lag', ruleSets: { law: { title: 'Lagen', versions: [{ from: '2018-01-01', model: 'per-patient', dayZero: 'sentAt', preconditions: ['ready-notice'], scope: 'all', graceDays: 3 }] } } }));
  const asConsole = (extra: Record<string, string>) => ({ SVU_SERVICES: 'console', SVU_USERS: writeUsers(), ...extra });

  it.each<[string, Record<string, string>, string | RegExp]>([
    ['a missing unit directory', { SVU_DIRECTORY: missing }, `svu gateway could not start: unit directory ${missing} (SVU_DIRECTORY): missing`],
    ['a unit directory that is not JSON', { SVU_DIRECTORY: notJson }, `svu gateway could not start: unit directory ${notJson} (SVU_DIRECTORY): not JSON: Expected ',' or ']' after array element at line 4 column 5`],
    ['a unit directory with a field that does not pass', { SVU_DIRECTORY: badUnit }, /^svu gateway could not start: unit directory \S+bad-unit\.json \(SVU_DIRECTORY\): units\[0\]\.dialect: .+$/],
    ['a missing senders file (ingress)', { SVU_SERVICES: 'ingress', SVU_SENDERS: missing }, `svu gateway could not start: senders file ${missing} (SVU_SENDERS): missing`],
    ['a sender system without a credential', { SVU_SERVICES: 'ingress', SVU_SENDERS: noCredential }, `svu gateway could not start: senders file ${noCredential} (SVU_SENDERS): senders[0]: needs a credential: keyHash, certificateSubject, certificateFingerprint, amqpUser`],
    ['a missing users file (console)', { SVU_SERVICES: 'console', SVU_USERS: missing }, `svu gateway could not start: console users file ${missing} (SVU_USERS): missing`],
    ['a user with a role that does not exist', { SVU_SERVICES: 'console', SVU_USERS: badRole }, `svu gateway could not start: console users file ${badRole} (SVU_USERS): users[0].role must be viewer or operator`],
    ['a missing TLS certificate', { SVU_TLS_CERT: missing, SVU_TLS_KEY: missing }, `svu gateway could not start: TLS certificate ${missing} (SVU_TLS_CERT): missing`],
    ['report rules that are not JSON (console)', asConsole({ SVU_REPORT_RULES: rulesNotJson }), `svu gateway could not start: report rules ${rulesNotJson} (SVU_REPORT_RULES): not JSON: Unexpected token '}' at line 4 column 12`],
    ['report rules with a field that does not pass', asConsole({ SVU_REPORT_RULES: rulesBadField }), `svu gateway could not start: report rules ${rulesBadField} (SVU_REPORT_RULES): default: no rule set named "lag"`],
    ['report rules named but missing', asConsole({ SVU_REPORT_RULES: missing }), `svu gateway could not start: report rules ${missing} (SVU_REPORT_RULES): missing`],
    ['a fallback configuration that is not JSON', { SVU_FALLBACK_CONFIG: fallback }, `svu gateway: fallback configuration ${fallback} (SVU_FALLBACK_CONFIG): not JSON: Unexpected token 'P' at line 1 column 38`],
  ])('%s', async (_what, extra, expected) => {
    const { code, lines } = await start(extra);
    expect(code).toBe(1);
    expect(lines).toHaveLength(1);
    if (typeof expected === 'string') expect(lines[0]).toBe(expected);
    else expect(lines[0]).toMatch(expected);
  });

  it('starts a console alone with its files right and no senders file, which only ingress needs (and the refusals above are the files’)', async () => {
    const child = spawnGateway(gatewayEnv(services, directoryPath, { SVU_SERVICES: 'console', SVU_USERS: writeUsers(), SVU_SENDERS: missing }));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const outcome = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 8_000))]);
    child.kill('SIGTERM');
    await exited;
    expect([outcome, stderr]).toEqual(['running', '']);
  });
});
