import { statSync } from 'node:fs';

/**
 * Whether a credentials file (users, senders) can be read by every user of the machine. Start-up warns
 * about such a file: it holds password and key hashes, which can be attacked offline.
 */
export function readableByOthers(path: string): boolean {
  try {
    return (statSync(path).mode & 0o004) !== 0;
  } catch {
    return false;
  }
}
