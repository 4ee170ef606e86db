import type { CanonicalMessage, Patient } from '@svu/canonical';
import { toHyphenated } from '@svu/identity';
import { BODY_LAYOUT, LIFECARE_LIST_ITEM } from '../shared/body-fields';
import { codeToWire } from '../shared/code-tables';
import { writeBody } from '../shared/fields';
import { OFFSET_TIME } from '../shared/times';
import { leaf, writeXml, type XmlOut } from '../shared/xml-write';
import { LIFECARE_NS } from './lifecare-ns';

const lc = (name: string) => `lc:${name}`;

/** Writes a canonical message as a lifecare document (UTF-8, prefix lc, version 2.1). */
export function writeLifecare(message: CanonicalMessage): Buffer {
  const layout = BODY_LAYOUT[message.type];
  const body: XmlOut = {
    name: lc(layout.lifecare),
    children: writeBody(layout, 'lifecare', OFFSET_TIME, message.body as unknown as Record<string, unknown>).map(
      ([field, value]) =>
        typeof value === 'string'
          ? { name: lc(field.lifecare), text: value }
          : {
              name: lc(field.lifecare),
              children: value.map((item) => ({ name: lc(LIFECARE_LIST_ITEM[field.lifecare]!), text: item })),
            },
    ),
  };
  const root: XmlOut = {
    name: lc('SvuMessage'),
    attrs: { 'xmlns:lc': LIFECARE_NS, version: '2.1' },
    children: [
      {
        name: lc('Header'),
        children: [
          leaf(lc('MessageId'), message.messageId),
          leaf(lc('MessageType'), codeToWire('messageType', 'lifecare', message.type)),
          leaf(lc('EpisodeId'), message.episodeId),
          leaf(lc('SentAt'), OFFSET_TIME.writeInstant(message.sentAt)),
          leaf(lc('Sender'), message.sender.name, { hsaId: message.sender.hsaId }),
          ...message.recipients.map((r) => ({
            name: lc('Recipient'),
            attrs: { hsaId: r.hsaId, role: codeToWire('role', 'lifecare', r.role) },
          })),
        ],
      },
      message.type === 'acknowledgement' || message.patient === undefined ? undefined : patientElement(message.patient),
      body,
    ],
  };
  return Buffer.from(writeXml(root, 'UTF-8'), 'utf8');
}

function patientElement(patient: Patient): XmlOut {
  const id = patient.idType === 'reservnummer' ? patient.id : toHyphenated(patient.id);
  return {
    name: lc('Patient'),
    attrs: { idType: codeToWire('idType', 'lifecare', patient.idType) },
    children: [
      leaf(lc('Id'), id),
      leaf(lc('GivenName'), patient.givenName),
      leaf(lc('FamilyName'), patient.familyName),
      leaf(lc('ProtectedIdentity'), String(patient.protectedIdentity)),
      leaf(lc('Municipality'), patient.municipality),
    ],
  };
}
