import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Pool, type PoolClient, type QueryResultRow } from 'pg';
import { connectionError } from '@svu/connections';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { MIGRATIONS } from './migrations';

/** Any arbitrary but fixed number: the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 4_172_001;

export type Queryable = Pick<PoolClient, 'query'>;

/**
 * A statement the pipeline runs many times a second. It is prepared on each connection the first
 * time it runs there (under a name derived from its text) and then only bound and executed, which
 * spares PostgreSQL parsing and analysing it again for every batch. Only for statements whose text
 * is fixed and whose plan does not depend on the parameters' values (PostgreSQL may settle on a
 * generic plan after five runs; test/e2e/store checks those of the hot queries).
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

export function prepared(text: string): Prepared {
  return { name: `svu_${createHash('sha1').update(text).digest('hex')}`, text };
}

/** The PostgreSQL store: a connection pool, transactions, and migrations at start. */
@Injectable()
export class Database implements OnApplicationShutdown {
  private readonly logger = new Logger(Database.name);
  readonly pool: Pool;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    // The application name tells operators (pg_stat_activity) which gateway services a connection serves.
    const applicationName = `svu ${[...config.services].join(',')}`.slice(0, 63);
    // SVU_DB_POOL connections at most; SVU_DB_STATEMENT_TIMEOUT is sent at connect as the session's
    // statement_timeout (through PgBouncer it must be in ignore_startup_parameters: docs/deploy.md).
    this.pool = new Pool({
      connectionString: config.databaseUrl,
      max: config.dbPool,
      connectionTimeoutMillis: 5_000,
      application_name: applicationName,
      ...(config.dbStatementTimeoutMs > 0 ? { statement_timeout: Math.round(config.dbStatementTimeoutMs) } : {}),
    });
    // A dropped idle connection must not take the process down; the next query reconnects.
    this.pool.on('error', (error) => this.logger.warn({ err: error.message }, 'database connection lost'));
  }

  /**
   * Creates the database if it does not exist yet, then applies the migrations it lacks. A database
   * that cannot be reached or refuses the connection stops the start with one line naming
   * DATABASE_URL (without its password) and why.
   */
  async migrate(): Promise<void> {
    await createDatabaseIfMissing(this.config.databaseUrl);
    const client = await this.checkOut().catch((error: unknown) => {
      throw connectionError('PostgreSQL', this.config.databaseUrl, error, 'DATABASE_URL');
    });
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue;
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
        await client.query('COMMIT');
        this.logger.log({ version: migration.version }, 'migration applied');
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.done();
    }
  }

  async query<R extends QueryResultRow>(sql: string | Prepared, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(typeof sql === 'string' ? { text: sql, values: params } : { ...sql, values: params })).rows;
  }

  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.checkOut();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.done();
    }
  }

  /**
   * Takes a client from the pool for several statements. While a client is checked out the pool does
   * not listen for its errors, so a connection lost between two statements (a database restart while
   * a fallback document is being rendered, say) would be an unhandled 'error' event and end the
   * process. This listens for it, and `done` gives a broken client back to be discarded, not reused.
   */
  private async checkOut(): Promise<PoolClient & { done(): void }> {
    const client = await this.pool.connect();
    let lost: Error | undefined;
    const onError = (error: Error) => {
      lost = error;
      this.logger.warn({ err: error.message }, 'database connection lost');
    };
    client.on('error', onError);
    return Object.assign(client, {
      done: () => {
        // A broken client keeps the listener: it may still report an error while being discarded.
        if (lost === undefined) client.removeListener('error', onError);
        client.release(lost);
      },
    });
  }

  /**
   * Runs a start-up step that needs the store, trying again while PostgreSQL is not there yet or is
   * restarting (see isTransientStoreError), for up to SVU_START_WAIT; any other error, or the wait
   * spent, fails the start as before. A process (re)started during a database restart then comes up
   * with the database instead of exiting.
   */
  async whenReachable<T>(what: string, step: () => Promise<T>): Promise<T> {
    const until = performance.now() + this.config.startWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const waitMs = Math.min(5_000, 250 * 2 ** attempt);
        if (!isTransientStoreError(error) || performance.now() + waitMs > until) throw error;
        this.logger.warn({ step: what, err: (error as Error).message, retryInMs: waitMs }, 'database not reachable yet at start; trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Last of all at shutdown, after the consumers and timers that use the pool have stopped. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

async function createDatabaseIfMissing(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (name === '' || name === 'postgres') return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect().catch((error: unknown) => {
    throw connectionError('PostgreSQL', url, error, 'DATABASE_URL');
  });
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // Another process created it at the same moment.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Errors that say PostgreSQL is not there right now rather than that something is wrong: nothing
 * listens, the connection broke or timed out, or the server is starting up or shutting down (SQLSTATE
 * class 08, 57P01–57P03).
 */
export function isTransientStoreError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown };
  // An error that names what failed (connectionError) carries the driver's error as its cause.
  if (e.cause !== undefined && isTransientStoreError(e.cause)) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)/.test(message);
}
