import { problem, type Problem } from '@svu/canonical';

/** Largest message accepted, in bytes as received (docs/contract.md section 2). */
export const MAX_MESSAGE_BYTES = 262_144;

/** A problem of the whole document, reported at `message`. */
export function documentProblem(message: string): Problem {
  return problem('document', [], message);
}

/** The size and emptiness checks every reader makes before looking inside. */
export function checkEnvelopeBytes(bytes: Uint8Array): Problem | undefined {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    return documentProblem(`is ${bytes.length} bytes, more than the limit of ${MAX_MESSAGE_BYTES}`);
  }
  for (const byte of bytes) {
    // Space, tab, CR, LF.
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return undefined;
  }
  return documentProblem('is empty');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly (a leading BOM is dropped); undefined for bytes that are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const utf8Shown = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/** Decodes UTF-8 for showing to a person: as `decodeUtf8`, but bytes that are not UTF-8 come out as U+FFFD. */
export function showUtf8(bytes: Uint8Array): string {
  return utf8Shown.decode(bytes);
}
