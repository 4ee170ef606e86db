// Writes the copy lifecycle section of docs/architecture.md (a mermaid state diagram and a table)
// from the transition table in apps/gateway/src/store/copy-lifecycle.ts, between the markers
// <!-- copy-lifecycle:begin --> and <!-- copy-lifecycle:end -->. `--check` fails when the committed
// document has drifted from the table.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = new URL('..', import.meta.url).pathname;
const source = readFileSync(join(root, 'apps/gateway/src/store/copy-lifecycle.ts'), 'utf8');
// The module is plain data and functions with no imports: transpiled alone, it runs as it is.
const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
const lifecycle = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);

const docFile = join(root, 'docs/architecture.md');
const section = lifecycle.lifecycleSection();
const heading = '## Copy lifecycle';
const intro =
  'Every state a copy of a message may be in, and who moves it where. The copies repository builds its statements from\n' +
  'this table (apps/gateway/src/store/copy-lifecycle.ts), so a move that is not in it cannot be written.';

function render(current) {
  if (current === undefined) return `# Architecture\n\n${heading}\n\n${intro}\n\n${section}\n`;
  const begin = current.indexOf(lifecycle.LIFECYCLE_BEGIN);
  const end = current.indexOf(lifecycle.LIFECYCLE_END);
  if (begin >= 0 && end > begin) return current.slice(0, begin) + section + current.slice(end + lifecycle.LIFECYCLE_END.length);
  return `${current.replace(/\n*$/, '\n')}\n${heading}\n\n${intro}\n\n${section}\n`;
}

const current = existsSync(docFile) ? readFileSync(docFile, 'utf8') : undefined;
const next = render(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('docs/architecture.md: the copy lifecycle section differs from apps/gateway/src/store/copy-lifecycle.ts; run npm run generate');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(docFile, next);
  console.log('wrote docs/architecture.md (copy lifecycle)');
}
