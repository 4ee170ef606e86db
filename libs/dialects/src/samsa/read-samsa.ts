import { problem, type PathSegment, type Problem } from '@svu/canonical';
import { BODY_LAYOUT } from '../shared/body-fields';
import { compact, type Draft } from '../shared/draft';
import { readBody, readCode } from '../shared/fields';
import {
  arrayMember,
  booleanMember,
  isObject,
  objectMember,
  parseJsonObject,
  stringMember,
  type JsonObject,
} from '../shared/json-read';
import { cleanText } from '../shared/text';
import { UTC_TIME } from '../shared/times';

/** Reads samsa bytes (a UTF-8 JSON object) into a draft canonical message. */
export function readSamsa(bytes: Uint8Array): Draft | Problem {
  const parsed = parseJsonObject(bytes);
  if (!parsed.ok) return parsed.problem;
  const doc = parsed.doc;
  const problems: Problem[] = [];
  const str = (object: JsonObject | undefined, key: string, path: PathSegment[]) => stringMember(object, key, path, problems);
  const code = <T extends Parameters<typeof readCode>[0]>(table: T, raw: string | undefined, path: PathSegment[]) =>
    raw === undefined ? undefined : readCode(table, 'samsa', raw, path, problems);

  const type = code('messageType', str(doc, 'meddelandetyp', ['type']), ['type']);
  const sender = objectMember(doc, 'avsandare', ['sender'], problems);
  const recipients = arrayMember(doc, 'mottagare', ['recipients'], problems)?.map((entry, i) => {
    if (!isObject(entry)) {
      problems.push(problem('type', ['recipients', i], 'must be an object'));
      return {};
    }
    return compact({
      hsaId: str(entry, 'hsaId', ['recipients', i, 'hsaId']),
      role: code('role', str(entry, 'roll', ['recipients', i, 'role']), ['recipients', i, 'role']),
    });
  });
  const message: Record<string, unknown> = compact({
    messageId: str(doc, 'meddelandeId', ['messageId']),
    type,
    episodeId: str(doc, 'vardtillfalleId', ['episodeId']),
    sentAt: str(doc, 'skickad', ['sentAt']),
    sender: sender === undefined ? undefined : compact({ hsaId: str(sender, 'hsaId', ['sender', 'hsaId']), name: str(sender, 'namn', ['sender', 'name']) }),
    recipients,
  });
  if (type !== 'acknowledgement') {
    const patient = objectMember(doc, 'patient', ['patient'], problems);
    if (patient !== undefined) {
      message['patient'] = compact({
        idType: code('idType', str(patient, 'idTyp', ['patient', 'idType']), ['patient', 'idType']),
        id: str(patient, 'id', ['patient', 'id']),
        givenName: str(patient, 'fornamn', ['patient', 'givenName']),
        familyName: str(patient, 'efternamn', ['patient', 'familyName']),
        protectedIdentity: booleanMember(patient, 'skyddadIdentitet', ['patient', 'protectedIdentity'], problems),
        municipality: str(patient, 'kommunkod', ['patient', 'municipality']),
      });
    }
  }
  if (type !== undefined) {
    const layout = BODY_LAYOUT[type];
    const body = objectMember(doc, layout.samsa, ['body'], problems);
    message['body'] = readBody(
      layout,
      'samsa',
      UTC_TIME,
      (field) => {
        const path = ['body', field.key];
        if (field.kind !== 'codes') return str(body, field.samsa, path);
        const list = arrayMember(body, field.samsa, path, problems);
        if (list === undefined) return undefined;
        const items: string[] = [];
        list.forEach((item, i) => {
          if (typeof item !== 'string') problems.push(problem('type', [...path, i], 'must be a string'));
          else {
            const cleaned = cleanText(item);
            if (cleaned !== undefined) items.push(cleaned);
          }
        });
        return items;
      },
      problems,
    );
  }
  return { message, problems };
}
