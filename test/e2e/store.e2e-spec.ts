import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { Database } from '../../apps/gateway/src/store/database';
import { query } from '../support/gateway-harness';
import { createTestServices, type TestServices } from '../support/services';

let services: TestServices;
let db: Database;

beforeAll(async () => {
  services = await createTestServices('store');
  db = new Database(loadConfig({ DATABASE_URL: services.databaseUrl }));
  await db.migrate();
}, 60_000);

afterAll(async () => {
  await db?.onApplicationShutdown();
  await services?.cleanup();
});

describe('the store when a connection is lost inside a transaction', () => {
  it('fails that transaction, keeps the process up, and serves the next one on a fresh connection', async () => {
    const failed = db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The connection ends while no statement is running (as during a database restart while a
      // fallback document is being rendered): the client reports it as an 'error' event.
      await query(services.databaseUrl, 'SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.query('SELECT 1');
    });
    await expect(failed).rejects.toThrow();
    const after = await db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one);
    expect(after).toBe(1);
  });
});
