export { birthDate, identityProblem, withCheckDigit, type IdentityKind } from './identity-number';
export { fromHyphenated, fromTenDigit, toHyphenated, toTenDigit } from './ten-digit';
export { luhnCheckDigit } from './luhn';
export { maskIdentityNumberKeepingYear, maskIdentityNumbers } from './mask';
