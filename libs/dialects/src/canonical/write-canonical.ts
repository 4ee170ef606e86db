import type { CanonicalMessage } from '@svu/canonical';
import { BODY_LAYOUT } from '../shared/body-fields';
import { compact } from '../shared/draft';

/** The canonical message with its keys in the contract's order (what `--to canonical` prints). */
export function orderCanonical(message: CanonicalMessage): CanonicalMessage {
  const patient = message.patient;
  const body = message.body as unknown as Record<string, unknown>;
  return compact({
    messageId: message.messageId,
    type: message.type,
    episodeId: message.episodeId,
    sentAt: message.sentAt,
    sender: { hsaId: message.sender.hsaId, name: message.sender.name },
    recipients: message.recipients.map((r) => ({ hsaId: r.hsaId, role: r.role })),
    patient:
      patient === undefined
        ? undefined
        : compact({
            idType: patient.idType,
            id: patient.id,
            givenName: patient.givenName,
            familyName: patient.familyName,
            protectedIdentity: patient.protectedIdentity,
            municipality: patient.municipality,
          }),
    body: compact(Object.fromEntries(BODY_LAYOUT[message.type].fields.map((field) => [field.key, body[field.key]]))),
  }) as unknown as CanonicalMessage;
}

/** Writes a canonical message as UTF-8 JSON with two-space indent. */
export function writeCanonical(message: CanonicalMessage): Buffer {
  return Buffer.from(`${JSON.stringify(orderCanonical(message), null, 2)}\n`, 'utf8');
}
