import { createAjv, problemsFromAjv, formatProblem, problem, type Problem, type Result } from '@svu/canonical';
import codes from '../../../schemas/codes.schema.json';
import directorySchema from '../../../schemas/directory.schema.json';
import type { DirectoryUnit, UnitDirectory } from './generated/directory';

export type { DirectoryUnit, UnitDirectory };

const ajv = createAjv({ removeUnknown: false });
ajv.addSchema(codes);
const validate = ajv.compile<UnitDirectory>(directorySchema);

/** The unit directory in force: each recipient's dialect, transport, fax and postal address. */
export class Directory {
  private readonly byHsaId: ReadonlyMap<string, DirectoryUnit>;

  constructor(readonly units: readonly DirectoryUnit[]) {
    this.byHsaId = new Map(units.map((unit) => [unit.hsaId, unit]));
  }

  lookup(hsaId: string): DirectoryUnit | undefined {
    return this.byHsaId.get(hsaId);
  }

  get size(): number {
    return this.byHsaId.size;
  }
}

/** Parses and checks a directory file's text against schemas/directory.schema.json; no hsaId twice. */
export function parseDirectory(text: string): Result<Directory> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [problem('document', [], `is not valid JSON: ${(error as Error).message}`)] };
  }
  if (!validate(json)) return { ok: false, problems: problemsFromAjv(validate.errors ?? []) };
  const problems: Problem[] = [];
  const seen = new Set<string>();
  json.units.forEach((unit, i) => {
    if (seen.has(unit.hsaId)) problems.push(problem('duplicate', ['units', i, 'hsaId'], 'names a unit already listed'));
    seen.add(unit.hsaId);
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: new Directory(json.units) };
}

/** A directory problem as one line for logs. */
export const describeDirectoryProblem = formatProblem;
