import iconv from 'iconv-lite';
import { decodeUtf8, showUtf8 } from '../shared/document';

const DECLARED_ENCODING = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;

/** Whether a document's XML declaration (at its start, where a declaration must stand) says UTF-8. */
function declaresUtf8(head: string): boolean {
  const declared = DECLARED_ENCODING.exec(head.slice(0, 200))?.[1]?.toLowerCase();
  return declared === 'utf-8' || declared === 'utf8';
}

/** The character set webcare bytes are read in: UTF-8 when their XML declaration says so, else ISO-8859-1. */
export function webcareCharset(bytes: Uint8Array): 'utf-8' | 'iso-8859-1' {
  return declaresUtf8(Buffer.from(bytes.subarray(0, 200)).toString('latin1')) ? 'utf-8' : 'iso-8859-1';
}

function windows1252(bytes: Uint8Array): string {
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'windows-1252');
}

/**
 * Decodes webcare bytes. ISO-8859-1 is read as Windows-1252, as real feeds that declare ISO-8859-1
 * carry bytes 0x80–0x9F meaning € – ’ (Node's own TextDecoder reads those as C1 controls, hence
 * iconv-lite). A document that declares UTF-8 is read as UTF-8. Undefined when the bytes are not
 * characters in that encoding.
 */
export function decodeWebcare(bytes: Uint8Array): string | undefined {
  if (webcareCharset(bytes) === 'utf-8') return decodeUtf8(bytes);
  const text = windows1252(bytes);
  // The five bytes Windows-1252 leaves undefined come out as U+FFFD, which no ISO-8859-1 byte can mean.
  return text.includes('\uFFFD') ? undefined : text;
}

/**
 * The text of webcare bytes as `decodeWebcare` reads it, for showing to a person: bytes that are no
 * character in the document's encoding (which the reader refuses) come out as U+FFFD instead.
 */
export function showWebcare(bytes: Uint8Array): string {
  return webcareCharset(bytes) === 'utf-8' ? showUtf8(bytes) : windows1252(bytes);
}

/**
 * Encodes a webcare document as `decodeWebcare` reads it back: as ISO-8859-1 bytes, where a character
 * outside ISO-8859-1, and any in U+0080–U+009F (which readers take as Windows-1252), becomes a decimal
 * character reference; a document whose XML declaration says UTF-8 as UTF-8.
 */
export function encodeWebcare(xml: string): Buffer {
  if (declaresUtf8(xml)) return Buffer.from(xml, 'utf8');
  const safe = xml.replace(/[\u0080-\u009f\u0100-\u{10ffff}]/gu, (ch) => `&#${ch.codePointAt(0)};`);
  return Buffer.from(safe, 'latin1');
}
