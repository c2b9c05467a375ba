/**
 * Reading XML documents into element trees, and JAXB's typed values in them: shared by the client and the server
 * (the server may use client code; the client never uses server code). Parsing itself (fast-xml-parser, with
 * entities off) and what counts as an error stay with each side.
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

/** A parsed element: local name, attributes, in-scope namespaces, child elements and text. */
export interface XmlElement extends XmlNode<XmlElement> {
  /** Concatenated text and CDATA. */
  text: string;
}

/** A node as fast-xml-parser answers it with `preserveOrder`. */
export type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/** How one side turns raw text into element trees. */
export interface TreeRules {
  /** Decodes the character and entity references of a text or attribute value (or refuses them). */
  decode(text: string): string;
  maxDepth: number;
  /** The error for a document nested deeper than `maxDepth`. */
  tooDeep(): Error;
}

function localName(qualified: string): string {
  return qualified.slice(qualified.indexOf(':') + 1);
}

/** A parsed node as an element (undefined for text, comments, processing instructions), its namespaces resolved. */
export function toElement(
  raw: RawNode,
  inherited: ReadonlyMap<string, string>,
  rules: TreeRules,
  depth = 0,
): XmlElement | undefined {
  if (depth > rules.maxDepth) throw rules.tooDeep();
  const tag = Object.keys(raw).find((key) => key !== ':@');
  if (tag === undefined || tag.startsWith('#') || tag.startsWith('?')) return undefined;
  const attributes: Record<string, string> = {};
  let namespaces = inherited;
  for (const [name, value] of Object.entries(raw[':@'] ?? {})) {
    const decoded = rules.decode(value);
    attributes[name] = decoded;
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (namespaces === inherited) namespaces = new Map(inherited);
      (namespaces as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), decoded);
    }
  }
  const element: XmlElement = { name: localName(tag), attributes, namespaces, children: [], text: '' };
  for (const child of (raw[tag] as RawNode[] | undefined) ?? []) {
    if ('#text' in child) element.text += rules.decode(String(child['#text']));
    else if ('#cdata' in child) {
      for (const part of child['#cdata'] as RawNode[]) element.text += String(part['#text'] ?? '');
    } else if (!('#comment' in child)) {
      const sub = toElement(child, namespaces, rules, depth + 1);
      if (sub) element.children.push(sub);
    }
  }
  return element;
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
