/**
 * Reading JAXB's typed values, shared by the client and the server (the server may use client code; the client
 * never uses server code): namespaces, xsi attributes, value types.
 */

export const XS = 'http://www.w3.org/2001/XMLSchema';
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** What the helpers below need of a parsed element. */
export interface XmlNode<Self> {
  name: string;
  attributes: Record<string, string>;
  namespaces: ReadonlyMap<string, string>;
  children: Self[];
}

/** The first child element with one of `names`. */
export function child<T extends XmlNode<T>>(parent: T, ...names: string[]): T | undefined {
  return parent.children.find((candidate) => names.includes(candidate.name));
}

/** The xsi attribute `name` (`type`, `nil`) of an element, whatever prefix the document bound XSI to. */
export function xsiAttribute<T extends XmlNode<T>>(node: T, name: string): string | undefined {
  for (const [qualified, value] of Object.entries(node.attributes)) {
    const colon = qualified.indexOf(':');
    if (colon < 0 || qualified.slice(colon + 1) !== name) continue;
    const prefix = qualified.slice(0, colon);
    const uri = node.namespaces.get(prefix);
    if (uri === XSI || (uri === undefined && prefix === 'xsi')) return value;
  }
  return undefined;
}

/** The value's type: an XML Schema type as `xs:<name>`, whatever its prefix; otherwise the local name (`jaxbMap`). */
export function valueType<T extends XmlNode<T>>(node: T): string | undefined {
  const type = xsiAttribute(node, 'type')?.trim();
  if (type === undefined) return undefined;
  const colon = type.indexOf(':');
  if (colon < 0) return type;
  const prefix = type.slice(0, colon);
  const uri = node.namespaces.get(prefix);
  const local = type.slice(colon + 1);
  if (uri === XS || (uri === undefined && (prefix === 'xs' || prefix === 'xsd'))) return `xs:${local}`;
  return local;
}
