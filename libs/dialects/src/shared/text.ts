/**
 * A text value as the contract (docs/contract.md) reads it: CR and CRLF become `\n`, surrounding whitespace is trimmed,
 * and an empty value counts as absent.
 */
export function cleanText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.replace(/\r\n?/g, '\n').trim();
  return value === '' ? undefined : value;
}
