/** What kind of rule a problem breaks. */
export type ProblemCode =
  | 'document' // the whole document: not well-formed, DOCTYPE, size, root, encoding, empty
  | 'required'
  | 'type'
  | 'format'
  | 'code' // a code value outside its table
  | 'length'
  | 'count'
  | 'duplicate'
  | 'rule'; // a cross-field or identity rule

/** One key or list index on the way from the message root to a field. */
export type PathSegment = string | number;

/** A problem with a message, at a canonical field path. */
export interface Problem {
  readonly code: ProblemCode;
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** The outcome of reading or validating: the value, or every problem found. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly Problem[] };

/** A canonical field path as written in problem reports: `recipients[1].role`; the empty path is `message`. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'message';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A problem as one line: `patient.id: check digit is wrong (Luhn)`. */
export function formatProblem(problem: Problem): string {
  return `${formatPath(problem.path)}: ${problem.message}`;
}

export function problem(code: ProblemCode, path: readonly PathSegment[], message: string): Problem {
  return { code, path, message };
}
