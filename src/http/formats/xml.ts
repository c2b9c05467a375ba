/**
 * KIE's XML, as JAXB writes and reads it: `<?xml ... standalone="yes"?>`, 4-space indentation, null fields left
 * out, dates as `xs:dateTime`, and maps as JAXB maps whose values carry their type:
 *
 *   <entry><key>retries</key><value xsi:type="xs:int" xmlns:xs="..." xmlns:xsi="...">3</value></entry>
 *
 * Values: strings `xs:string`, whole numbers `xs:int` (or `xs:long` beyond 32 bits), other numbers `xs:double`,
 * booleans `xs:boolean`, dates (`{"java.util.Date": ms}` in stored data) `xs:dateTime`. Nested maps and lists take
 * the form KIE's Java client gives them (ModelWrapper): `xsi:type="jaxbMap"` holding `<entries>`, and
 * `xsi:type="jaxbList"` holding `<items>` of `<items xsi:type=...>` elements. A null value is an entry without
 * `<value>` (or a `<value xsi:nil="true"/>` on input).
 *
 * Input never resolves entities beyond XML's five and character references: a DOCTYPE is refused outright.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ValidationError, type DataMap } from '../../core/index.js';
import { DATE_WRAPPER_KEY, dateWrapper, formatIsoDate, isDateWrapper, parseIsoMillis } from './dates.js';
import type {
  JobRequestInstance,
  KieContainerResource,
  KieMessage,
  KieServerInfo,
  RequestInfoInstance,
} from './model.js';
import {
  child,
  declaresEntities,
  decodeReferences,
  escapeXmlText,
  toElement,
  WHOLE_NUMBER_TYPES,
  xmlDouble,
  xmlNumberType,
  XML_HEADER,
  XML_PARSER_OPTIONS,
  valueType,
  xsiAttribute,
  XS,
  XSI,
  type RawNode,
  type TreeRules,
  type XmlElement,
} from '../../kie/xml.js';

export { escapeXmlText } from '../../kie/xml.js';

export const XML_MEDIA_TYPE = 'application/xml';
const TYPE_NAMESPACES = `xmlns:xs="${XS}" xmlns:xsi="${XSI}"`;
const INDENT = '    ';

// ---------------------------------------------------------------------------------------------------------------
// Writing

function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** A tiny JAXB-like tree: an element with text, or with child elements, or empty. */
interface Node {
  name: string;
  attributes?: string;
  text?: string;
  children?: Node[];
}

function render(node: Node, depth: number): string {
  const pad = INDENT.repeat(depth);
  const open = node.attributes ? `${node.name} ${node.attributes}` : node.name;
  if (node.text !== undefined) return `${pad}<${open}>${escapeXmlText(node.text)}</${node.name}>\n`;
  if (!node.children || node.children.length === 0) return `${pad}<${open}/>\n`;
  return `${pad}<${open}>\n${node.children.map((child) => render(child, depth + 1)).join('')}${pad}</${node.name}>\n`;
}

function document(root: Node): string {
  return XML_HEADER + render(root, 0);
}

const text = (name: string, value: string | number): Node => ({ name, text: String(value) });

/** Optional field: JAXB leaves out null fields. */
const optional = (name: string, value: string | number | null): Node[] =>
  value === null ? [] : [text(name, value)];

function xmlDate(ms: number): string {
  return formatIsoDate(ms, { zulu: true });
}

/** A map value as a typed element named `name` (`value` in a map entry, `items` in a list). */
function typedValue(name: string, value: unknown): Node | undefined {
  const typed = (type: string, content: string): Node => ({
    name,
    attributes: `xsi:type="${type}" ${TYPE_NAMESPACES}`,
    text: content,
  });
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return typed('xs:string', value);
    case 'boolean':
      return typed('xs:boolean', String(value));
    case 'number':
      if (xmlNumberType(value) !== 'xs:double') return typed(xmlNumberType(value), String(value));
      return typed('xs:double', Number.isFinite(value) ? xmlDouble(value) : 'NaN');
    case 'bigint':
      return typed('xs:long', value.toString());
    case 'object':
      break;
    default:
      return typed('xs:string', String(value));
  }
  if (isDateWrapper(value)) return typed('xs:dateTime', xmlDate(value[DATE_WRAPPER_KEY]));
  if (Array.isArray(value)) {
    const items = value.map(
      (item) =>
        typedValue('items', item) ?? { name: 'items', attributes: `xsi:nil="true" xmlns:xsi="${XSI}"` },
    );
    return {
      name,
      attributes: `xsi:type="jaxbList" ${TYPE_NAMESPACES}`,
      children: [{ name: 'items', children: items }],
    };
  }
  return {
    name,
    attributes: `xsi:type="jaxbMap" ${TYPE_NAMESPACES}`,
    children: [{ name: 'entries', children: entries(value as DataMap) }],
  };
}

/** The `<entry>` elements of a JAXB map. */
function entries(map: DataMap): Node[] {
  return Object.entries(map)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const typed = typedValue('value', value);
      return { name: 'entry', children: typed ? [text('key', key), typed] : [text('key', key)] };
    });
}

function requestInfoNode(info: RequestInfoInstance): Node {
  const children: Node[] = [
    text('request-instance-id', info.id),
    text('request-status', info.status),
    ...optional('request-business-key', info.businessKey),
    text('request-message', info.message),
    text('request-retries', info.retries),
    text('request-executions', info.executions),
    text('request-command', info.command),
    text('request-scheduled-date', xmlDate(info.scheduledDate)),
  ];
  if (info.requestData !== null) children.push({ name: 'request-data', children: entries(info.requestData) });
  if (info.responseData !== null)
    children.push({ name: 'response-data', children: entries(info.responseData) });
  if (info.errors !== null) {
    children.push({
      name: 'request-errors',
      children: info.errors.map((error) => ({
        name: 'error-info-instance',
        children: [
          text('error-instance-id', error.id),
          text('request-instance-id', error.requestId),
          ...optional('error-message', error.message),
          ...optional('error-stacktrace', error.stacktrace),
          text('error-date', xmlDate(error.date)),
        ],
      })),
    });
  }
  children.push(...optional('request-container-id', info.containerId));
  return { name: 'request-info-instance', children };
}

/** The answer of schedule: the id as JAXB wraps a Long. */
export function writeScheduledIdXml(id: number): string {
  return document({ name: 'long-type', children: [text('value', id)] });
}

export function writeRequestInfoXml(info: RequestInfoInstance): string {
  return document(requestInfoNode(info));
}

export function writeRequestInfoListXml(list: readonly RequestInfoInstance[]): string {
  return document({ name: 'request-info-instance-list', children: list.map(requestInfoNode) });
}

/**
 * The same document as writeRequestInfoListXml, written `chunk` jobs at a time with `pause()` awaited between
 * chunks, so that a page of thousands of jobs does not hold the event loop (and every other request) at once.
 */
export async function writeRequestInfoListXmlInChunks(
  list: readonly RequestInfoInstance[],
  pause: () => Promise<void>,
  chunk = 100,
): Promise<string> {
  if (list.length <= chunk) return writeRequestInfoListXml(list);
  const parts: string[] = [];
  for (let i = 0; i < list.length; i += chunk) {
    if (i > 0) await pause();
    parts.push(
      list
        .slice(i, i + chunk)
        .map((info) => render(requestInfoNode(info), 1))
        .join(''),
    );
  }
  return `${XML_HEADER}<request-info-instance-list>\n${parts.join('')}</request-info-instance-list>\n`;
}

/** A Message as JAXB writes it: its properties by name (content, severity, timestamp). */
function messageNode(name: string, message: KieMessage, attributes?: string): Node {
  return {
    name,
    ...(attributes ? { attributes } : {}),
    children: [
      ...message.content.map((line) => text('content', line)),
      text('severity', message.severity),
      text('timestamp', xmlDate(message.timestamp)),
    ],
  };
}

/**
 * `GET /server/healthcheck?report=true`: KIE wraps the `List<Message>` in a JaxbList (`list-type`), whose items
 * carry their type.
 */
export function writeMessagesXml(messages: readonly KieMessage[]): string {
  return document({
    name: 'list-type',
    children: [
      {
        name: 'items',
        children: messages.map((message) =>
          messageNode('items', message, `xsi:type="kie-message" xmlns:xsi="${XSI}"`),
        ),
      },
    ],
  });
}

/**
 * KieContainerResource: attributes and elements by property name, as JAXB orders them; kjobs has no release ids,
 * scanner or config items (null or empty: left out). `<commands>` is a kjobs extension (JAXB ignores it).
 */
function containerNode(container: KieContainerResource): Node {
  const id = escapeXmlAttribute(container.containerId);
  return {
    name: 'kie-container',
    attributes: `container-alias="${id}" container-id="${id}" status="${container.status}"`,
    children: [
      ...container.messages.map((message) => messageNode('messages', message)),
      ...container.commands.map((command) => text('commands', command)),
    ],
  };
}

/** `GET /server/containers`: a ServiceResponse holding the KieContainerResourceList. */
export function writeContainerListXml(containers: readonly KieContainerResource[]): string {
  return document({
    name: 'response',
    attributes: 'type="SUCCESS" msg="List of created containers"',
    children: [{ name: 'kie-containers', children: containers.map(containerNode) }],
  });
}

/** `GET /server/containers/{id}`: a ServiceResponse holding the KieContainerResource. */
export function writeContainerXml(container: KieContainerResource): string {
  return document({
    name: 'response',
    attributes: `type="SUCCESS" msg="${escapeXmlAttribute(`Info for container ${container.containerId}`)}"`,
    children: [containerNode(container)],
  });
}

/** `GET /server`: a ServiceResponse; JAXB orders KieServerInfo's properties by name (id is `serverId`). */
export function writeServerInfoXml(info: KieServerInfo): string {
  return document({
    name: 'response',
    attributes: `type="SUCCESS" msg="${escapeXmlAttribute('Kie Server info')}"`,
    children: [
      {
        name: 'kie-server-info',
        children: [
          ...info.capabilities.map((capability) => text('capabilities', capability)),
          text('location', info.location),
          ...info.messages.map((message) => messageNode('messages', message)),
          text('mode', info.mode),
          text('name', info.name),
          text('id', info.id),
          text('version', info.version),
        ],
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** A parsed element: local name, attributes by qualified name, in-scope namespaces, children and text. */
type Element = XmlElement;

const parser = new XMLParser(XML_PARSER_OPTIONS);

/** How deep elements may nest (data maps take three elements a level); deeper documents are refused. */
const MAX_ELEMENT_DEPTH = 300;

const SERVER_TREE: TreeRules = {
  decode: (raw) => decodeReferences(raw, (reason) => new ValidationError(`Malformed XML: ${reason}`)),
  maxDepth: MAX_ELEMENT_DEPTH,
  tooDeep: () => new ValidationError(`XML elements nest deeper than ${MAX_ELEMENT_DEPTH} levels`),
};

/**
 * Most elements a request body may hold: parsing costs about 10 microseconds an element on the event loop, so
 * 100,000 (a 1 MB body) held every other request for up to a second. A KIE request needs tens; request data of
 * thousands of keys stays well below.
 */
export const MAX_XML_ELEMENTS = 20_000;

/** Start tags: `<` and a name's first character (not a closing tag, comment, CDATA or processing instruction). */
const START_TAG = /<[A-Za-z_:]/g;

/** Parses a request body into its root element; refuses DOCTYPEs, malformed XML and several roots. */
export function parseXml(text: string): Element {
  const body = text.replace(/^\uFEFF/, ''); // a byte order mark is not part of the document
  if (body.trim() === '') throw new ValidationError('The request has no body');
  // Counted before any parsing (a count of start tags; a `<` in text or CDATA is escaped or counted too: a bound).
  let elements = 0;
  START_TAG.lastIndex = 0;
  while (START_TAG.exec(body) !== null) {
    if (++elements > MAX_XML_ELEMENTS) {
      throw new ValidationError(
        `The XML body has more than ${MAX_XML_ELEMENTS} elements: send large request data as JSON, or in parts`,
      );
    }
  }
  if (declaresEntities(body)) {
    throw new ValidationError('XML with a DOCTYPE is refused: kjobs never resolves DTDs or entities');
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    throw new ValidationError(
      `Malformed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  let raw: RawNode[];
  try {
    raw = parser.parse(body) as RawNode[];
  } catch (error) {
    throw new ValidationError(`Malformed XML: ${(error as Error).message}`);
  }
  const roots = raw
    .map((node) => toElement(node, new Map(), SERVER_TREE))
    .filter((node): node is Element => !!node);
  const [root] = roots;
  if (roots.length !== 1 || !root)
    throw new ValidationError('Malformed XML: a document has exactly one root element');
  return root;
}

const STRING_TYPES = new Set([
  'xs:string',
  'xs:normalizedString',
  'xs:token',
  'xs:anyURI',
  'xs:NCName',
  'xs:Name',
]);

/** A typed `<value>` (or list `<items>`) element as a stored data value. */
function readTypedValue(element: Element, where: string): unknown {
  if (xsiAttribute(element, 'nil')?.trim() === 'true') return null;
  const type = valueType(element);
  const content = element.text;
  const trimmed = content.trim();
  const bad = (expected: string) =>
    new ValidationError(`${where}: ${JSON.stringify(content)} is not ${expected} (xsi:type="${type}")`);
  if (type === undefined) {
    if (element.children.length > 0) {
      throw new ValidationError(
        `${where}: a value with child elements needs xsi:type="jaxbMap" or "jaxbList"`,
      );
    }
    return content; // JAXB would keep an untyped DOM node; its text is the useful part
  }
  if (STRING_TYPES.has(type)) return content;
  if (WHOLE_NUMBER_TYPES.has(type)) {
    const number = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
    if (!Number.isSafeInteger(number)) throw bad('a whole number');
    return number;
  }
  switch (type) {
    case 'xs:boolean':
      if (trimmed === 'true' || trimmed === '1') return true;
      if (trimmed === 'false' || trimmed === '0') return false;
      throw bad('a boolean (true or false)');
    case 'xs:double':
    case 'xs:float':
    case 'xs:decimal': {
      const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
      if (!Number.isFinite(number)) throw bad('a finite number');
      return number;
    }
    case 'xs:dateTime':
    case 'xs:date': {
      const ms = parseIsoMillis(trimmed);
      if (ms === undefined) throw bad('an xs:dateTime like 2018-10-20T10:16:51.326+02:00');
      return dateWrapper(ms);
    }
    case 'jaxbMap':
    case 'map-type':
      return readEntries(child(element, 'entries') ?? element, where);
    case 'jaxbList':
    case 'list-type': {
      const wrapper = child(element, 'items');
      const items = wrapper ? wrapper.children.filter((item) => item.name === 'items') : [];
      return items.map((item, index) => readTypedValue(item, `${where}[${index}]`));
    }
    default:
      throw new ValidationError(
        `${where}: unsupported xsi:type="${type}" (use xs:string, xs:int, xs:long, xs:boolean, xs:double, ` +
          'xs:dateTime, jaxbMap or jaxbList)',
      );
  }
}

/** The `<entry><key/><value/></entry>` children of a JAXB map element. */
function readEntries(element: Element, where: string): DataMap {
  const map: DataMap = {};
  for (const entry of element.children) {
    if (entry.name !== 'entry') continue;
    const key = child(entry, 'key');
    if (!key) throw new ValidationError(`${where}: every <entry> needs a <key>`);
    const value = child(entry, 'value');
    // defineProperty: a key such as __proto__ is data like any other.
    Object.defineProperty(map, key.text, {
      value: value ? readTypedValue(value, `${where}.${key.text}`) : null,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return map;
}

/** One `<job-request-instance>` element; `where` prefixes messages (e.g. `Job request 2: `). */
function jobRequestFromXml(root: Element, where = ''): JobRequestInstance {
  if (root.name !== 'job-request-instance') {
    throw new ValidationError(`${where}Expected a <job-request-instance> document, got <${root.name}>`);
  }
  const command = child(root, 'job-command')?.text.trim();
  if (!command) throw new ValidationError(`${where}job-command is required: the name of the command to run`);
  const dateElement = child(root, 'scheduled-date');
  let scheduledAt: number | null = null;
  if (dateElement && xsiAttribute(dateElement, 'nil')?.trim() !== 'true' && dateElement.text.trim() !== '') {
    const ms = parseIsoMillis(dateElement.text);
    if (ms === undefined) {
      throw new ValidationError(
        `${where}scheduled-date is not a valid xs:dateTime: ${JSON.stringify(dateElement.text)} (e.g. 2018-10-20T10:16:51.326+02:00)`,
      );
    }
    scheduledAt = ms;
  }
  const data = child(root, 'request-data', 'data');
  try {
    return { command, scheduledAt, data: data ? readEntries(data, data.name) : {} };
  } catch (error) {
    if (where && error instanceof ValidationError) throw new ValidationError(where + error.message);
    throw error;
  }
}

/** The schedule body: `<job-request-instance>` with `<job-command>`, `<scheduled-date>`, `<request-data>` (or `<data>`). */
export function readJobRequestXml(body: string): JobRequestInstance {
  return jobRequestFromXml(parseXml(body));
}

/**
 * The batch body (a kjobs extension): `<job-request-instance-list>` holding `<job-request-instance>` elements. A bad
 * item is refused naming its index, from 0.
 */
export function readJobRequestListXml(body: string): JobRequestInstance[] {
  const root = parseXml(body);
  if (root.name !== 'job-request-instance-list') {
    throw new ValidationError(
      `Expected a <job-request-instance-list> document of <job-request-instance> elements, got <${root.name}>`,
    );
  }
  return root.children.map((item, index) => jobRequestFromXml(item, `Job request ${index}: `));
}

/** The answer of a batch: the ids as KIE's JaxbList of longs, `<list-type><items><items xsi:type="xs:long">`. */
export function writeScheduledIdsXml(ids: readonly number[]): string {
  return document({
    name: 'list-type',
    children: [
      {
        name: 'items',
        children: ids.map((id) => ({
          name: 'items',
          attributes: `xsi:type="xs:long" ${TYPE_NAMESPACES}`,
          text: String(id),
        })),
      },
    ],
  });
}

/** The update-data body: `<map-type><entries><entry>...</entry></entries></map-type>`. */
export function readDataMapXml(body: string): DataMap {
  const root = parseXml(body);
  if (root.name !== 'map-type') {
    throw new ValidationError(`Expected a <map-type> document with <entries>, got <${root.name}>`);
  }
  return readEntries(child(root, 'entries') ?? root, 'map-type');
}
