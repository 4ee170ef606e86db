import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReportRules } from './report-store';

describe('loadReportRules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svu-rules-'));

  it('takes the law’s default for every municipality when the default file is absent, and refuses a named file that is', () => {
    expect(loadReportRules(join(dir, 'none.json')).default).toBe('law');
    expect(() => loadReportRules(join(dir, 'none.json'), true)).toThrow(new Error(`${join(dir, 'none.json')}: missing`));
  });

  it('refuses a file that cannot be read or is not JSON in one line naming it', () => {
    expect(() => loadReportRules(dir)).toThrow(new Error(`${dir}: is a folder, not a file`));
    const path = join(dir, 'rules.json');
    writeFileSync(path, '{"default": "law",\n "ruleSets": {');
    expect(() => loadReportRules(path)).toThrow(new Error(`${path}: not JSON: Expected property name or '}' at line 2 column 15`));
  });
});
