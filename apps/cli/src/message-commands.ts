import { formatProblem, inspectMessage, type Problem } from '@svu/canonical';
import { readMessage, translate, type Format } from '@svu/dialects';
import { readInput } from './read-input';

/** Exit codes of docs/contract.md section 8. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

/** Where a command writes: standard output and error, as streams so tests and the CLI share the code. */
export interface Io {
  readonly out: (data: string | Uint8Array) => void;
  readonly err: (line: string) => void;
}

function reportProblems(io: Io, problems: readonly Problem[]): number {
  for (const p of problems) io.err(`${formatProblem(p)}\n`);
  return EXIT_INVALID;
}

/** `svu translate`: reads in one form, writes in another. */
export function runTranslate(io: Io, from: Format, to: Format, file: string | undefined): number {
  const result = translate(from, to, readInput(file));
  if (!result.ok) return reportProblems(io, result.problems);
  io.out(result.value);
  return EXIT_OK;
}

/** `svu validate`: silent on success. */
export function runValidate(io: Io, dialect: Format, file: string | undefined): number {
  const result = readMessage(dialect, readInput(file));
  return result.ok ? EXIT_OK : reportProblems(io, result.problems);
}

/** `svu inspect`: identity, and the admission deadline or day 0. */
export function runInspect(io: Io, from: Format, file: string | undefined): number {
  const result = readMessage(from, readInput(file));
  if (!result.ok) return reportProblems(io, result.problems);
  io.out(`${JSON.stringify(inspectMessage(result.value), null, 2)}\n`);
  return EXIT_OK;
}
