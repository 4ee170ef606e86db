import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { createAjv, fileReadError, formatProblem, jsonSyntaxError, problemsFromAjv } from '@svu/canonical';
import type { Format } from '@svu/dialects';
import schema from '../../../../schemas/fixture-manifest.schema.json';

export type Behaviour = { hsaId: string; mode: 'accept' | 'fail' | 'timeout' | 'down'; status?: number; delayMs?: number };
export type Step =
  | { send: string; dialect: Format; via?: 'http' | 'amqp'; expectRejected?: boolean }
  | { wait: string }
  | { behave: Behaviour };
export type Expectation =
  | { recipient: string; message: string }
  | { messageId: string; recipient?: string; deadLetter: string; problems?: string[] }
  | { messageId: string; recipient: string; fallback: 'fax' | 'letter' };

export interface Manifest {
  $schema?: string;
  name: string;
  description?: string;
  behaviours?: Behaviour[];
  steps: Step[];
  expect: Expectation[];
  timeout?: string;
}

const validate = createAjv({ removeUnknown: false }).compile<Manifest>(schema);

/**
 * Ajv reports a value that matches no branch of a `oneOf` (a step, an expectation) with the errors of
 * every branch. Keeps only those of the branch the value comes closest to (fewest errors; the first
 * on a tie), so a step missing `dialect` gives one line, not six.
 */
export function closestBranchErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  for (const oneOf of errors.filter((e) => e.keyword === 'oneOf')) {
    const prefix = `${oneOf.schemaPath}/`;
    const byBranch = new Map<string, ErrorObject[]>();
    for (const e of kept) {
      if (!e.schemaPath.startsWith(prefix) || !e.instancePath.startsWith(oneOf.instancePath)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0]!;
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
    }
    if (byBranch.size === 0) continue; // it matched more than one branch: the oneOf error says so
    const [closest] = [...byBranch.entries()].sort((a, b) => a[1].length - b[1].length || Number(a[0]) - Number(b[0]));
    const drop = new Set([oneOf, ...[...byBranch.entries()].filter(([b]) => b !== closest![0]).flatMap(([, es]) => es)]);
    kept = kept.filter((e) => !drop.has(e));
  }
  return kept;
}

/** A manifest that cannot be used: `problems` are its lines, one per problem, each `file: problem`. */
export class ManifestError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Reads and checks `manifest.json` of a fixture set; throws a ManifestError with one line per problem
 * (`…/manifest.json: missing`, `…/manifest.json: not JSON: Expected ',' or '}' after property value at
 * line 3 column 5`, `…/manifest.json: steps[0].dialect: is required`).
 */
export function loadManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ManifestError([`${path}: ${fileReadError(error)}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError([`${path}: ${jsonSyntaxError(text, error)}`]);
  }
  if (!validate(json)) throw new ManifestError(problemsFromAjv(closestBranchErrors(validate.errors ?? [])).map((p) => `${path}: ${formatProblem(p)}`));
  return json;
}
