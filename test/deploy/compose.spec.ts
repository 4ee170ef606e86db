import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { CLI_ENV_NAMES } from '../../apps/cli/src/env-names';
import { KNOWN_ENV_NAMES, loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { parseDirectory } from '../../libs/directory/src';

/** Checks of docker-compose.yml and the Dockerfile that need no Docker daemon. */
const ROOT = join(__dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  hostname?: string;
  networks?: Record<string, { aliases?: string[] }>;
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

const source = read('docker-compose.yml');
const compose = parse(source) as Compose;
const runsCli = (s: ComposeService) => (s.command ?? []).some((a) => a.endsWith('apps/cli/src/main.js'));
const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined || s.image?.startsWith('svu-gateway') === true);

describe('docker-compose.yml', () => {
  it('is YAML without errors, warnings or duplicate keys', () => {
    const doc = parseDocument(source, { uniqueKeys: true });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
    expect(doc.warnings.map((e) => e.message)).toEqual([]);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['rabbitmq', 'postgres', 'gateway', 'simulator', 'replay']));
  });

  it('builds the gateway’s image for every service that uses it, with the gateway’s build, so none is pulled from a registry', () => {
    const gateway = compose.services['gateway']!;
    expect(gateway.build).toBeDefined();
    const users = Object.entries(compose.services).filter(([, s]) => s.image === gateway.image || s.image?.startsWith('svu-') === true);
    expect(users.map(([name]) => name)).toEqual(expect.arrayContaining(['gateway', 'simulator', 'replay']));
    for (const [name, service] of users) {
      expect([name, service.image, service.build]).toEqual([name, gateway.image, gateway.build]);
    }
  });

  it('sets only environment variables the gateway (or for CLI services, svu) reads', () => {
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const [name, service] of ours) {
      const known = runsCli(service) ? CLI_ENV_NAMES : KNOWN_ENV_NAMES;
      for (const variable of Object.keys(service.environment ?? {})) {
        expect(`${name}: ${variable}${known.includes(variable) ? '' : ' (unknown)'}`).toBe(`${name}: ${variable}`);
      }
    }
  });

  it('gives the gateway settings its configuration loader accepts (a refused value would restart it in a loop)', () => {
    for (const [name, service] of ours.filter(([, s]) => !runsCli(s))) {
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
      let problem = 'accepted';
      try {
        loadConfig(env);
      } catch (error) {
        problem = (error as Error).message;
      }
      expect(`${name}: ${problem}`).toBe(`${name}: accepted`);
    }
  });

  it('mounts only files that exist, and declares its named volumes', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const [from] = volume.split(':');
        if (from!.startsWith('.')) expect(`${name}: ${from} ${existsSync(join(ROOT, from!)) ? 'exists' : 'is missing'}`).toBe(`${name}: ${from} exists`);
        else expect(Object.keys(compose.volumes ?? {})).toContain(from);
      }
      for (const secret of service.secrets ?? []) expect(Object.keys(compose.secrets ?? {})).toContain(secret);
    }
    for (const [name, secret] of Object.entries(compose.secrets ?? {})) expect(`${name}: ${secret.file} ${existsSync(join(ROOT, secret.file)) ? 'exists' : 'is missing'}`).toBe(`${name}: ${secret.file} exists`);
    expect(compose.services['rabbitmq']!.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^rabbitmq-data:/)]));
    expect(compose.services['postgres']!.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^postgres-data:/)]));
  });

  it('publishes ports on 127.0.0.1 only, fixes the RabbitMQ host name, and gives PostgreSQL a password', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) expect(`${name} ${port}`).toMatch(new RegExp(`^${name} 127\\.0\\.0\\.1:\\d+:\\d+$`));
    }
    expect(compose.services['rabbitmq']!.hostname).toBeTruthy();
    const pg = compose.services['postgres']!.environment ?? {};
    expect(pg['POSTGRES_HOST_AUTH_METHOD']).toBeUndefined();
    expect(pg['POSTGRES_PASSWORD']).toBeTruthy();
  });

  it('gives the gateway a readiness healthcheck and a restart policy', () => {
    const gateway = compose.services['gateway']!;
    expect(gateway.healthcheck?.test.join(' ')).toContain('/health/ready');
    // The script that uses HTTPS when the gateway serves it (SVU_TLS_CERT/KEY), not a plain-HTTP one-liner.
    expect(gateway.healthcheck?.test).toEqual(['CMD', 'node', 'dist/apps/gateway/src/healthcheck.js', '/health/ready']);
    expect(existsSync(join(ROOT, 'apps/gateway/src/healthcheck.ts'))).toBe(true);
    expect(gateway.restart).toMatch(/^(always|unless-stopped|on-failure)/);
  });

  it('has a unit directory whose HTTP recipients are the simulator service, not 127.0.0.1', () => {
    const file = compose.services['gateway']!.environment!['SVU_DIRECTORY']!;
    const mounted = (compose.services['gateway']!.volumes ?? []).find((v) => v.split(':')[1] === file);
    expect(mounted).toBeDefined();
    const directory = parseDirectory(read(mounted!.split(':')[0]!));
    if (!directory.ok) throw new Error('the compose directory does not pass the schema');
    const aliases = compose.services['simulator']!.networks?.['default']?.aliases ?? [];
    const hosts = new Set(directory.value.units.flatMap((u) => (u.transport.kind === 'http' ? [new URL(u.transport.url).hostname] : [])));
    expect(hosts.size).toBeGreaterThan(0);
    for (const host of hosts) expect([...aliases, 'simulator']).toContain(host);
    // The replay service runs its own recipients under the same name.
    expect(compose.services['replay']!.networks?.['default']?.aliases).toEqual(aliases);
  });

  it('gives every unit of its directory the organisation and callback number fallback documents print, as fixtures/directory.json does', () => {
    const file = compose.services['gateway']!.environment!['SVU_DIRECTORY']!;
    const directory = parseDirectory(read(compose.services['gateway']!.volumes!.find((v) => v.split(':')[1] === file)!.split(':')[0]!));
    const fixtures = parseDirectory(read('fixtures/directory.json'));
    if (!directory.ok || !fixtures.ok) throw new Error('a unit directory does not pass the schema');
    for (const unit of directory.value.units) {
      const twin = fixtures.value.units.find((u) => u.hsaId === unit.hsaId);
      expect([unit.hsaId, unit.organisation]).toEqual([unit.hsaId, twin?.organisation ?? expect.any(String)]);
      // Test data: numbers from the series PTS keeps for fiction (070-174 06 05 to 070-174 06 99).
      expect([unit.hsaId, unit.phone]).toEqual([unit.hsaId, expect.stringMatching(/^\+46 70 174 06 (0[5-9]|[1-9]\d)$/)]);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const dockerignore = read('.dockerignore').split('\n').map((l) => l.trim());

  it('builds in stages on Node 22 and runs as a non-root user with a readiness healthcheck', () => {
    const froms = dockerfile.match(/^FROM .+$/gm) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:22[-.]/);
    const user = dockerfile.match(/^USER (\S+)$/gm) ?? [];
    expect(user.at(-1)).not.toMatch(/root|\b0\b/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health\/ready/m);
    expect(dockerfile).toMatch(/^ {2}CMD \["node", "dist\/apps\/gateway\/src\/healthcheck\.js", "\/health\/ready"\]$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('copies no credentials, tests or benchmarks into the final image', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copies = final.match(/^COPY .+$/gm) ?? [];
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy).not.toMatch(/users\.json|senders\.json|\bbench\b|\btest\b|^COPY (--chown=\S+ )?config /);
    }
    expect(dockerignore).toEqual(expect.arrayContaining(['config/users.json', 'config/senders.json']));
  });

  it('ships every configuration file but the credentials, each named by its variable, so a region editing one sees it', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copied = (final.match(/^COPY .+$/gm) ?? []).flatMap((copy) => copy.split(/\s+/).filter((word) => word.startsWith('config/') && word.endsWith('.json')));
    const shipped = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.json') && !['users.json', 'senders.json'].includes(f)).map((f) => `config/${f}`);
    expect(shipped).toEqual(expect.arrayContaining(['config/directory.json', 'config/report-rules.json', 'config/fallback.json']));
    expect(copied.sort()).toEqual(shipped.sort());
    // The build context admits them (.dockerignore starts from nothing).
    for (const file of shipped) expect(dockerignore).toContain(`!${file}`);
    // Each is what its variable names in the image (WORKDIR /app).
    const env = Object.fromEntries([...(final.match(/^ENV (?:.*\\\n)*.*$/m)?.[0] ?? '').matchAll(/\b([A-Z][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(env).toMatchObject({ SVU_DIRECTORY: '/app/config/directory.json', SVU_REPORT_RULES: '/app/config/report-rules.json', SVU_FALLBACK_CONFIG: '/app/config/fallback.json' });
    for (const variable of ['SVU_DIRECTORY', 'SVU_REPORT_RULES', 'SVU_FALLBACK_CONFIG']) expect(KNOWN_ENV_NAMES).toContain(variable);
  });
});

describe('svu', () => {
  it('lists every variable the command line reads in CLI_ENV_NAMES', () => {
    const dir = join(__dirname, '../../apps/cli/src');
    const read = new Set<string>();
    for (const file of readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/process\.env\['([A-Z][A-Z0-9_]+)'\]/g)) read.add(m[1]!);
      // Options whose value may come from the environment (apps/cli/src/main.ts, fromEnv): the variable is the third argument.
      for (const m of text.matchAll(/fromEnv\('[^']*', '(?:[^'\\]|\\.)*', '([A-Z][A-Z0-9_]+)'/g)) read.add(m[1]!);
    }
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((name) => !CLI_ENV_NAMES.includes(name))).toEqual([]);
  });
});
