export {
  renderFallbackDocument,
  swedishTime,
  type CancelledDocument,
  type DocumentRecipient,
  type FallbackInput,
  type MunicipalityName,
  type UnitContact,
} from './fallback-document';
export { dejavuFonts } from './fonts';
