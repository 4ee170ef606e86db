import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_MESSAGE_BYTES } from '@svu/dialects';

/**
 * Reads a file (or standard input for `-` or no name), stopping one byte past the message size limit:
 * that is enough for the reader to refuse an over-size message without holding a huge input in memory.
 */
export function readInput(file: string | undefined): Buffer {
  const stdin = file === undefined || file === '-';
  try {
    return readAll(stdin ? 0 : openSync(file, 'r'));
  } catch (error) {
    // Name the file and say what is wrong in words (EISDIR alone says neither).
    const code = (error as NodeJS.ErrnoException).code;
    const what = stdin ? 'standard input' : file;
    const why = code === 'EISDIR' ? 'is a directory, not a file' : code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message.replace(/, (open|read) '.*'$/, '');
    throw new Error(`cannot read ${what}: ${why}${code !== undefined && !why.startsWith(code) ? ` (${code})` : ''}`);
  }
}

function readAll(fd: number): Buffer {
  try {
    const limit = MAX_MESSAGE_BYTES + 1;
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(65_536);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, Math.min(chunk.length, limit - total), null);
      } catch (error) {
        // A non-blocking standard input (a pipe from some shells) reports EAGAIN until data arrives.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((error as NodeJS.ErrnoException).code === 'EOF') break;
        throw error;
      }
      if (n === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, n)));
      total += n;
      if (total >= limit) break;
    }
    return Buffer.concat(chunks);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}
