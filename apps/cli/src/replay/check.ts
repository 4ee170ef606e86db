import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '@svu/canonical';
import { peekIds, readMessage, type Format } from '@svu/dialects';
import type { Directory } from '@svu/directory';
import { loadManifest, ManifestError } from './manifest';
import { fillPlaceholderBytes, type RunValues } from './placeholders';

/**
 * `svu replay --check`: a fixture set checked offline, without gateway or broker — the manifest
 * against its schema, every file it names present, each message it sends readable and valid in its
 * dialect (unless the set expects it rejected or dead-lettered as invalid), each expected file valid in
 * its recipient's dialect, every unit it names in the directory. One line per problem, `file: problem`.
 */
export function checkFixtureSet(dir: string, directory: Directory): string[] {
  let manifest;
  try {
    manifest = loadManifest(dir);
  } catch (error) {
    if (error instanceof ManifestError) return [...error.problems];
    return [`${join(dir, 'manifest.json')}: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const values: RunValues = { run: 'check', startMs: Date.UTC(2026, 0, 15, 9, 0) };
  const fill = (text: string) => text.replace(/\{\{\s*run\s*\}\}/g, values.run);
  const invalidOnPurpose = new Set(manifest.expect.flatMap((e) => ('deadLetter' in e && e.deadLetter === 'invalid-message' ? [fill(e.messageId)] : [])));
  const unit = (hsaId: string, where: string) => {
    const found = directory.units.find((u) => u.hsaId === hsaId);
    if (found === undefined) problems.push(`${join(dir, 'manifest.json')}: ${where}: ${hsaId} is not in the unit directory`);
    return found;
  };
  const read = (name: string, format: Format, mustBeValid: boolean) => {
    const path = join(dir, name);
    if (!existsSync(path)) return problems.push(`${path}: file not found`);
    const bytes = fillPlaceholderBytes(readFileSync(path), format, values);
    const result = readMessage(format, bytes);
    const id = peekIds(format, bytes).messageId;
    if (!result.ok && mustBeValid && (id === undefined || !invalidOnPurpose.has(id))) {
      for (const p of result.problems) problems.push(`${path}: ${formatProblem(p)}`);
    }
    return undefined;
  };
  for (const b of manifest.behaviours ?? []) unit(b.hsaId, 'behaviours');
  for (const [i, step] of manifest.steps.entries()) {
    if ('send' in step) read(step.send, step.dialect, step.expectRejected !== true);
    else if ('behave' in step) unit(step.behave.hsaId, `steps[${i}].behave`);
  }
  for (const [i, e] of manifest.expect.entries()) {
    // A set may name a unit missing from the directory on purpose, to see it dead-lettered as such.
    if (e.recipient === undefined || ('deadLetter' in e && e.deadLetter === 'unknown-recipient')) continue;
    const recipient = unit(e.recipient, `expect[${i}]`);
    if ('message' in e && recipient !== undefined) read(e.message, recipient.dialect, true);
  }
  return problems;
}
