import { readFileSync } from 'node:fs';
import { formatProblem, problemsLine } from '@svu/canonical';
import { parseDirectory, type Directory } from '@svu/directory';

/** The text of the unit directory a command was given (--directory); an error naming it when it cannot be read. */
export function readUnitDirectoryText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the unit directory ${path}: ${(error as Error).message}`);
  }
}

/**
 * The unit directory a command was given (--directory), checked against its schema; an error in one
 * line naming the file when it cannot be read or does not pass (its first problems).
 */
export function loadUnitDirectory(path: string): Directory {
  const parsed = parseDirectory(readUnitDirectoryText(path));
  if (!parsed.ok) throw new Error(`the unit directory ${path} does not pass: ${problemsLine(parsed.problems.map(formatProblem))}`);
  return parsed.value;
}
