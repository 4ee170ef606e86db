import { problem, type Problem } from '@svu/canonical';
import { fromHyphenated } from '@svu/identity';
import { BODY_LAYOUT, LIFECARE_LIST_ITEM } from '../shared/body-fields';
import { checkEnvelopeBytes, decodeUtf8, documentProblem } from '../shared/document';
import { compact, type Draft } from '../shared/draft';
import { readBody, readCode } from '../shared/fields';
import { cleanText } from '../shared/text';
import { OFFSET_TIME } from '../shared/times';
import { childOf, childrenOf, parseXml, type XmlElement } from '../shared/xml-read';
import { LIFECARE_NS } from './lifecare-ns';

const text = (element: XmlElement | undefined): string | undefined => cleanText(element?.text);
const attr = (element: XmlElement | undefined, name: string): string | undefined => cleanText(element?.attrs[name]);

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
  const header = el(root, 'Header');
  const rawType = text(el(header, 'MessageType'));
  const type = rawType === undefined ? undefined : readCode('messageType', 'lifecare', rawType, ['type'], problems);
  const rawSent = text(el(header, 'SentAt'));
  const sentAt = rawSent === undefined ? undefined : OFFSET_TIME.readInstant(rawSent);
  if (rawSent !== undefined && sentAt === undefined) {
    problems.push(problem('format', ['sentAt'], `${JSON.stringify(rawSent)} is not ${OFFSET_TIME.instantForm}`));
  }
  const sender = el(header, 'Sender');
  const message: Record<string, unknown> = compact({
    messageId: text(el(header, 'MessageId')),
    type,
    episodeId: text(el(header, 'EpisodeId')),
    sentAt,
    sender: sender === undefined ? undefined : compact({ hsaId: attr(sender, 'hsaId'), name: text(sender) }),
    recipients: childrenOf(header, LIFECARE_NS, 'Recipient').map((recipient, i) => {
      const role = attr(recipient, 'role');
      return compact({
        hsaId: attr(recipient, 'hsaId'),
        role: role === undefined ? undefined : readCode('role', 'lifecare', role, ['recipients', i, 'role'], problems),
      });
    }),
  });
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
  if (id !== undefined && (idType === 'personnummer' || idType === 'samordningsnummer')) {
    const twelve = fromHyphenated(id);
    if (twelve === undefined) problems.push(problem('format', ['patient', 'id'], 'must be written YYYYMMDD-NNNN'));
    id = twelve;
  }
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
