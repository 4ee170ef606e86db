import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleBytes, examplePath } from '../fixtures/contract-examples';

/** The real built command, run as a process (npm test builds first). */
const SVU = join(__dirname, '../../dist/apps/cli/src/main.js');

function svu(args: string[], input?: Buffer | string) {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const run = spawnSync(process.execPath, [SVU, ...args], { input: bytes, encoding: 'buffer', timeout: 20_000 });
  return { code: run.status, stdout: run.stdout.toString('utf8'), stdoutBytes: run.stdout, stderr: run.stderr.toString('utf8') };
}

beforeAll(() => {
  if (!existsSync(SVU)) throw new Error(`${SVU} is missing: run npm run build first`);
});

describe('svu translate', () => {
  it('translates a file and writes the result to standard output', () => {
    const run = svu(['translate', '--from', 'webcare', '--to', 'lifecare', examplePath('admission', 'webcare')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(exampleBytes('admission', 'lifecare').toString('utf8'));
    expect(run.stderr).toBe('');
  });

  it('reads standard input when the file is absent or -', () => {
    for (const args of [[], ['-']]) {
      const run = svu(['translate', '--from', 'samsa', '--to', 'webcare', ...args], exampleBytes('message', 'samsa'));
      expect(run.code).toBe(0);
      expect(run.stdoutBytes.equals(exampleBytes('message', 'webcare'))).toBe(true);
    }
  });

  it('normalizes with --from X --to X', () => {
    const messy = JSON.stringify(JSON.parse(exampleBytes('discharged', 'canonical').toString('utf8')));
    const run = svu(['translate', '--from', 'canonical', '--to', 'canonical'], messy);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(exampleBytes('discharged', 'canonical').toString('utf8'));
  });

  it('exits 2 with one line per problem on stderr and nothing on stdout', () => {
    const broken = exampleBytes('admission', 'lifecare').toString('utf8').replace('SOMATIK', 'X').replace('19410708-6995', '19410708-6994');
    const run = svu(['translate', '--from', 'lifecare', '--to', 'samsa'], broken);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual(['patient.id: check digit is wrong (Luhn)', 'body.careType: unknown code "X"']);
  });

  it('reports a document problem at message', () => {
    const run = svu(['translate', '--from', 'lifecare', '--to', 'samsa'], 'not xml at all');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^message: /);
  });
});

describe('svu validate', () => {
  it('prints nothing for a valid message', () => {
    const run = svu(['validate', '--dialect', 'samsa', examplePath('care-contact', 'samsa')]);
    expect([run.code, run.stdout, run.stderr]).toEqual([0, '', '']);
  });
  it('exits 2 for an invalid one', () => {
    const run = svu(['validate', '--dialect', 'webcare'], Buffer.from(exampleBytes('admission', 'webcare').toString('latin1').replace('<KOMMUN>1480', '<KOMMUN>0280'), 'latin1'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^patient\.municipality: /);
  });
  it('refuses a message over 256 KiB, even a huge one, without reading it all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svu-cli-'));
    const file = join(dir, 'big.json');
    writeFileSync(file, Buffer.alloc(5 * 1024 * 1024, 0x20));
    const run = svu(['validate', '--dialect', 'samsa', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^message: is 262145 bytes, more than the limit of 262144/);
  });
});

describe('svu inspect', () => {
  it('prints notifyBy for an admission: 24 h after the later of admission and assessment', () => {
    const run = svu(['inspect', '--from', 'lifecare', examplePath('admission', 'lifecare')]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ type: 'admission', messageId: 'LC-2026-000123', episodeId: 'VT-88231', notifyBy: '2026-03-29T11:15:00Z' });
  });
  it('prints dayZero for a ready-for-discharge notice: the Swedish date of sending', () => {
    const late = exampleBytes('ready-for-discharge', 'samsa').toString('utf8').replace('"skickad": "2026-07-01T08:00:00Z"', '"skickad": "2026-07-01T22:30:00Z"');
    const run = svu(['inspect', '--from', 'samsa'], late);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'ready-for-discharge', dayZero: '2026-07-02' });
  });
  it('prints only type and ids for other types', () => {
    const run = svu(['inspect', '--from', 'webcare', examplePath('cancellation', 'webcare')]);
    expect(JSON.parse(run.stdout)).toEqual({ type: 'cancellation', messageId: 'LC-2026-000141', episodeId: 'VT-88231' });
  });
});

describe('usage', () => {
  it('shows help with exit 0, for the program and each command', () => {
    const top = svu(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/translate/);
    const sub = svu(['translate', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/--from <format>/);
  });
  it('exits 1 for bad usage and unreadable files', () => {
    expect(svu(['translate', '--from', 'lifecare']).code).toBe(1);
    expect(svu(['translate', '--from', 'hl7', '--to', 'samsa']).code).toBe(1);
    expect(svu(['frobnicate']).code).toBe(1);
    const missing = svu(['validate', '--dialect', 'samsa', '/no/such/file.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('svu: cannot read /no/such/file.json: no such file (ENOENT)\n');
  });

  it('names the file when it is a directory, for translate, validate and inspect', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svu-cli-dir-'));
    for (const args of [['translate', '--from', 'webcare', '--to', 'samsa'], ['validate', '--dialect', 'lifecare'], ['inspect', '--from', 'samsa']]) {
      const run = svu([...args, dir]);
      expect([args[0], run.code, run.stderr, run.stdout]).toEqual([args[0], 1, `svu: cannot read ${dir}: is a directory, not a file (EISDIR)\n`, '']);
    }
  });
});

describe('svu help', () => {
  it('names the environment variables options come from, never the secrets they hold', () => {
    const env = { ...process.env, DATABASE_URL: 'postgres://svu:hemligt-db@db/svu', AMQP_URL: 'amqp://svu:hemligt-mq@mq', SVU_REPLAY_PASSWORD: 'hemligt-pw', SVU_SENDER_KEY: 'sys.hemligt-key' };
    const help = ['report', 'replay', 'simulate']
      .map((command) => spawnSync(process.execPath, [SVU, command, '--help'], { env, encoding: 'utf8', timeout: 20_000 }))
      .map((run) => `${run.stdout}${run.stderr}`)
      .join('\n');
    expect(help).toContain('env DATABASE_URL');
    expect(help).toContain('env SVU_SENDER_KEY');
    expect(help).not.toMatch(/hemligt/);
  });
});

describe('svu report without its database', () => {
  it('says in one line which URL (password masked) it could not connect to, and where the URL came from', () => {
    const flag = svu(['report', '--month', '2026-01', '--database-url', 'postgres://svu:hemligt-db@127.0.0.1:9/svu']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe('svu: cannot connect to PostgreSQL at postgres://svu:***@127.0.0.1:9/svu (--database-url / DATABASE_URL): connect ECONNREFUSED 127.0.0.1:9\n');
    expect(flag.stdout).toBe('');
    const env = spawnSync(process.execPath, [SVU, 'report', '--month', '2026-01'], { env: { ...process.env, DATABASE_URL: 'postgres://svu:hemligt-db@127.0.0.1:9/svu' }, encoding: 'utf8', timeout: 20_000 });
    expect(env.status).toBe(1);
    expect(env.stderr).toBe(flag.stderr);
  });
});

describe('svu report rules', () => {
  // The rules are read before the store is: no database is needed to see a file refused.
  const report = (rules: string) => svu(['report', '--month', '2026-05', '--rules', rules, '--database-url', 'postgres://nobody@127.0.0.1:1/none']);

  it('refuses a broken rules file in one line naming the file and the field or the place, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svu-cli-rules-'));
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, '{\n  "default": "law",\n  "ruleSets": {\n    "law": }\n}\n');
    const badField = join(dir, 'bad-field.json');
    writeFileSync(badField, JSON.stringify({ default: 'law', ruleSets: { law: { title: 'Lagen', versions: [{ from: '2018-01-01', model: 'per-patient', dayZero: 'sentAt', preconditions: ['ready-notice'], scope: 'all', graceDays: -1 }] } } }));
    expect(report(notJson)).toMatchObject({ code: 1, stdout: '', stderr: `svu: ${notJson}: not JSON: Unexpected token '}' at line 4 column 12\n` });
    expect(report(badField)).toMatchObject({ code: 1, stdout: '', stderr: `svu: ${badField}: ruleSets.law.versions[0].graceDays: must be >= 0\n` });
    expect(report(join(dir, 'missing.json'))).toMatchObject({ code: 1, stdout: '', stderr: `svu: ${join(dir, 'missing.json')}: missing\n` });
  });
});
