import { problem, type MessageType, type Problem } from '@svu/canonical';
import { BODY_LAYOUT, LIFECARE_LIST_ITEM } from '../shared/body-fields';
import { checkEnvelopeBytes, decodeUtf8, documentProblem } from '../shared/document';
import { compact, type Draft } from '../shared/draft';
import { readXmlEnvelope, xmlAttr, xmlText, type XmlEnvelopeNames } from '../shared/xml-envelope';
import { readBody, readCode } from '../shared/fields';
import { readHyphenatedId } from '../shared/identity-field';
import { OFFSET_TIME } from '../shared/times';
import { childOf, childrenOf, parseXml, type XmlElement } from '../shared/xml-read';
import { LIFECARE_NS } from './lifecare-ns';

const text = xmlText;
const attr = xmlAttr;

const LIFECARE_ENVELOPE: XmlEnvelopeNames = {
  ns: LIFECARE_NS,
  messageId: 'MessageId',
  type: 'MessageType',
  episodeId: 'EpisodeId',
  sentAt: 'SentAt',
  sender: 'Sender',
  recipient: 'Recipient',
  hsaAttribute: 'hsaId',
  roleAttribute: 'role',
};

/** Reads lifecare bytes (UTF-8 XML in namespace urn:lifecare:sp:svu:2) into a draft canonical message. */
export function readLifecare(bytes: Uint8Array): Draft | Problem {
  const early = checkEnvelopeBytes(bytes);
  if (early !== undefined) return early;
  const xml = decodeUtf8(bytes);
  if (xml === undefined) return documentProblem('is not valid UTF-8');
  const parsed = parseXml(xml);
  if (!parsed.ok) return parsed.problem;
  const root = parsed.root;
  if (root.ns !== LIFECARE_NS || root.name !== 'SvuMessage') {
    return documentProblem(`root element must be SvuMessage in namespace ${LIFECARE_NS}`);
  }
  const version = attr(root, 'version');
  if (version !== undefined && !/^2\.\d+$/.test(version)) {
    return documentProblem(`version ${JSON.stringify(version)} is not supported (2.x is)`);
  }

  const problems: Problem[] = [];
  const el = (parent: XmlElement | undefined, name: string) => childOf(parent, LIFECARE_NS, name);
  const message = readXmlEnvelope(el(root, 'Header'), LIFECARE_ENVELOPE, 'lifecare', OFFSET_TIME, problems);
  const type = message['type'] as MessageType | undefined;
  if (type !== 'acknowledgement') {
    const patient = el(root, 'Patient');
    if (patient !== undefined) message['patient'] = readPatient(patient, problems);
  }
  if (type !== undefined) {
    const layout = BODY_LAYOUT[type];
    const body = el(root, layout.lifecare);
    message['body'] = readBody(
      layout,
      'lifecare',
      OFFSET_TIME,
      (field) => {
        const element = el(body, field.lifecare);
        if (field.kind !== 'codes') return text(element);
        const items = childrenOf(element, LIFECARE_NS, LIFECARE_LIST_ITEM[field.lifecare]!).map(text);
        return items.filter((item): item is string => item !== undefined);
      },
      problems,
    );
  }
  return { message, problems };
}

function readPatient(patient: XmlElement, problems: Problem[]): Record<string, unknown> {
  const el = (name: string) => childOf(patient, LIFECARE_NS, name);
  const rawIdType = attr(patient, 'idType');
  const idType =
    rawIdType === undefined ? undefined : readCode('idType', 'lifecare', rawIdType, ['patient', 'idType'], problems);
  let id = text(el('Id'));
  if (id !== undefined && (idType === 'personnummer' || idType === 'samordningsnummer')) id = readHyphenatedId(id, problems);
  const rawProtected = text(el('ProtectedIdentity'));
  let protectedIdentity: boolean | undefined;
  if (rawProtected === 'true' || rawProtected === 'false') protectedIdentity = rawProtected === 'true';
  else if (rawProtected !== undefined) {
    problems.push(problem('format', ['patient', 'protectedIdentity'], 'must be true or false'));
  }
  return compact({
    idType,
    id,
    givenName: text(el('GivenName')),
    familyName: text(el('FamilyName')),
    protectedIdentity,
    municipality: text(el('Municipality')),
  });
}
