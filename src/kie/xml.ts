/**
 * KIE's XML as JAXB writes it, for the client and the server alike: the parser options (fast-xml-parser, entities
 * off), what XML can carry and how text is escaped, how references are decoded, element trees with their
 * namespaces, and JAXB's typed values (`xsi:type="xs:int"`). What counts as an error stays with each side (the
 * server refuses, the client reads what it can).
 */
import type { X2jOptions } from 'fast-xml-parser';

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

/** fast-xml-parser's options for element trees: order kept, text untouched, entities left to decodeReferences. */
export const XML_PARSER_OPTIONS: Partial<X2jOptions> = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false, // decoded by decodeReferences: the five XML entities and character references only
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
};

/** The XML declaration JAXB writes. */
export const XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Characters XML 1.0 cannot carry at all. */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for an XML element; characters XML cannot carry become U+FFFD, so the document stays well-formed. */
export function escapeXmlText(text: string): string {
  return text
    .replace(NOT_XML_CHARS, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** XML 1.0's Char: no NUL or other C0 controls but tab and line ends, no surrogates, no U+FFFE or U+FFFF. */
export function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

const REFERENCE = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes XML's five entities and character references, nothing else. With `refuse`, a reference to a character
 * XML cannot carry, an undefined entity or a bare ampersand throws `refuse(reason)`; without, such a reference
 * becomes U+FFFD and the rest stays as it is.
 */
export function decodeReferences(raw: string, refuse?: (reason: string) => Error): string {
  const decoded = raw.replace(
    REFERENCE,
    (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (name) return NAMED[name] ?? whole;
      const code = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? '', 16);
      if (refuse) {
        if (!Number.isInteger(code) || !isXmlChar(code)) {
          throw refuse(`invalid character reference &#${dec ?? 'x' + hex};`);
        }
        return String.fromCodePoint(code);
      }
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
    },
  );
  if (refuse) {
    // Any & left over in the raw text was not one of the above: an undefined entity or a bare ampersand.
    const stray = raw.replace(REFERENCE, '').match(/&[^;\s]{0,20};?/);
    if (stray) throw refuse(`undefined entity or bare ampersand "${stray[0]}"`);
  }
  return decoded;
}

/** A DOCTYPE or entity declaration: both sides refuse them (entities are never resolved). */
export function declaresEntities(body: string): boolean {
  return /<!DOCTYPE/i.test(body) || /<!ENTITY/i.test(body);
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The JAXB type of a number as KIE's Java side reads it: `xs:int`, `xs:long` beyond 32 bits, else `xs:double`. */
export function xmlNumberType(value: number): 'xs:int' | 'xs:long' | 'xs:double' {
  if (Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) return 'xs:int';
  if (Number.isSafeInteger(value)) return 'xs:long';
  return 'xs:double';
}

/** An `xs:double`'s text as Java writes it: `1.5E21`, not `1.5e+21`. */
export function xmlDouble(value: number): string {
  return String(value).replace('e+', 'E').replace('e', 'E');
}

/** The whole-number types of XML Schema, read as numbers. */
export const WHOLE_NUMBER_TYPES: ReadonlySet<string> = new Set([
  'xs:int',
  'xs:long',
  'xs:short',
  'xs:byte',
  'xs:integer',
  'xs:unsignedInt',
  'xs:unsignedShort',
  'xs:unsignedByte',
  'xs:unsignedLong',
  'xs:nonNegativeInteger',
  'xs:positiveInteger',
  'xs:negativeInteger',
  'xs:nonPositiveInteger',
]);
