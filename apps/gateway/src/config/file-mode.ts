import { statSync } from 'node:fs';

/** True when someone other than the file's owner may read or change it (a group or others bit). */
export function exposedMode(mode: number): boolean {
  return (mode & 0o066) !== 0;
}

/**
 * The mode (octal, `644`) of a credentials file (users, senders) that someone other than its owner may
 * read or change, else undefined. Start-up warns about such a file: it holds password and key hashes,
 * which can be attacked offline.
 */
export function exposedModeOf(path: string): string | undefined {
  try {
    const mode = statSync(path).mode;
    return exposedMode(mode) ? (mode & 0o777).toString(8) : undefined;
  } catch {
    return undefined;
  }
}
