export { renderFallbackDocument, swedishTime, type DocumentRecipient, type FallbackInput } from './fallback-document';
export { dejavuFonts } from './fonts';
