import { problem, type Problem } from '@svu/canonical';
import { readCode, type WireTime } from './fields';
import type { WireDialect } from './code-tables';
import { compact } from './draft';
import { cleanText } from './text';
import { childOf, childrenOf, type XmlElement } from './xml-read';

/** Where an XML dialect keeps the envelope: element and attribute names inside its header element. */
export interface XmlEnvelopeNames {
  readonly ns: string;
  readonly messageId: string;
  readonly type: string;
  readonly episodeId: string;
  readonly sentAt: string;
  readonly sender: string;
  readonly recipient: string;
  readonly hsaAttribute: string;
  readonly roleAttribute: string;
}

export const xmlText = (element: XmlElement | undefined): string | undefined => cleanText(element?.text);
export const xmlAttr = (element: XmlElement | undefined, name: string): string | undefined => cleanText(element?.attrs[name]);

/** Reads the envelope (ids, type, sending time, sender, recipients) of an XML dialect into draft canonical fields. */
export function readXmlEnvelope(
  header: XmlElement | undefined,
  names: XmlEnvelopeNames,
  dialect: WireDialect,
  time: WireTime,
  problems: Problem[],
): Record<string, unknown> {
  const el = (name: string) => childOf(header, names.ns, name);
  const rawType = xmlText(el(names.type));
  const type = rawType === undefined ? undefined : readCode('messageType', dialect, rawType, ['type'], problems);
  const rawSent = xmlText(el(names.sentAt));
  const sentAt = rawSent === undefined ? undefined : time.readInstant(rawSent);
  if (rawSent !== undefined && sentAt === undefined) {
    problems.push(problem('format', ['sentAt'], `${JSON.stringify(rawSent)} is not ${time.instantForm}`));
  }
  const sender = el(names.sender);
  return compact({
    messageId: xmlText(el(names.messageId)),
    type,
    episodeId: xmlText(el(names.episodeId)),
    sentAt,
    sender: sender === undefined ? undefined : compact({ hsaId: xmlAttr(sender, names.hsaAttribute), name: xmlText(sender) }),
    recipients: childrenOf(header, names.ns, names.recipient).map((recipient, i) => {
      const role = xmlAttr(recipient, names.roleAttribute);
      return compact({
        hsaId: xmlAttr(recipient, names.hsaAttribute),
        role: role === undefined ? undefined : readCode('role', dialect, role, ['recipients', i, 'role'], problems),
      });
    }),
  });
}
