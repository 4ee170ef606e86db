import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import { connect } from 'amqplib';
import { Client } from 'pg';
import type { DirectoryUnit } from '@svu/directory';
import { loadConfig, type GatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { startGateway } from '../../apps/gateway/src/main';
import type { TestServices } from './services';
import { writeTestSenders } from './senders';

/** Where gateways under test write their logs. */
export const TEST_LOG_DIR = process.env['SVU_TEST_LOG_DIR'] ?? join(tmpdir(), 'svu-test-logs');

/**
 * Environment for a gateway under test: its own services, a directory file, fast retries, and a
 * senders file with the test sender system (test/support/senders.ts) unless `extra` names one.
 */
export function gatewayEnv(services: TestServices, directoryPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AMQP_URL: services.amqpUrl,
    DATABASE_URL: services.databaseUrl,
    SVU_DIRECTORY: directoryPath,
    SVU_SENDERS: extra['SVU_SENDERS'] ?? writeTestSenders(directoryPath),
    PORT: '0',
    SVU_RETRY_BASE: 'PT0.05S',
    SVU_RETRY_MAX: 'PT0.4S',
    SVU_RETRY_BUDGET: 'PT3S',
    SVU_PROBE_BASE: 'PT0.05S',
    SVU_PROBE_MAX: 'PT0.4S',
    SVU_HEARTBEAT_EVERY: 'PT0.5S',
    // Short for tests, yet well above a live process's longest stall on a busy machine: a live process
    // whose heartbeat falls this far behind is taken for dead, and what it had in flight goes twice.
    SVU_TAKEOVER_AFTER: 'PT5S',
    SVU_STALE_AFTER: 'PT2S',
    SVU_SWEEP_EVERY: 'PT0.5S',
    SVU_DELIVERY_TIMEOUT: 'PT1S',
    // Everything the gateways under test log goes, at info level, to one folder that CI scans for
    // identity numbers and patient names (scripts/scan-logs.mjs).
    LOG_LEVEL: 'info',
    SVU_LOG_FILE: join(TEST_LOG_DIR, `${services.name}.log`),
    ...extra,
  };
}

export function writeDirectory(units: readonly DirectoryUnit[], dir = mkdtempSync(join(tmpdir(), 'svu-dir-'))): string {
  const path = join(dir, 'directory.json');
  writeFileSync(path, JSON.stringify({ units }, null, 2));
  return path;
}

/** A gateway running inside the test process. */
export async function startInProcess(env: Record<string, string>): Promise<{ app: INestApplication; config: GatewayConfig; url: string }> {
  const config = loadConfig({ ...env });
  const app = await startGateway(config);
  const address = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${address.port}` };
}

/** A gateway running as its own process (the built one), to kill and restart. */
export function spawnGateway(env: Record<string, string>, main?: string): ChildProcess {
  // This file runs from the sources (tests) or from dist/ (benchmarks); the gateway always from dist/
  // (or from `main`, another version's build: the benchmarks' side-by-side runs).
  const root = join(__dirname, __dirname.includes(`${sep}dist${sep}`) ? '../../..' : '../..');
  const child = spawn(process.execPath, [main ?? join(root, 'dist/apps/gateway/src/main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // What a process writes to stderr (a crash, say) is kept beside its log, and scanned with it.
  const logFile = env['SVU_LOG_FILE'];
  if (logFile === undefined) child.stderr?.resume();
  else {
    mkdirSync(dirname(logFile), { recursive: true });
    child.stderr?.pipe(createWriteStream(`${logFile}.stderr`, { flags: 'a' }));
  }
  return child;
}

/**
 * Publishes messages to the gateway's AMQP ingress queues (with publisher confirms), with the
 * `user_id` of the connection's user (guest, the test sender system's RabbitMQ user), or `userId`.
 */
export class IngressPublisher {
  private readonly connection: AmqpConnectionManager;
  private readonly channel: ChannelWrapper;

  private readonly userId: string | undefined;

  constructor(
    amqpUrl: string,
    private readonly prefix = 'svu',
    userId?: string | null,
  ) {
    // null: publish without a user_id.
    this.userId = userId === null ? undefined : (userId ?? (decodeURIComponent(new URL(amqpUrl).username) || 'guest'));
    this.connection = amqp.connect([amqpUrl], { reconnectTimeInSeconds: 1 });
    this.channel = this.connection.createChannel({ confirm: true });
  }

  async publish(dialect: string, bytes: Buffer): Promise<void> {
    await this.channel.publish(`${this.prefix}.ingress`, dialect, bytes, { persistent: true, ...(this.userId === undefined ? {} : { userId: this.userId }) });
  }

  async close(): Promise<void> {
    await this.channel.close();
    await this.connection.close();
  }
}

/** Waits until a gateway has declared its topology (its queues exist), so that publishing can begin. */
export async function waitForTopology(amqpUrl: string, prefix = 'svu', timeoutMs = 30_000): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.checkQueue(`${prefix}.deliver`);
        await channel.checkExchange(`${prefix}.ingress`);
        await channel.close();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('the gateway did not declare its topology in time');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await connection.close();
  }
}

/** Runs one query against a test database. */
export async function query<R extends Record<string, unknown>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<R[]> {
  // Bounded: a test polling through a database restart must get an error to retry on, never hang.
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, query_timeout: 60_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }
}
