import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Client } from 'pg';

/**
 * A RabbitMQ vhost and a PostgreSQL database of a test's own, on the services the machine runs
 * (AMQP_URL and DATABASE_URL, or the local defaults), removed again by `cleanup`.
 */
export interface TestServices {
  readonly amqpUrl: string;
  readonly databaseUrl: string;
  readonly name: string;
  cleanup(): Promise<void>;
}

// Read when used: the e2e global set-up may point them at containers (containers.global-setup.ts).
const baseAmqp = () => process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const baseDatabase = () => process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function rabbitmqctl(args: string[]): void {
  // RabbitMQ in a container (containers.global-setup.ts): its own rabbitmqctl, through docker exec.
  const container = process.env['SVU_TEST_RABBITMQ_CONTAINER'];
  const [cmd, argv] = container === undefined ? ['rabbitmqctl', ['-q', ...args]] : ['docker', ['exec', container, 'rabbitmqctl', '-q', ...args]];
  try {
    execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (error) {
    throw new Error(`rabbitmqctl ${args.join(' ')} failed (tests create their own vhost with it): ${(error as Error).message}`);
  }
}

export async function createTestServices(label: string): Promise<TestServices> {
  const name = `svu_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  rabbitmqctl(['add_vhost', name]);
  const user = new URL(baseAmqp()).username || 'guest';
  rabbitmqctl(['set_permissions', '-p', name, decodeURIComponent(user), '.*', '.*', '.*']);
  const amqpUrl = new URL(baseAmqp());
  amqpUrl.pathname = `/${encodeURIComponent(name)}`;

  const admin = new Client({ connectionString: baseDatabase() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const databaseUrl = new URL(baseDatabase());
  databaseUrl.pathname = `/${name}`;

  return {
    amqpUrl: amqpUrl.toString(),
    databaseUrl: databaseUrl.toString(),
    name,
    async cleanup() {
      const client = new Client({ connectionString: baseDatabase() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      rabbitmqctl(['delete_vhost', name]);
    },
  };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
