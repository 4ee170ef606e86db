import { XMLBuilder } from 'fast-xml-parser';

/** An element to write: its text, or its children in order; attributes beside them. */
export interface XmlOut {
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly text?: string;
  readonly children?: readonly (XmlOut | undefined)[];
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
});

type BuilderNode = Record<string, unknown>;

function toBuilder(element: XmlOut): BuilderNode {
  const node: BuilderNode = {};
  for (const [key, value] of Object.entries(element.attrs ?? {})) node[`@${key}`] = value;
  if (element.text !== undefined) node['#text'] = element.text;
  for (const child of element.children ?? []) {
    if (child === undefined) continue;
    const value = toBuilder(child);
    const existing = node[child.name];
    if (existing === undefined) node[child.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else node[child.name] = [existing, value];
  }
  return node;
}

/** Writes a document: the XML declaration, then the element tree pretty-printed with two-space indent. */
export function writeXml(root: XmlOut, encoding: 'UTF-8' | 'ISO-8859-1'): string {
  return `<?xml version="1.0" encoding="${encoding}"?>\n${builder.build({ [root.name]: toBuilder(root) })}`;
}

/** A leaf element, or nothing when the value is absent. */
export function leaf(name: string, text: string | undefined, attrs?: Record<string, string>): XmlOut | undefined {
  if (text === undefined) return undefined;
  return attrs === undefined ? { name, text } : { name, text, attrs };
}
