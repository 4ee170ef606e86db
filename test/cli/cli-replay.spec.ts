import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built `svu`, run as a process: version, errors that name what failed, replay --check, passwords. */
jest.setTimeout(60_000);

const ROOT = join(__dirname, '../..');
const SVU = join(ROOT, 'dist/apps/cli/src/main.js');
const DIRECTORY = join(ROOT, 'fixtures/directory.json');
/** No units: replay then starts no simulated recipients; and a broker URL where none listens. */
const NO_UNITS = join(mkdtempSync(join(tmpdir(), 'svu-directory-')), 'directory.json');
writeFileSync(NO_UNITS, '{ "units": [] }');
const NO_BROKER = ['--amqp-url', 'amqp://guest:guest@127.0.0.1:9'];
/** Only AMQP units (no fixed HTTP ports): the simulator then needs RabbitMQ. */
const AMQP_UNITS = join(mkdtempSync(join(tmpdir(), 'svu-directory-')), 'directory.json');
writeFileSync(
  AMQP_UNITS,
  JSON.stringify({ units: (JSON.parse(readFileSync(DIRECTORY, 'utf8')) as { units: Array<{ transport: { kind: string } }> }).units.filter((u) => u.transport.kind === 'amqp') }),
);

function svu(args: string[], input?: string) {
  const run = spawnSync(process.execPath, [SVU, ...args], { input, encoding: 'utf8', timeout: 30_000, cwd: ROOT });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The built `svu` as a child process, while this process serves a stand-in gateway; with the time it took. */
async function svuAsync(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const started = Date.now();
  const child = spawn(process.execPath, [SVU, ...args], { cwd: ROOT, env, timeout: 30_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr, seconds: (Date.now() - started) / 1000 };
}

/** A stand-in gateway: `/health/live` answers 200, everything else as `answer` says (202 by default). */
async function standInGateway(answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(202).end('{}')) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url === '/health/live') res.writeHead(200).end('{}');
      else answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A copy of a shipped fixture set whose manifest `edit` changes. */
function fixtureCopy(set: string, edit: (manifest: Record<string, unknown>) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'svu-fixture-')), set);
  cpSync(join(ROOT, 'fixtures', set), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

describe('svu --version', () => {
  it('prints the version of package.json', () => {
    const run = svu(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('svu replay --check', () => {
  it('passes the shipped fixture sets offline', () => {
    const sets = ['happy-path', 'cross-dialect', 'outage', 'invalid'].map((s) => join(ROOT, 'fixtures', s));
    const run = svu(['replay', '--check', ...sets, '--directory', DIRECTORY]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('4 fixture sets checked, 0 problems');
    expect(run.code).toBe(0);
  });

  it('accepts a $schema key, for editors', () => {
    const dir = fixtureCopy('happy-path', (m) => (m['$schema'] = '../../schemas/fixture-manifest.schema.json'));
    expect(svu(['replay', '--check', dir, '--directory', DIRECTORY]).code).toBe(0);
  });

  it('names each problem on one line: a missing field (not oneOf noise), a missing file, an invalid message, an unknown unit', () => {
    const dir = fixtureCopy('happy-path', (m) => {
      const steps = m['steps'] as Array<Record<string, unknown>>;
      delete steps[0]!['dialect'];
    });
    const missing = svu(['replay', '--check', dir, '--directory', DIRECTORY]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([`${join(dir, 'manifest.json')}: steps[0].dialect: is required`]);
    expect(missing.stdout).toContain('1 fixture set checked, 1 problem\n');

    const other = fixtureCopy('happy-path', (m) => {
      const steps = m['steps'] as Array<Record<string, unknown>>;
      steps.push({ send: 'no-such-file.xml', dialect: 'lifecare' });
      steps.push({ behave: { hsaId: 'SE0000000000-NOT-IN-DIRECTORY', mode: 'accept' } });
    });
    const first = (JSON.parse(readFileSync(join(other, 'manifest.json'), 'utf8')) as { steps: Array<{ send?: string }> }).steps.find((s) => s.send?.endsWith('.xml'))!.send!;
    writeFileSync(join(other, first), '<not-a-message>');
    const run = svu(['replay', '--check', other, '--directory', DIRECTORY]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `${join(other, 'no-such-file.xml')}: file not found`,
        `${join(other, 'manifest.json')}: steps[${(JSON.parse(readFileSync(join(other, 'manifest.json'), 'utf8')) as { steps: unknown[] }).steps.length - 1}].behave: SE0000000000-NOT-IN-DIRECTORY is not in the unit directory`,
        expect.stringMatching(new RegExp(`^${join(other, first).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: message: `)),
      ]),
    );
    expect(run.stdout).toMatch(/1 fixture set checked, [3-9] problems/);
  });

  it('names each unknown key, and counts exactly the problems it prints', () => {
    const dir = fixtureCopy('happy-path', (m) => {
      m['colour'] = 'red';
      (m['steps'] as Array<Record<string, unknown>>)[0]!['speed'] = 3;
      (m['expect'] as Array<Record<string, unknown>>)[0]!['extra'] = 1;
    });
    const run = svu(['replay', '--check', dir, '--directory', DIRECTORY]);
    expect(run.code).toBe(1);
    const manifest = join(dir, 'manifest.json');
    expect(run.stderr.trim().split('\n').sort()).toEqual([`${manifest}: colour: is not a known key`, `${manifest}: expect[0].extra: is not a known key`, `${manifest}: steps[0].speed: is not a known key`]);
    expect(run.stdout).toBe(`${dir}: 3 problems\n1 fixture set checked, 3 problems\n`);
  });

  it('names the manifest that is not JSON with the line and column where it stops being JSON, and one that is missing', () => {
    const dir = fixtureCopy('happy-path', () => undefined);
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, '{\n  "name": "broken",\n  steps: []\n}\n');
    const run = svu(['replay', '--check', dir, '--directory', DIRECTORY]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^${manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not JSON: [^\\n]*property name[^\\n]* at line 3 column 3\\n$`));
    expect(run.stderr).not.toMatch(/position/);

    writeFileSync(manifest, '{x');
    expect(svu(['replay', '--check', dir, '--directory', DIRECTORY]).stderr).toMatch(/: not JSON: [^\n]* at line 1 column 2\n$/);

    const empty = mkdtempSync(join(tmpdir(), 'svu-fixture-'));
    expect(svu(['replay', '--check', empty, '--directory', DIRECTORY]).stderr).toBe(`${join(empty, 'manifest.json')}: missing\n`);
  });

  it('names the unit directory it cannot read', () => {
    const run = svu(['replay', '--check', join(ROOT, 'fixtures/happy-path'), '--directory', '/no/such/directory.json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^svu: cannot read the unit directory \/no\/such\/directory\.json: ENOENT/);
  });
});

describe('svu simulate and svu replay with a unit directory they cannot use', () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'svu-directory-')), 'nonexist.json');
  const broken = join(mkdtempSync(join(tmpdir(), 'svu-directory-')), 'directory.json');
  writeFileSync(broken, '{ "units": [ { "hsaId": "x" } ] }');

  it('names it in one line, without a stack trace, before connecting anywhere', () => {
    for (const args of [['simulate', '--control-port', '0'], ['replay', join(ROOT, 'fixtures/happy-path'), '--gateway', 'http://127.0.0.1:9']]) {
      const unreadable = svu([...args, ...NO_BROKER, '--directory', missing]);
      expect([args[0], unreadable.code, unreadable.stderr]).toEqual([args[0], 1, `svu: cannot read the unit directory ${missing}: ENOENT: no such file or directory, open '${missing}'\n`]);
      const invalid = svu([...args, ...NO_BROKER, '--directory', broken]);
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toMatch(new RegExp(`^svu: the unit directory ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not pass: units\\[0\\]\\.[^\\n]+\\n$`));
    }
  });
});

describe('svu replay against a gateway', () => {
  it('names the URL it cannot reach and why, not only "fetch failed"', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const run = svu(['replay', join(ROOT, 'fixtures/happy-path'), '--directory', NO_UNITS, ...NO_BROKER, '--gateway', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`svu: cannot reach the gateway at http://127.0.0.1:${port}/health/live: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it('reads the console password from standard input with --password-stdin', async () => {
    const logins: unknown[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/api/login') logins.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(req.url === '/health/live' ? 200 : 401).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const child = spawn(process.execPath, [SVU, 'replay', join(ROOT, 'fixtures/happy-path'), '--directory', NO_UNITS, ...NO_BROKER, '--gateway', `http://127.0.0.1:${port}`, '--user', 'operator', '--password-stdin'], { cwd: ROOT });
      child.stdin.end('från stdin hemligt\n');
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain('could not sign in to the gateway console as operator: HTTP 401');
      expect(logins).toEqual([{ username: 'operator', password: 'från stdin hemligt' }]);
    } finally {
      server.close();
    }
  }, 30_000);
});

describe('svu replay without a console user', () => {
  const env = { ...process.env };
  delete env['SVU_REPLAY_USER'];
  delete env['SVU_REPLAY_PASSWORD'];
  const sets = ['happy-path', 'invalid', 'outage'].map((s) => join(ROOT, 'fixtures', s));

  it('stops before sending anything when the sets expect dead letters or fallback documents, in one line naming what is missing', async () => {
    const gateway = await standInGateway();
    try {
      const run = await svuAsync(['replay', ...sets, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', gateway.url], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `svu: ${sets[1]}, ${sets[2]} expect dead letters or fallback documents, which only a console user can check (a viewer is enough): give --user (or SVU_REPLAY_USER) and its password (SVU_REPLAY_PASSWORD or --password-stdin)\n`,
      );
      expect(run.stdout).toBe('');
      expect(gateway.requests).toEqual([]);

      const noPassword = await svuAsync(['replay', sets[1]!, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', gateway.url], { ...env, SVU_REPLAY_USER: 'viewer' });
      expect(noPassword.code).toBe(1);
      expect(noPassword.stderr).toBe(`svu: ${sets[1]} expects dead letters or fallback documents, which only a console user can check (a viewer is enough): give the password of viewer (SVU_REPLAY_PASSWORD or --password-stdin)\n`);
      expect(gateway.requests).toEqual([]);
    } finally {
      await gateway.close();
    }
  });

  it('still replays sets that expect only messages, and checks every set offline', async () => {
    const gateway = await standInGateway();
    try {
      const run = await svuAsync(['replay', sets[0]!, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', gateway.url], env);
      // It gets as far as publishing over AMQP, where no broker listens.
      expect(run.stderr).toMatch(/^svu: cannot connect to RabbitMQ at /);
      expect(gateway.requests[0]).toBe('GET /health/live');
    } finally {
      await gateway.close();
    }
    const check = spawnSync(process.execPath, [SVU, 'replay', '--check', ...sets, '--directory', DIRECTORY], { env, encoding: 'utf8', timeout: 30_000, cwd: ROOT });
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toContain('3 fixture sets checked, 0 problems');
  });
});

describe('svu replay against a gateway that refuses the sender key', () => {
  const set = join(ROOT, 'fixtures/invalid');
  // The set expects dead letters: a console user, whom the stand-in signs in.
  const env: NodeJS.ProcessEnv = { ...process.env, SVU_REPLAY_USER: 'viewer', SVU_REPLAY_PASSWORD: 'svu-viewer' };
  delete env['SVU_SENDER_KEY'];
  const refusing = (status: number, body: object) =>
    standInGateway((req, res) => {
      if (req.url === '/api/login') res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"stand-in"}');
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  const ingress = (requests: string[]) => requests.filter((r) => r.startsWith('POST /ingress/'));
  const unauthenticated = { error: 'a credential is required: Authorization: Bearer <key>, or a client certificate', reason: 'unauthenticated' };

  it('stops at the first 401 with one line: no key was given, and how to give one', async () => {
    const gateway = await refusing(401, unauthenticated);
    try {
      const run = await svuAsync(['replay', set, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', gateway.url], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'svu: no sender key was given, and the gateway requires one (HTTP 401 unauthenticated: a credential is required: Authorization: Bearer <key>, or a client certificate; ' +
          "at invalid messages step 1 (01-bad-care-type.lifecare.xml)): set SVU_SENDER_KEY (or --sender-key) to the key of a sender system in the gateway's senders file (SVU_SENDERS)\n",
      );
      expect(ingress(gateway.requests)).toEqual(['POST /ingress/lifecare']);
      expect(run.stdout).not.toContain('FAIL');
    } finally {
      await gateway.close();
    }
  });

  it('says that the key given was refused (401), or that its system may not send as the set\'s senders (403)', async () => {
    const invalid = await refusing(401, { error: 'the bearer key is not valid', reason: 'unauthenticated' });
    try {
      const run = await svuAsync(['replay', set, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', invalid.url], { ...env, SVU_SENDER_KEY: 'sys.hemligt-key' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^svu: the gateway refused the sender key \(HTTP 401 unauthenticated: the bearer key is not valid; at invalid messages step 1 .*\): set SVU_SENDER_KEY \(or --sender-key\)[^\n]*\n$/);
      expect(run.stderr).not.toContain('hemligt');
    } finally {
      await invalid.close();
    }
    const notAllowed = await refusing(403, { error: 'sender system dev-systems may not send as SE2321000131-E000000000001', reason: 'sender-not-allowed' });
    try {
      const run = await svuAsync(['replay', set, '--directory', NO_UNITS, ...NO_BROKER, '--gateway', notAllowed.url], { ...env, SVU_SENDER_KEY: 'sys.hemligt-key' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^svu: the gateway refused the sender system of the sender key \(HTTP 403 sender-not-allowed: sender system dev-systems may not send as SE2321000131-E000000000001; .*\): set SVU_SENDER_KEY \(or --sender-key\) to the key of a sender system that may send as the set's senders [^\n]*\n$/);
      expect(ingress(notAllowed.requests)).toHaveLength(1);
    } finally {
      await notAllowed.close();
    }
  });
});

describe('svu replay secrets on the command line', () => {
  const sets = [join(ROOT, 'fixtures/happy-path'), '--directory', DIRECTORY];
  const run = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [SVU, 'replay', '--check', ...sets, ...args], { env, encoding: 'utf8', timeout: 30_000, cwd: ROOT });
  const clean = { ...process.env };
  delete clean['SVU_REPLAY_PASSWORD'];
  delete clean['SVU_SENDER_KEY'];

  it('warns on standard error that --password and --sender-key are visible to other users, and still takes them', () => {
    const given = run(['--user', 'operator', '--password', 'hemligt-pw', '--sender-key', 'sys.hemligt-key'], clean);
    expect(given.status).toBe(0);
    expect(given.stderr.split('\n')).toEqual([
      'svu: warning: --password on the command line is visible to other users of this machine; give it with SVU_REPLAY_PASSWORD or --password-stdin',
      'svu: warning: --sender-key on the command line is visible to other users of this machine; give it with SVU_SENDER_KEY',
      '',
    ]);
  });

  it('says nothing when they come from the environment', () => {
    const fromEnv = run(['--user', 'operator'], { ...clean, SVU_REPLAY_PASSWORD: 'hemligt-pw', SVU_SENDER_KEY: 'sys.hemligt-key' });
    expect(fromEnv.status).toBe(0);
    expect(fromEnv.stderr).toBe('');
  });
});

describe('svu replay and svu simulate without RabbitMQ', () => {
  const broker = 'amqp://guest:hemligt-mq@127.0.0.1:9';

  it('replay stops within seconds when a step publishes over AMQP, in one line naming the URL without its password', async () => {
    const gateway = await standInGateway();
    try {
      const run = await svuAsync(['replay', join(ROOT, 'fixtures/happy-path'), '--directory', NO_UNITS, '--amqp-url', broker, '--gateway', gateway.url]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('svu: cannot connect to RabbitMQ at amqp://guest:***@127.0.0.1:9 (--amqp-url / AMQP_URL): connect ECONNREFUSED 127.0.0.1:9\n');
      expect(run.seconds).toBeLessThan(15);
    } finally {
      await gateway.close();
    }
  });

  it('replay and simulate stop when the simulated AMQP recipients cannot consume, and when the broker never answers', async () => {
    const gateway = await standInGateway();
    // Accepts connections and says nothing: the AMQP handshake never starts.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `amqp://guest:hemligt-mq@127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const replay = await svuAsync(['replay', join(ROOT, 'fixtures/happy-path'), '--directory', AMQP_UNITS, '--amqp-url', broker, '--gateway', gateway.url]);
      expect(replay.code).toBe(1);
      expect(replay.stderr).toBe('svu: cannot connect to RabbitMQ at amqp://guest:***@127.0.0.1:9 (--amqp-url / AMQP_URL): connect ECONNREFUSED 127.0.0.1:9\n');
      expect(gateway.requests).toEqual(['GET /health/live']);

      // The default URL, from the environment: the same, and the process ends (nothing left open).
      const simulate = await svuAsync(['simulate', '--directory', AMQP_UNITS, '--control-port', '0'], { ...process.env, AMQP_URL: silentUrl });
      expect(simulate.code).toBe(1);
      expect(simulate.stderr).toMatch(new RegExp(`^svu: cannot connect to RabbitMQ at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:\\d+ \\(--amqp-url / AMQP_URL\\): connect ETIMEDOUT\\n$`));
      expect(simulate.stderr).not.toContain('hemligt');
      expect(simulate.seconds).toBeLessThan(15);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
      await gateway.close();
    }
  });
});
