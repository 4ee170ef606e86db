import type { CanonicalMessage } from '@svu/canonical';

/** A canonical message as a viewer may see it: no identity number, and no names of a protected patient. */
export function maskMessage(message: CanonicalMessage): CanonicalMessage {
  if (message.patient === undefined) return message;
  const patient = { ...message.patient, id: maskId(message.patient.id) };
  if (patient.protectedIdentity) {
    if (patient.givenName !== undefined) patient.givenName = '(skyddad)';
    if (patient.familyName !== undefined) patient.familyName = '(skyddad)';
  }
  return { ...message, patient };
}

/** Keeps the birth year, hides the rest: 1941******** */
export function maskId(id: string): string {
  return id.length <= 4 ? '*'.repeat(id.length) : id.slice(0, 4) + '*'.repeat(id.length - 4);
}

/** The original payload holds identity numbers in dialect forms, so a viewer does not get it at all. */
export function maskPayload(): null {
  return null;
}
