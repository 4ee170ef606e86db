import { problem, type Problem } from '@svu/canonical';
import { fromTenDigit } from '@svu/identity';
import { swedishYear } from '@svu/swedish-time';
import { BODY_LAYOUT } from '../shared/body-fields';
import { checkEnvelopeBytes, documentProblem } from '../shared/document';
import { compact, type Draft } from '../shared/draft';
import { readBody, readCode } from '../shared/fields';
import { cleanText } from '../shared/text';
import { WALL_CLOCK_TIME } from '../shared/times';
import { childOf, childrenOf, parseXml, type XmlElement } from '../shared/xml-read';
import { decodeWebcare } from './encoding';

const text = (element: XmlElement | undefined): string | undefined => cleanText(element?.text);
const attr = (element: XmlElement | undefined, name: string): string | undefined => cleanText(element?.attrs[name]);
const el = (parent: XmlElement | undefined, name: string) => childOf(parent, '', name);

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
  const header = el(root, 'HDR');
  const rawType = text(el(header, 'TYP'));
  const type = rawType === undefined ? undefined : readCode('messageType', 'webcare', rawType, ['type'], problems);
  const rawSent = text(el(header, 'TS'));
  const sentAt = rawSent === undefined ? undefined : WALL_CLOCK_TIME.readInstant(rawSent);
  if (rawSent !== undefined && sentAt === undefined) {
    problems.push(problem('format', ['sentAt'], `${JSON.stringify(rawSent)} is not ${WALL_CLOCK_TIME.instantForm}`));
  }
  const sender = el(header, 'FROM');
  const message: Record<string, unknown> = compact({
    messageId: text(el(header, 'ID')),
    type,
    episodeId: text(el(header, 'VTF')),
    sentAt,
    sender: sender === undefined ? undefined : compact({ hsaId: attr(sender, 'hsa'), name: text(sender) }),
    recipients: childrenOf(header, '', 'TO').map((recipient, i) => {
      const role = attr(recipient, 'roll');
      return compact({
        hsaId: attr(recipient, 'hsa'),
        role: role === undefined ? undefined : readCode('role', 'webcare', role, ['recipients', i, 'role'], problems),
      });
    }),
  });
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
  if (id !== undefined && idElement !== 'RES') {
    if (sentAt === undefined) {
      problems.push(problem('rule', ['patient', 'id'], 'cannot be read without a valid sentAt (the century depends on it)'));
      id = undefined;
    } else {
      const twelve = fromTenDigit(id, swedishYear(sentAt));
      if (twelve === undefined) {
        problems.push(problem('format', ['patient', 'id'], 'must be written YYMMDD-NNNC (+ instead of - from the 100th year)'));
      }
      id = twelve;
    }
  }
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
