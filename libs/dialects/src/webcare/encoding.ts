import iconv from 'iconv-lite';
import { decodeUtf8 } from '../shared/document';

const DECLARED_ENCODING = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;

/**
 * Decodes webcare bytes. ISO-8859-1 is read as Windows-1252, as real feeds that declare ISO-8859-1
 * carry bytes 0x80–0x9F meaning € – ’ (Node's own TextDecoder reads those as C1 controls, hence
 * iconv-lite). A document that declares UTF-8 is read as UTF-8. Undefined when the bytes are not
 * characters in that encoding.
 */
export function decodeWebcare(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const declared = DECLARED_ENCODING.exec(head)?.[1]?.toLowerCase();
  if (declared === 'utf-8' || declared === 'utf8') return decodeUtf8(bytes);
  const text = iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'windows-1252');
  // The five bytes Windows-1252 leaves undefined come out as U+FFFD, which no ISO-8859-1 byte can mean.
  return text.includes('\uFFFD') ? undefined : text;
}

/**
 * Encodes a document as ISO-8859-1 bytes: a character outside ISO-8859-1, and any in U+0080–U+009F
 * (which readers take as Windows-1252), becomes a decimal character reference.
 */
export function encodeWebcare(xml: string): Buffer {
   
  const safe = xml.replace(/[\u0080-\u009f\u0100-\u{10ffff}]/gu, (ch) => `&#${ch.codePointAt(0)};`);
  return Buffer.from(safe, 'latin1');
}
