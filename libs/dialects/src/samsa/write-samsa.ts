import type { CanonicalMessage } from '@svu/canonical';
import { BODY_LAYOUT } from '../shared/body-fields';
import { codeToWire } from '../shared/code-tables';
import { compact } from '../shared/draft';
import { writeBody } from '../shared/fields';
import { UTC_TIME } from '../shared/times';

/** Writes a canonical message as a samsa JSON document (UTF-8, two-space indent). */
export function writeSamsa(message: CanonicalMessage): Buffer {
  const layout = BODY_LAYOUT[message.type];
  const patient = message.patient;
  const doc = compact({
    meddelandeId: message.messageId,
    meddelandetyp: codeToWire('messageType', 'samsa', message.type),
    vardtillfalleId: message.episodeId,
    skickad: message.sentAt,
    avsandare: { hsaId: message.sender.hsaId, namn: message.sender.name },
    mottagare: message.recipients.map((r) => ({ hsaId: r.hsaId, roll: codeToWire('role', 'samsa', r.role) })),
    patient:
      message.type === 'acknowledgement' || patient === undefined
        ? undefined
        : compact({
            idTyp: codeToWire('idType', 'samsa', patient.idType),
            id: patient.id,
            fornamn: patient.givenName,
            efternamn: patient.familyName,
            skyddadIdentitet: patient.protectedIdentity,
            kommunkod: patient.municipality,
          }),
    [layout.samsa]: Object.fromEntries(
      writeBody(layout, 'samsa', UTC_TIME, message.body as unknown as Record<string, unknown>).map(([field, value]) => [
        field.samsa,
        value,
      ]),
    ),
  });
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}
