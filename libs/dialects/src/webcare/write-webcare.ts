import type { CanonicalMessage, Patient } from '@svu/canonical';
import { toTenDigit } from '@svu/identity';
import { swedishYear } from '@svu/swedish-time';
import { BODY_LAYOUT } from '../shared/body-fields';
import { codeToWire } from '../shared/code-tables';
import { writeBody } from '../shared/fields';
import { WALL_CLOCK_TIME } from '../shared/times';
import { leaf, writeXml, type XmlOut } from '../shared/xml-write';
import { encodeWebcare } from './encoding';

/** Writes a canonical message as a webcare document (ISO-8859-1 bytes, root WCMsg ver 4). */
export function writeWebcare(message: CanonicalMessage): Buffer {
  const data: XmlOut = {
    name: 'DATA',
    children: writeBody(BODY_LAYOUT[message.type], 'webcare', WALL_CLOCK_TIME, message.body as unknown as Record<string, unknown>).map(
      ([field, value]) => ({ name: field.webcare, text: typeof value === 'string' ? value : value.join(',') }),
    ),
  };
  const root: XmlOut = {
    name: 'WCMsg',
    attrs: { ver: '4' },
    children: [
      {
        name: 'HDR',
        children: [
          leaf('ID', message.messageId),
          leaf('TYP', codeToWire('messageType', 'webcare', message.type)),
          leaf('VTF', message.episodeId),
          leaf('TS', WALL_CLOCK_TIME.writeInstant(message.sentAt)),
          leaf('FROM', message.sender.name, { hsa: message.sender.hsaId }),
          ...message.recipients.map((r) => ({ name: 'TO', attrs: { hsa: r.hsaId, roll: codeToWire('role', 'webcare', r.role) } })),
        ],
      },
      message.type === 'acknowledgement' || message.patient === undefined
        ? undefined
        : patientElement(message.patient, swedishYear(message.sentAt)),
      data,
    ],
  };
  return encodeWebcare(writeXml(root, 'ISO-8859-1'));
}

function patientElement(patient: Patient, sentYear: number): XmlOut {
  const id = patient.idType === 'reservnummer' ? patient.id : toTenDigit(patient.id, sentYear);
  return {
    name: 'PAT',
    children: [
      leaf(codeToWire('idType', 'webcare', patient.idType), id),
      leaf('FNAMN', patient.givenName),
      leaf('ENAMN', patient.familyName),
      leaf('SKYDD', patient.protectedIdentity ? 'J' : 'N'),
      leaf('KOMMUN', patient.municipality),
    ],
  };
}
