import { readFileSync } from 'node:fs';
import { KNOWN_ENV_NAMES, loadConfig } from './gateway-config';

describe('loadConfig', () => {
  it('takes AMQP_URL as a comma-separated list of cluster nodes', () => {
    const config = loadConfig({ AMQP_URL: 'amqp://u:p@rabbit-0:5672, amqps://u:p@rabbit-1:5671 ,amqp://u:p@rabbit-2' });
    expect(config.amqpUrls).toEqual(['amqp://u:p@rabbit-0:5672', 'amqps://u:p@rabbit-1:5671', 'amqp://u:p@rabbit-2']);
    expect(loadConfig({}).amqpUrls).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
  });

  it('refuses a node that is not an AMQP URL, naming the variable and not echoing credentials', () => {
    expect(() => loadConfig({ AMQP_URL: 'amqp://a, http://u:secret@b' })).toThrow(/^AMQP_URL node 2 must be amqp:\/\/ or amqps:\/\//);
    expect(() => loadConfig({ AMQP_URL: 'amqp://a,not a url' })).toThrow(/AMQP_URL/);
    expect(() => loadConfig({ AMQP_URL: ' , ' })).toThrow(/AMQP_URL must name at least one/);
  });

  it('reads the pool size and statement timeout', () => {
    const config = loadConfig({ SVU_DB_POOL: '4', SVU_DB_STATEMENT_TIMEOUT: 'PT30S' });
    expect(config.dbPool).toBe(4);
    expect(config.dbStatementTimeoutMs).toBe(30_000);
    expect(loadConfig({}).dbPool).toBe(10);
    expect(loadConfig({}).dbStatementTimeoutMs).toBe(0);
    expect(() => loadConfig({ SVU_DB_POOL: '0' })).toThrow(/SVU_DB_POOL/);
  });

  it('keeps payloads of settled messages 90 days by default, the audit log longer', () => {
    const day = 86_400_000;
    const { retention } = loadConfig({});
    expect(retention.payloadsMs).toBe(90 * day);
    expect(retention.auditMs).toBeGreaterThan(retention.payloadsMs);
    expect(loadConfig({ SVU_RETAIN_PAYLOADS: 'P30D' }).retention.payloadsMs).toBe(30 * day);
    expect(() => loadConfig({ SVU_RETAIN_DOCUMENTS: 'ninety days' })).toThrow(/SVU_RETAIN_DOCUMENTS/);
  });

  it('lists every variable it reads among the known names', () => {
    // Every name the loader reads changes the result when set to a bad value; a name read but missing
    // from KNOWN_ENV_NAMES would be refused in the deployment files by deploy/ checks.
    const source = readFileSync(__filename.replace(/\.spec\.ts$/, '.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:get\(|env\[)'([A-Z_]+)'/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(20);
    for (const name of read) expect(KNOWN_ENV_NAMES).toContain(name);
  });
});
