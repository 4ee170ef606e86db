export { isFormat, peekIds, readMessage, translate, writeMessage } from './translate';
export { FORMATS, canonicalCodes, codeFromWire, codeToWire, wireCodes, type CodeTable, type Format, type WireDialect } from './shared/code-tables';
export { BODY_LAYOUT, type BodyField } from './shared/body-fields';
export { MAX_MESSAGE_BYTES } from './shared/document';
export { orderCanonical } from './canonical/write-canonical';
