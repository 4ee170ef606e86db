import { Pool } from 'pg';
import { connectionError } from '@svu/connections';
import { episodesCsv, reportsCsv, type CsvOptions } from '@svu/reports';
import { catchUpForReport, drainAllReportSummary, loadEpisodeReports, loadMonthlyReports, loadReportRules, type Transact } from '@svu/report-store';

/** `svu report`: the monthly follow-up (or the episodes, `--episodes`) straight from the store (DATABASE_URL), as JSON or CSV. */
export async function runReport(options: { month: string; municipality?: string; unit?: string; episodes?: boolean; format: 'json' | 'csv'; csv?: CsvOptions; databaseUrl: string; rulesPath: string; rulesNamed?: boolean; catchUp?: boolean }): Promise<number> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month)) {
    process.stderr.write('svu: --month must be YYYY-MM\n');
    return 1;
  }
  let rules;
  try {
    rules = loadReportRules(options.rulesPath, options.rulesNamed === true);
  } catch (error) {
    process.stderr.write(`svu: ${(error as Error).message}\n`);
    return 1;
  }
  // A server that does not answer fails the report within seconds, not after the system's connect timeout.
  const pool = new Pool({ connectionString: options.databaseUrl, max: 2, connectionTimeoutMillis: 5_000 });
  try {
    // Unreachable, refused, no such database: one line naming the URL (without its password) and where it came from.
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw connectionError('PostgreSQL', options.databaseUrl, error, '--database-url / DATABASE_URL');
    });
    const query = async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await pool.query<R>(sql, params)).rows;
    const transact: Transact = async (work) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(async (sql, params = []) => (await client.query(sql, params)).rows);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    // --catch-up: compute every change the background job has not yet (after an upgrade, say) before the report.
    if (options.catchUp === true) await drainAllReportSummary(transact);
    const pending = await catchUpForReport(transact, query);
    if (pending > 0) process.stderr.write(`svu: ${pending} episode(s) changed recently are not yet in the summary (the gateway computes them in the background; --catch-up waits for them)\n`);
    if (options.episodes === true) {
      const rows = await loadEpisodeReports(query, rules, options.month, options.municipality);
      process.stdout.write(options.format === 'csv' ? episodesCsv(rows, options.csv) : `${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const only = {
      ...(options.municipality === undefined ? {} : { municipality: options.municipality }),
      ...(options.unit === undefined ? {} : { unit: options.unit }),
    };
    const reports = await loadMonthlyReports(query, rules, options.month, only);
    process.stdout.write(options.format === 'csv' ? reportsCsv(reports, options.csv) : `${JSON.stringify(reports, null, 2)}\n`);
    return 0;
  } finally {
    await pool.end();
  }
}
