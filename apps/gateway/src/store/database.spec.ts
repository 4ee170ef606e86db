import { loadConfig } from '../config/gateway-config';
import { Database } from './database';

describe('Database at start', () => {
  it('names DATABASE_URL, without its password, when PostgreSQL cannot be reached', async () => {
    const db = new Database(loadConfig({ DATABASE_URL: 'postgres://svu:hemligt@127.0.0.1:9/svu' }));
    try {
      await expect(db.migrate()).rejects.toThrow(/^cannot connect to PostgreSQL at postgres:\/\/svu:\*\*\*@127\.0\.0\.1:9\/svu \(DATABASE_URL\): connect ECONNREFUSED 127\.0\.0\.1:9$/);
    } finally {
      await db.onApplicationShutdown();
    }
  });
});
