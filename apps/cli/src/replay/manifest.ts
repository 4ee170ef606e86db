import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAjv, problemsFromAjv, formatProblem } from '@svu/canonical';
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
  name: string;
  description?: string;
  behaviours?: Behaviour[];
  steps: Step[];
  expect: Expectation[];
  timeout?: string;
}

const validate = createAjv({ removeUnknown: false }).compile<Manifest>(schema);

/** Reads and checks `manifest.json` of a fixture set; throws with one line per problem. */
export function loadManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (!validate(json)) throw new Error(`${path} is not a valid fixture manifest:\n${problemsFromAjv(validate.errors ?? []).map(formatProblem).join('\n')}`);
  return json;
}
