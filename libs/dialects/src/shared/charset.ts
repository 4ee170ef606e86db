import type { Format } from './code-tables';

/**
 * The character set of each form's documents on the wire (docs/contract.md): webcare is ISO-8859-1
 * (latin-1), every other form UTF-8. The one place that decides it.
 */
export const CHARSETS: Readonly<Record<Format, 'utf-8' | 'iso-8859-1'>> = {
  lifecare: 'utf-8',
  webcare: 'iso-8859-1',
  samsa: 'utf-8',
  canonical: 'utf-8',
};

/** Node's name for a form's character set, to turn its bytes into text and back. */
export function bufferEncodingOf(format: Format): BufferEncoding {
  return CHARSETS[format] === 'iso-8859-1' ? 'latin1' : 'utf8';
}
