import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Problem } from '@svu/canonical';
import { documentProblem } from './document';

/** An XML element with its name resolved to a namespace URI. Text holds the element's own text, entities resolved. */
export interface XmlElement {
  readonly ns: string;
  readonly name: string;
  /** Attributes without a prefix (prefixed attributes are not used by any dialect). */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

export type XmlResult = { readonly ok: true; readonly root: XmlElement } | { readonly ok: false; readonly problem: Problem };

// Deeper than any dialect needs; stops hostile nesting before it costs stack or time.
const MAX_DEPTH = 32;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Entities are resolved below, so that character references above U+FFFF come out right and
  // nothing but the five predefined entities is ever expanded.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/**
 * True when the document declares a DOCTYPE or entity (refused: no entity expansion, no external
 * entities). Looked for anywhere, so that no parser path ever sees one.
 */
function hasDoctype(xml: string): boolean {
  return /<!(DOCTYPE|ENTITY)/i.test(xml);
}

/** Parses an XML document into namespace-resolved elements, or a problem of the whole document. */
export function parseXml(xml: string): XmlResult {
  if (hasDoctype(xml)) return fail('has a DOCTYPE or entity declaration, which is not accepted');
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (valid !== true) {
    return fail(`is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}): ${valid.err.msg}`);
  }
  let nodes: unknown[];
  try {
    nodes = parser.parse(xml) as unknown[];
  } catch (error) {
    return fail(`is not well-formed XML: ${(error as Error).message}`);
  }
  const roots = nodes.filter((node) => elementName(node) !== undefined);
  if (roots.length !== 1) return fail('must have exactly one root element');
  try {
    return { ok: true, root: toElement(roots[0], new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 0) };
  } catch (error) {
    if (error instanceof XmlShapeError) return fail(error.message);
    throw error;
  }
}

class XmlShapeError extends Error {}

function fail(message: string): XmlResult {
  return { ok: false, problem: documentProblem(message) };
}

type RawNode = Record<string, unknown>;

function elementName(node: unknown): string | undefined {
  for (const key of Object.keys(node as RawNode)) {
    if (key !== ':@' && key !== '#text' && key !== '#cdata') return key;
  }
  return undefined;
}

function toElement(node: unknown, outerScope: ReadonlyMap<string, string>, depth: number): XmlElement {
  if (depth > MAX_DEPTH) throw new XmlShapeError(`nests elements deeper than ${MAX_DEPTH} levels`);
  const raw = node as RawNode;
  const qname = elementName(raw)!;
  const rawAttrs = (raw[':@'] ?? {}) as Record<string, string>;
  let scope = outerScope;
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      if (scope === outerScope) scope = new Map(outerScope);
      (scope as Map<string, string>).set(key === 'xmlns' ? '' : key.slice(6), resolveEntities(value));
    } else if (!key.includes(':') && key !== '__proto__') {
      attrs[key] = resolveEntities(value);
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined && prefix !== '') throw new XmlShapeError(`uses the undeclared namespace prefix "${prefix}"`);
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (raw[qname] ?? []) as RawNode[]) {
    if ('#text' in child) text += resolveEntities(String(child['#text']));
    else if ('#cdata' in child) text += ((child['#cdata'] as Array<{ '#text'?: string }>) ?? []).map((c) => c['#text'] ?? '').join('');
    else if (elementName(child) !== undefined) children.push(toElement(child, scope, depth + 1));
  }
  return { ns: ns ?? '', name: colon < 0 ? qname : qname.slice(colon + 1), attrs, children, text };
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Resolves the predefined entities and decimal and hexadecimal character references. */
function resolveEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new XmlShapeError('has an "&" that does not start an entity or character reference');
    if (name.startsWith('#')) {
      const hex = name[1] === 'x';
      const digits = name.slice(hex ? 2 : 1);
      const cp = digits !== '' && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (!isXmlChar(cp)) throw new XmlShapeError(`has the invalid character reference "${whole}"`);
      return String.fromCodePoint(cp);
    }
    const predefined = PREDEFINED[name];
    if (predefined === undefined) throw new XmlShapeError(`uses the undefined entity "${whole}"`);
    return predefined;
  });
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** The first child with this namespace and local name. */
export function childOf(parent: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return parent?.children.find((c) => c.ns === ns && c.name === name);
}

/** Every child with this namespace and local name. */
export function childrenOf(parent: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return parent === undefined ? [] : parent.children.filter((c) => c.ns === ns && c.name === name);
}
