import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The lint rule that keeps SQL in the store (eslint.config.mjs, docs/architecture.md, The store): the
 * configuration each path gets from eslint.config.mjs, applied to sample sources. Run in a plain Node
 * process, since ESLint loads its configuration as an ES module.
 */
const ROOT = join(__dirname, '../..');

const LINT = `
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
const eslint = new ESLint({ cwd: process.cwd() });
const out = [];
for (const { path, code } of JSON.parse(process.argv[1])) {
  const rule = (await eslint.calculateConfigForFile(path))?.rules?.['no-restricted-syntax'];
  const on = rule !== undefined && rule[0] !== 0 && rule[0] !== 'off';
  const messages = on ? new Linter({ configType: 'flat' }).verify(code, [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, rules: { 'no-restricted-syntax': rule } }], path) : [];
  out.push(messages.map((m) => m.line));
}
console.log(JSON.stringify(out));
`;

/** The lines of `code` the rule refuses, as if it stood at each of `paths`. */
function refusedLines(code: string, paths: readonly string[]): number[][] {
  const samples = JSON.stringify(paths.map((path) => ({ path, code })));
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', LINT, samples], { cwd: ROOT, encoding: 'utf8' })) as number[][];
}

const SAMPLE = [
  "export const a = 'SELECT 1 FROM messages';",
  'export const b = `',
  '  WITH q AS (SELECT 1) SELECT * FROM q`;',
  "export const c = `INSERT INTO t (${'x'}) VALUES ($1)`;",
  'export const d = "UPDATE copies SET state = \'routed\'";',
  "export const e = 'DELETE FROM audit_log';",
  "export const f = String(`WITH locks AS (${'x'}) SELECT 1`);",
  // Not statements: lower case, a word that only begins like a keyword, a keyword after the start, prose.
  "export const g = 'select 1';",
  "export const h = 'SELECTED items';",
  "export const i = `count ${'x'} SELECT more`;",
  "export const j = 'With care';",
].join('\n');

describe('SQL outside the store', () => {
  it('is refused in the gateway sources outside store/, and only statements are', () => {
    const [service, controller, egress] = refusedLines(SAMPLE, ['apps/gateway/src/console/sample.ts', 'apps/gateway/src/ingress/sample.controller.ts', 'apps/gateway/src/egress/sample.ts']);
    expect(service).toEqual([1, 2, 4, 5, 6, 7]);
    expect(controller).toEqual([1, 2, 4, 5, 6, 7]);
    expect(egress).toEqual([1, 2, 4, 5, 6, 7]);
  }, 60_000);

  it('is allowed in store/ and in tests', () => {
    const refused = refusedLines(SAMPLE, ['apps/gateway/src/store/sample.repository.ts', 'apps/gateway/src/console/sample.spec.ts', 'libs/report-store/src/sample.ts']);
    expect(refused).toEqual([[], [], []]);
  }, 60_000);
});
