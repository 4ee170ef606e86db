import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

/**
 * Every package the code imports is declared in package.json: what the gateway and svu run (apps/,
 * libs/ outside tests) in `dependencies` — the image installs those only (`npm ci --omit=dev`), and
 * a package that is there only as another's dependency may go away with an update of that one — and
 * what tests, benchmarks and scripts use in either list. Imports of types only need no runtime package.
 */
const ROOT = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const BUILTIN = new Set(builtinModules);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

/** The packages a file imports, each with whether only its types are used there. */
function importsOf(text: string): Array<{ name: string; typeOnly: boolean }> {
  const found: Array<{ name: string; typeOnly: boolean }> = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (/^(\.|\/|node:|@svu\/)/.test(spec)) return;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (!BUILTIN.has(name)) found.push({ name, typeOnly });
  };
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"]([^'"]+)['"]/gm)) {
    const names = /^\{([^}]*)\}$/.exec(m[3]!.trim())?.[1];
    const allTypes = names !== undefined && names.split(',').map((s) => s.trim()).filter((s) => s !== '').every((s) => s.startsWith('type '));
    add(m[4]!, m[2] !== undefined || allTypes);
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) add(m[1]!, false);
  for (const m of text.matchAll(/\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false);
  return found;
}

describe('package.json', () => {
  it('reads imports of values and of types alone', () => {
    expect(importsOf(`import { json } from 'express';\nimport type { Request } from 'express';\nimport { type Response } from 'express-x';\nimport 'reflect-metadata';\nimport { readFileSync } from 'node:fs';\nconst a = require('pg');`)).toEqual([
      { name: 'express', typeOnly: false },
      { name: 'express', typeOnly: true },
      { name: 'express-x', typeOnly: true },
      { name: 'reflect-metadata', typeOnly: false },
      { name: 'pg', typeOnly: false },
    ]);
  });

  it('declares every package the code imports, those the gateway and svu run as dependencies', () => {
    const runtime = new Set(Object.keys(pkg.dependencies));
    const declared = new Set([...runtime, ...Object.keys(pkg.devDependencies)]);
    const missing: string[] = [];
    for (const dir of ['apps', 'libs', 'bench', 'scripts', 'test']) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        const path = relative(ROOT, file);
        const shipped = /^(apps|libs)\//.test(path) && !/\.(spec|e2e-spec|fuzz-spec)\.ts$/.test(path) && !path.startsWith('apps/gateway/ui/');
        for (const { name, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
          if (shipped && !typeOnly ? !runtime.has(name) : !declared.has(name) && !declared.has(`@types/${name}`)) missing.push(`${path}: ${name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
