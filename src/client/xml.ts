/**
 * KIE's XML (JAXB), read and written for the client's models. Maps are JAXB maps whose values carry their type
 * (`<entry><key>retries</key><value xsi:type="xs:int">3</value></entry>`); nested maps and lists take the form of
 * KIE's Java client (`xsi:type="jaxbMap"` with `<entries>`, `xsi:type="jaxbList"` with `<items>`).
 *
 * Reading never resolves entities beyond XML's five and character references, and refuses a DOCTYPE.
 */
import { XMLParser } from 'fast-xml-parser';
import {
  child,
  declaresEntities,
  decodeReferences,
  escapeXmlText,
  toElement,
  valueType,
  WHOLE_NUMBER_TYPES,
  xmlDouble,
  xmlNumberType,
  XML_HEADER,
  XML_PARSER_OPTIONS,
  xsiAttribute,
  XS,
  XSI,
  type RawNode,
  type TreeRules,
  type XmlElement,
} from '../kie/xml.js';
import { parseIsoDate, writeXmlDate } from './dates.js';
import type {
  DataMap,
  DataValue,
  ErrorInfoInstance,
  JobRequestInstance,
  JobStatus,
  RequestInfoInstance,
  KieContainerResource,
  KieMessage,
  RequestInfoInstanceList,
} from './models.js';

export type { XmlElement } from '../kie/xml.js';

const NAMESPACES = `xmlns:xs="${XS}" xmlns:xsi="${XSI}"`;

// ---------------------------------------------------------------------------------------------------------------
// Writing

function element(name: string, content: string, attributes = ''): string {
  return `<${name}${attributes ? ' ' + attributes : ''}>${content}</${name}>`;
}

/** A typed value element (`value` in an entry, `items` in a list); empty string for undefined. */
function typedValue(name: string, value: DataValue | undefined): string {
  const typed = (type: string, text: string) =>
    element(name, escapeXmlText(text), `xsi:type="${type}" ${NAMESPACES}`);
  if (value === undefined) return '';
  if (value === null) return `<${name} xsi:nil="true" xmlns:xsi="${XSI}"/>`;
  if (value instanceof Date) return typed('xs:dateTime', writeXmlDate(value));
  switch (typeof value) {
    case 'string':
      return typed('xs:string', value);
    case 'boolean':
      return typed('xs:boolean', String(value));
    case 'number':
      return xmlNumberType(value) === 'xs:double'
        ? typed('xs:double', xmlDouble(value))
        : typed(xmlNumberType(value), String(value));
    default:
      break;
  }
  if (Array.isArray(value)) {
    return element(
      name,
      element('items', value.map((item) => typedValue('items', item)).join('')),
      `xsi:type="jaxbList" ${NAMESPACES}`,
    );
  }
  return element(name, element('entries', entries(value)), `xsi:type="jaxbMap" ${NAMESPACES}`);
}

/** The `<entry>` elements of a map; a null value is an entry without `<value>`, as JAXB writes it. */
function entries(map: DataMap): string {
  return Object.entries(map)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) =>
      element(
        'entry',
        element('key', escapeXmlText(key)) + (value === null ? '' : typedValue('value', value)),
      ),
    )
    .join('');
}

function jobRequestElement(request: JobRequestInstance): string {
  const date = request.scheduledDate ? element('scheduled-date', writeXmlDate(request.scheduledDate)) : '';
  return element(
    'job-request-instance',
    element('job-command', escapeXmlText(request.jobCommand)) +
      date +
      element('request-data', entries(request.requestData ?? {})),
  );
}

/** The schedule body: `<job-request-instance>`. */
export function writeJobRequestXml(request: JobRequestInstance): string {
  return XML_HEADER + jobRequestElement(request);
}

/** The batch body (kjobs extension): `<job-request-instance-list>` of `<job-request-instance>`. */
export function writeJobRequestListXml(batch: readonly JobRequestInstance[]): string {
  return XML_HEADER + element('job-request-instance-list', batch.map(jobRequestElement).join(''));
}

/** The update-data body: `<map-type><entries>...</entries></map-type>`. */
export function writeDataMapXml(data: DataMap): string {
  return XML_HEADER + element('map-type', element('entries', entries(data)));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

const parser = new XMLParser(XML_PARSER_OPTIONS);

const CLIENT_TREE: TreeRules = {
  decode: (raw) => decodeReferences(raw),
  maxDepth: 500,
  tooDeep: () => new TypeError('XML elements nest too deep'),
};

/** Parses a document into its root element; refuses a DOCTYPE (entities are never resolved). */
export function parseXml(text: string): XmlElement {
  const body = text.replace(/^\uFEFF/, '');
  if (declaresEntities(body)) {
    throw new TypeError('XML with a DOCTYPE is refused: entities are never resolved');
  }
  const roots = (parser.parse(body) as RawNode[])
    .map((node) => toElement(node, new Map(), CLIENT_TREE))
    .filter((node): node is XmlElement => node !== undefined);
  const [root] = roots;
  if (!root || roots.length !== 1) throw new TypeError('XML document without a single root element');
  return root;
}

/** A typed `<value>` (or list `<items>`) element. Unknown types keep their text. */
function readValue(node: XmlElement): DataValue {
  if (xsiAttribute(node, 'nil')?.trim() === 'true') return null;
  const type = valueType(node);
  const trimmed = node.text.trim();
  if (type === undefined) {
    return node.children.length > 0 ? readEntries(child(node, 'entries') ?? node) : node.text;
  }
  if (WHOLE_NUMBER_TYPES.has(type)) return Number(trimmed);
  switch (type) {
    case 'xs:boolean':
      return trimmed === 'true' || trimmed === '1';
    case 'xs:double':
    case 'xs:float':
    case 'xs:decimal':
      return trimmed === 'INF' ? Infinity : trimmed === '-INF' ? -Infinity : Number(trimmed);
    case 'xs:dateTime':
    case 'xs:date':
      return parseIsoDate(trimmed) ?? node.text;
    case 'jaxbMap':
    case 'map-type':
      return readEntries(child(node, 'entries') ?? node);
    case 'jaxbList':
    case 'list-type': {
      const wrapper = child(node, 'items');
      return (wrapper?.children ?? []).filter((item) => item.name === 'items').map(readValue);
    }
    default:
      return node.children.length > 0 ? readEntries(child(node, 'entries') ?? node) : node.text;
  }
}

/** The `<entry><key/><value/></entry>` children of a JAXB map element. */
export function readEntries(node: XmlElement): DataMap {
  const map: DataMap = {};
  for (const entry of node.children) {
    if (entry.name !== 'entry') continue;
    const key = child(entry, 'key');
    if (!key) continue;
    const value = child(entry, 'value');
    Object.defineProperty(map, key.text, {
      value: value ? readValue(value) : null,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return map;
}

function textOf(parent: XmlElement, name: string): string | null {
  const found = child(parent, name);
  return found ? found.text : null;
}

function numberOf(parent: XmlElement, name: string): number {
  const text = textOf(parent, name);
  const value = text === null ? Number.NaN : Number(text.trim());
  if (!Number.isFinite(value)) throw new TypeError(`<${name}> is not a number: ${JSON.stringify(text)}`);
  return value;
}

function dateOf(parent: XmlElement, name: string): Date | null {
  const text = textOf(parent, name);
  if (text === null || text.trim() === '') return null;
  const date = parseIsoDate(text);
  if (!date) throw new TypeError(`<${name}> is not an xs:dateTime: ${JSON.stringify(text)}`);
  return date;
}

function errorInfoFromXml(node: XmlElement): ErrorInfoInstance {
  return {
    errorInstanceId: numberOf(node, 'error-instance-id'),
    requestInstanceId: numberOf(node, 'request-instance-id'),
    errorMessage: textOf(node, 'error-message'),
    errorStacktrace: textOf(node, 'error-stacktrace'),
    errorDate: dateOf(node, 'error-date') ?? new Date(Number.NaN),
  };
}

function expectRoot(node: XmlElement, name: string): void {
  if (node.name !== name) throw new TypeError(`expected <${name}>, got <${node.name}>`);
}

/** A `<request-info-instance>` element. */
export function requestInfoFromXml(node: XmlElement): RequestInfoInstance {
  expectRoot(node, 'request-info-instance');
  const data = child(node, 'request-data', 'data');
  const response = child(node, 'response-data');
  const errors = child(node, 'request-errors');
  return {
    requestInstanceId: numberOf(node, 'request-instance-id'),
    requestStatus: (textOf(node, 'request-status') ?? '').trim() as JobStatus,
    requestBusinessKey: textOf(node, 'request-business-key'),
    requestMessage: textOf(node, 'request-message'),
    requestRetries: numberOf(node, 'request-retries'),
    requestExecutions: numberOf(node, 'request-executions'),
    requestCommand: textOf(node, 'request-command') ?? '',
    requestScheduledDate: dateOf(node, 'request-scheduled-date'),
    requestData: data ? readEntries(data) : null,
    responseData: response ? readEntries(response) : null,
    requestErrors: errors
      ? {
          errorInfoInstance: errors.children
            .filter((item) => item.name === 'error-info-instance')
            .map(errorInfoFromXml),
        }
      : null,
    requestContainerId: textOf(node, 'request-container-id'),
  };
}

/** A `<request-info-instance-list>` document's root. */
export function requestInfoListFromXml(node: XmlElement): RequestInfoInstanceList {
  expectRoot(node, 'request-info-instance-list');
  return {
    requestInfoInstance: node.children
      .filter((item) => item.name === 'request-info-instance')
      .map(requestInfoFromXml),
  };
}

/** The answer of a batch (kjobs extension): KIE's `<list-type><items><items>1</items>...</items></list-type>`. */
export function scheduledIdsFromXml(node: XmlElement): number[] {
  const wrapper =
    node.name === 'list-type' ? node.children.find((child) => child.name === 'items') : undefined;
  if (!wrapper) throw new TypeError(`the answer is not a list of job ids: <${node.name}>`);
  return wrapper.children
    .filter((item) => item.name === 'items')
    .map((item) => {
      const text = item.text.trim();
      const id = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(id)) throw new TypeError(`the answer holds a bad job id: ${item.text}`);
      return id;
    });
}

/** The answer of schedule: `<long-type><value>123</value></long-type>`. */
export function scheduledIdFromXml(node: XmlElement): number {
  const text = node.name === 'long-type' ? textOf(node, 'value') : node.text;
  const id = text === null ? Number.NaN : Number(text.trim());
  if (!Number.isSafeInteger(id)) throw new TypeError(`the answer is not a job id: <${node.name}>`);
  return id;
}

function messageFromXml(node: XmlElement): KieMessage {
  return {
    severity: (textOf(node, 'severity') ?? '').trim(),
    timestamp: dateOf(node, 'timestamp'),
    content: node.children.filter((item) => item.name === 'content').map((item) => item.text),
  };
}

function containerFromXml(node: XmlElement): KieContainerResource {
  expectRoot(node, 'kie-container');
  const containerId = node.attributes['container-id'];
  if (containerId === undefined) throw new TypeError('<kie-container> has no container-id');
  const release = child(node, 'release-id');
  return {
    containerId,
    status: node.attributes.status ?? '',
    containerAlias: node.attributes['container-alias'] ?? null,
    releaseId: release
      ? {
          groupId: textOf(release, 'group-id'),
          artifactId: textOf(release, 'artifact-id'),
          version: textOf(release, 'version'),
        }
      : null,
    messages: node.children.filter((item) => item.name === 'messages').map(messageFromXml),
    commands: node.children.filter((item) => item.name === 'commands').map((item) => item.text),
  };
}

/** A `<response type="SUCCESS">` ServiceResponse; a FAILURE throws its msg. */
function expectSuccess(node: XmlElement): void {
  expectRoot(node, 'response');
  if (node.attributes.type !== 'SUCCESS') {
    throw new TypeError(
      `the server answered ${String(node.attributes.type)}: ${String(node.attributes.msg)}`,
    );
  }
}

/** `GET /server/containers`: `<response><kie-containers><kie-container .../>...`. */
export function containerListFromXml(node: XmlElement): KieContainerResource[] {
  expectSuccess(node);
  const list = child(node, 'kie-containers');
  if (!list) throw new TypeError('the ServiceResponse holds no <kie-containers>');
  return list.children.filter((item) => item.name === 'kie-container').map(containerFromXml);
}

/** `GET /server/containers/{id}`: `<response><kie-container .../></response>`. */
export function containerFromServiceXml(node: XmlElement): KieContainerResource {
  expectSuccess(node);
  const container = child(node, 'kie-container');
  if (!container) throw new TypeError('the ServiceResponse holds no <kie-container>');
  return containerFromXml(container);
}
