import { problem, type MessageType, type Problem } from '@svu/canonical';
import { BODY_LAYOUT } from '../shared/body-fields';
import { checkEnvelopeBytes, documentProblem } from '../shared/document';
import { compact, type Draft } from '../shared/draft';
import { readXmlEnvelope, xmlAttr, xmlText, type XmlEnvelopeNames } from '../shared/xml-envelope';
import { readBody, readCode } from '../shared/fields';
import { readTenDigitId } from '../shared/identity-field';
import { WALL_CLOCK_TIME } from '../shared/times';
import { childOf, parseXml, type XmlElement } from '../shared/xml-read';
import { decodeWebcare } from './encoding';

const text = xmlText;
const attr = xmlAttr;
const el = (parent: XmlElement | undefined, name: string) => childOf(parent, '', name);

const WEBCARE_ENVELOPE: XmlEnvelopeNames = {
  ns: '',
  messageId: 'ID',
  type: 'TYP',
  episodeId: 'VTF',
  sentAt: 'TS',
  sender: 'FROM',
  recipient: 'TO',
  hsaAttribute: 'hsa',
  roleAttribute: 'roll',
};

/** Reads webcare bytes (ISO-8859-1 XML, root WCMsg) into a draft canonical message. */
export function readWebcare(bytes: Uint8Array): Draft | Problem {
  const early = checkEnvelopeBytes(bytes);
  if (early !== undefined) return early;
  const xml = decodeWebcare(bytes);
  if (xml === undefined) return documentProblem('has bytes that are not characters in its declared encoding');
  const parsed = parseXml(xml);
  if (!parsed.ok) return parsed.problem;
  const root = parsed.root;
  if (root.ns !== '' || root.name !== 'WCMsg') return documentProblem('root element must be WCMsg without a namespace');
  const version = attr(root, 'ver');
  if (version !== undefined && version !== '4') {
    return documentProblem(`ver ${JSON.stringify(version)} is not supported (4 is)`);
  }

  const problems: Problem[] = [];
  const message = readXmlEnvelope(el(root, 'HDR'), WEBCARE_ENVELOPE, 'webcare', WALL_CLOCK_TIME, problems);
  const type = message['type'] as MessageType | undefined;
  const sentAt = message['sentAt'] as string | undefined;
  if (type !== 'acknowledgement') {
    const patient = el(root, 'PAT');
    if (patient !== undefined) message['patient'] = readPatient(patient, sentAt, problems);
  }
  if (type !== undefined) {
    const data = el(root, 'DATA');
    message['body'] = readBody(
      BODY_LAYOUT[type],
      'webcare',
      WALL_CLOCK_TIME,
      (field) => {
        const value = text(el(data, field.webcare));
        if (field.kind !== 'codes' || value === undefined) return value;
        return value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '');
      },
      problems,
    );
  }
  return { message, problems };
}

const ID_ELEMENTS = ['PNR', 'SNR', 'RES'] as const;

function readPatient(patient: XmlElement, sentAt: string | undefined, problems: Problem[]): Record<string, unknown> {
  const idElement = ID_ELEMENTS.find((name) => el(patient, name) !== undefined);
  const idType = idElement === undefined ? undefined : readCode('idType', 'webcare', idElement, ['patient', 'idType'], problems);
  let id = idElement === undefined ? undefined : text(el(patient, idElement));
  if (id !== undefined && idElement !== 'RES') id = readTenDigitId(id, sentAt, problems);
  const rawProtected = text(el(patient, 'SKYDD'));
  let protectedIdentity: boolean | undefined;
  if (rawProtected === 'J' || rawProtected === 'N') protectedIdentity = rawProtected === 'J';
  else if (rawProtected !== undefined) problems.push(problem('format', ['patient', 'protectedIdentity'], 'must be J or N'));
  return compact({
    idType,
    id,
    givenName: text(el(patient, 'FNAMN')),
    familyName: text(el(patient, 'ENAMN')),
    protectedIdentity,
    municipality: text(el(patient, 'KOMMUN')),
  });
}
