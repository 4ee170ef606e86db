import type { Format } from './shared/code-tables';
import { decodeUtf8, showUtf8 } from './shared/document';
import { decodeWebcare, encodeWebcare, showWebcare, webcareCharset } from './webcare/encoding';

/**
 * The character set of each form's documents on the wire (docs/contract.md), as content types name
 * it: webcare is ISO-8859-1 (read as Windows-1252, or as UTF-8 when its XML declaration says so),
 * every other form UTF-8. Text and bytes are turned into each other only by the functions below,
 * which are the readers' and writers' own.
 */
export const CHARSETS: Readonly<Record<Format, 'utf-8' | 'iso-8859-1'>> = {
  lifecare: 'utf-8',
  webcare: 'iso-8859-1',
  samsa: 'utf-8',
  canonical: 'utf-8',
};

interface TextCodec {
  readonly charset: (bytes: Uint8Array) => 'utf-8' | 'iso-8859-1';
  readonly decode: (bytes: Uint8Array) => string | undefined;
  readonly show: (bytes: Uint8Array) => string;
  readonly encode: (text: string) => Buffer;
}

const UTF8: TextCodec = { charset: () => 'utf-8', decode: decodeUtf8, show: showUtf8, encode: (text) => Buffer.from(text, 'utf8') };

const CODECS: Readonly<Record<Format, TextCodec>> = {
  lifecare: UTF8,
  webcare: { charset: webcareCharset, decode: decodeWebcare, show: showWebcare, encode: encodeWebcare },
  samsa: UTF8,
  canonical: UTF8,
};

/** The character set this document of a form is read in (a webcare document's XML declaration may say UTF-8). */
export function documentCharset(format: Format, bytes: Uint8Array): 'utf-8' | 'iso-8859-1' {
  return CODECS[format].charset(bytes);
}

/** The text of a form's document as its reader reads it; undefined when the bytes are not characters in its encoding. */
export function decodeDocument(format: Format, bytes: Uint8Array): string | undefined {
  return CODECS[format].decode(bytes);
}

/**
 * The text of a form's document as its reader reads it, for showing to a person (the console's
 * editor): bytes that are no character in the document's encoding come out as U+FFFD.
 */
export function showDocument(format: Format, bytes: Uint8Array): string {
  return CODECS[format].show(bytes);
}

/**
 * The bytes of a form's document with this text, which its reader reads back as the same text (a
 * webcare character outside ISO-8859-1 becomes a character reference, docs/contract.md section 5).
 */
export function encodeDocument(format: Format, text: string): Buffer {
  return CODECS[format].encode(text);
}
