export { isFormat, peekIds, readMessage, timeCodecOf, translate, writeMessage } from './translate';
export type { WireTime } from './shared/fields';
export { FORMATS, canonicalCodes, codeFromWire, codeToWire, wireCodes, type CodeTable, type Format, type WireDialect } from './shared/code-tables';
export { BODY_LAYOUT, type BodyField } from './shared/body-fields';
export { MAX_MESSAGE_BYTES } from './shared/document';
export { orderCanonical } from './canonical/write-canonical';
export { CHARSETS, decodeDocument, documentCharset, encodeDocument, showDocument } from './charset';
