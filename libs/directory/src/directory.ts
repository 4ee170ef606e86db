import { createAjv, formatProblem, problem, type PathSegment, type Problem, type Result } from '@svu/canonical';
import codes from '../../../schemas/codes.schema.json';
import directorySchema from '../../../schemas/directory.schema.json';
import { parseConfigJson } from './config-file';
import type { DirectoryUnit, HttpAuth, HttpTls, HttpTransport, UnitDirectory } from './generated/directory';

export type { DirectoryUnit, HttpAuth, HttpTls, HttpTransport, UnitDirectory };

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
  const parsed = parseConfigJson(text, validate);
  if (!parsed.ok) return parsed;
  const json = parsed.value;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  json.units.forEach((unit, i) => {
    if (seen.has(unit.hsaId)) problems.push(problem('duplicate', ['units', i, 'hsaId'], 'names a unit already listed'));
    seen.add(unit.hsaId);
    if (unit.transport.kind === 'http') problems.push(...httpTransportProblems(unit.transport, ['units', i, 'transport']));
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: new Directory(json.units) };
}

/**
 * Rules of an HTTP transport beyond its shape: https unless the unit allows plain http explicitly;
 * one source for a bearer token, or one for a user name and one for a password; a client certificate
 * with its key.
 */
function httpTransportProblems(transport: HttpTransport, at: PathSegment[]): Problem[] {
  const problems: Problem[] = [];
  if (!transport.url.startsWith('https://') && transport.allowInsecureHttp !== true) {
    problems.push(problem('rule', [...at, 'url'], 'must be https (or set allowInsecureHttp: true for this unit)'));
  }
  const auth = transport.auth;
  if (auth !== undefined) {
    const sources = (file?: string, env?: string) => (file === undefined ? 0 : 1) + (env === undefined ? 0 : 1);
    const bearer = sources(auth.bearerTokenFile, auth.bearerTokenEnv);
    const user = sources(auth.usernameFile, auth.usernameEnv);
    const password = sources(auth.passwordFile, auth.passwordEnv);
    const basic = user === 1 && password === 1;
    if (!((bearer === 1 && user + password === 0) || (bearer === 0 && basic))) {
      problems.push(problem('rule', [...at, 'auth'], 'must name one bearer token source (bearerTokenFile or bearerTokenEnv), or one user name source and one password source'));
    }
  }
  const tls = transport.tls;
  if (tls !== undefined && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push(problem('rule', [...at, 'tls'], 'needs certFile and keyFile together'));
  }
  return problems;
}

/** A problem of a directory or senders file as one line: `units[2].hsaId: …`, or what is wrong with the whole file. */
export function describeDirectoryProblem(p: Problem): string {
  return p.path.length === 0 ? p.message : formatProblem(p);
}
