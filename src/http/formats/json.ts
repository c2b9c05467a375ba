/**
 * KIE's JSON, as its Jackson configuration writes and reads it: hyphenated keys in the model's field order,
 * nulls written, dates as `{"java.util.Date": ms}` (or ISO-8601 strings when configured), pretty-printed the way
 * Jackson's default pretty printer does (`" : "`, two-space indent, arrays inline).
 */
import { ValidationError, type DataMap } from '../../core/index.js';
import { DATE_WRAPPER_KEY, dateWrapper, formatIsoDate, isDateWrapper, parseIsoMillis } from './dates.js';
import type {
  JobRequestInstance,
  KieContainerResource,
  KieMessage,
  KieServerInfo,
  RequestInfoInstance,
  WriteOptions,
} from './model.js';

export const JSON_MEDIA_TYPE = 'application/json';

/** Class-name wrappers accepted around a scheduled date on input. */
const DATE_CLASS_KEYS = new Set([
  DATE_WRAPPER_KEY,
  'Date',
  'java.sql.Timestamp',
  'java.time.LocalDateTime',
  'java.time.OffsetDateTime',
  'java.time.ZonedDateTime',
]);

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** Indentation by depth, made once: answers are written on every request. */
const INDENTS = Array.from({ length: 16 }, (_, depth) => '  '.repeat(depth));
const indent = (depth: number) => INDENTS[depth] ?? '  '.repeat(depth);

/** Pretty-prints a JSON value as Jackson's DefaultPrettyPrinter does. */
export function prettyJson(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Array.isArray(value)) {
    // Arrays stay on one line and do not add a level of indentation (Jackson's FixedSpaceIndenter).
    if (value.length === 0) return '[ ]';
    let text = '[ ';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ', ';
      text += prettyJson(value[index], depth);
    }
    return text + ' ]';
  }
  const object = value as Record<string, unknown>;
  const inner = indent(depth + 1);
  let text = '';
  for (const key of Object.keys(object)) {
    const item = object[key];
    if (item === undefined) continue;
    text += `${text === '' ? '{\n' : ',\n'}${inner}${JSON.stringify(key)} : ${prettyJson(item, depth + 1)}`;
  }
  return text === '' ? '{ }' : `${text}\n${indent(depth)}}`;
}

function jsonDate(ms: number, options: WriteOptions): unknown {
  return options.jsonDates === 'iso' ? formatIsoDate(ms) : dateWrapper(ms);
}

/** A data value for output: stored date wrappers become ISO strings in ISO mode; the rest is written as stored. */
function jsonDataValue(value: unknown, options: WriteOptions): unknown {
  if (options.jsonDates !== 'iso' || typeof value !== 'object' || value === null) return value;
  if (isDateWrapper(value)) return formatIsoDate(value[DATE_WRAPPER_KEY]);
  if (Array.isArray(value)) return value.map((item) => jsonDataValue(item, options));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonDataValue(item, options)]));
}

function jsonDataMap(map: DataMap | null, options: WriteOptions): unknown {
  return map === null ? null : jsonDataValue(map, options);
}

/** Drops null fields when the client asked for `fields=not_null`. */
function fields(object: Record<string, unknown>, options: WriteOptions): Record<string, unknown> {
  if (!options.omitNulls) return object;
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null));
}

/** RequestInfoInstance as a plain object in KIE's key order. */
function requestInfoObject(info: RequestInfoInstance, options: WriteOptions): Record<string, unknown> {
  return fields(
    {
      'request-instance-id': info.id,
      'request-status': info.status,
      'request-business-key': info.businessKey,
      'request-message': info.message,
      'request-retries': info.retries,
      'request-executions': info.executions,
      'request-command': info.command,
      'request-scheduled-date': jsonDate(info.scheduledDate, options),
      'request-data': jsonDataMap(info.requestData, options),
      'response-data': jsonDataMap(info.responseData, options),
      'request-errors':
        info.errors === null
          ? null
          : {
              'error-info-instance': info.errors.map((error) =>
                fields(
                  {
                    'error-instance-id': error.id,
                    'request-instance-id': error.requestId,
                    'error-message': error.message,
                    'error-stacktrace': error.stacktrace,
                    'error-date': jsonDate(error.date, options),
                  },
                  options,
                ),
              ),
            },
      'request-container-id': info.containerId,
    },
    options,
  );
}

/** The answer of schedule: the bare id (`123`), or `{"value": 123}` in KIE's strict mode. */
export function writeScheduledIdJson(id: number, options: WriteOptions): string {
  return options.strict ? prettyJson({ value: id }) : String(id);
}

export function writeRequestInfoJson(info: RequestInfoInstance, options: WriteOptions): string {
  return prettyJson(requestInfoObject(info, options));
}

export function writeRequestInfoListJson(
  list: readonly RequestInfoInstance[],
  options: WriteOptions,
): string {
  return prettyJson({ 'request-info-instance': list.map((info) => requestInfoObject(info, options)) });
}

/**
 * The same document as writeRequestInfoListJson, written `chunk` jobs at a time with `pause()` awaited between
 * chunks, so that a page of thousands of jobs does not hold the event loop (and every other request) at once.
 */
export async function writeRequestInfoListJsonInChunks(
  list: readonly RequestInfoInstance[],
  options: WriteOptions,
  pause: () => Promise<void>,
  chunk = 100,
): Promise<string> {
  if (list.length <= chunk) return writeRequestInfoListJson(list, options);
  const parts: string[] = [];
  for (let i = 0; i < list.length; i += chunk) {
    if (i > 0) await pause();
    // Items of the array at depth 1: arrays add no indentation (see prettyJson).
    parts.push(
      list
        .slice(i, i + chunk)
        .map((info) => prettyJson(requestInfoObject(info, options), 1))
        .join(', '),
    );
  }
  return `{\n  "request-info-instance" : [ ${parts.join(', ')} ]\n}`;
}

function messageObject(message: KieMessage, options: WriteOptions): Record<string, unknown> {
  return {
    severity: message.severity,
    timestamp: jsonDate(message.timestamp, options),
    content: message.content,
  };
}

/** `GET /server`: a ServiceResponse holding the KieServerInfo. */
export function writeServerInfoJson(info: KieServerInfo, options: WriteOptions): string {
  return prettyJson({
    type: 'SUCCESS',
    msg: 'Kie Server info',
    result: {
      'kie-server-info': {
        id: info.id,
        version: info.version,
        name: info.name,
        location: info.location,
        capabilities: info.capabilities,
        messages: info.messages.map((message) => messageObject(message, options)),
        mode: info.mode,
      },
    },
  });
}

/** `GET /server/healthcheck?report=true`: the bare list of messages, as Jackson writes a `List<Message>`. */
export function writeMessagesJson(messages: readonly KieMessage[], options: WriteOptions): string {
  return prettyJson(messages.map((message) => messageObject(message, options)));
}

/** KieContainerResource in its field order; KIE's null fields (release ids, scanner) as Jackson writes them. */
function containerObject(container: KieContainerResource, options: WriteOptions): Record<string, unknown> {
  return fields(
    {
      'container-id': container.containerId,
      'release-id': null,
      'resolved-release-id': null,
      status: container.status,
      scanner: null,
      'config-items': [],
      messages: container.messages.map((message) => messageObject(message, options)),
      'container-alias': container.containerId,
      // kjobs extension: the commands the container offers (KIE clients ignore unknown fields).
      commands: container.commands,
    },
    options,
  );
}

/** `GET /server/containers`: a ServiceResponse holding the KieContainerResourceList. */
export function writeContainerListJson(
  containers: readonly KieContainerResource[],
  options: WriteOptions,
): string {
  return prettyJson({
    type: 'SUCCESS',
    msg: 'List of created containers',
    result: { 'kie-containers': { 'kie-container': containers.map((c) => containerObject(c, options)) } },
  });
}

/** `GET /server/containers/{id}`: a ServiceResponse holding the KieContainerResource. */
export function writeContainerJson(container: KieContainerResource, options: WriteOptions): string {
  return prettyJson({
    type: 'SUCCESS',
    msg: `Info for container ${container.containerId}`,
    result: { 'kie-container': containerObject(container, options) },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

function parseJson(raw: string, what: string): unknown {
  const text = raw.replace(/^\uFEFF/, ''); // a byte order mark is not part of the document
  if (text.trim() === '') throw new ValidationError(`The request has no body: send ${what}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Malformed JSON body: ${(error as Error).message}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A date as KIE clients send it: `{"java.util.Date": ms | "ISO"}` (or another date class name), epoch
 * milliseconds, or an ISO-8601 string. Answers epoch milliseconds; null for null.
 */
export function readJsonDate(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  let inner: unknown = value;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || !DATE_CLASS_KEYS.has(keys[0] as string)) {
      throw new ValidationError(
        `${field} must be a date: {"java.util.Date": <epoch ms>}, epoch milliseconds or an ISO-8601 string`,
      );
    }
    inner = value[keys[0] as string];
  }
  if (typeof inner === 'number' && Number.isSafeInteger(inner)) return inner;
  if (typeof inner === 'string') {
    if (/^-?\d+$/.test(inner.trim())) {
      const ms = Number(inner);
      if (Number.isSafeInteger(ms)) return ms;
    }
    const ms = parseIsoMillis(inner);
    if (ms !== undefined) return ms;
  }
  throw new ValidationError(
    `${field} is not a valid date: ${JSON.stringify(value)} (use {"java.util.Date": <epoch ms>}, epoch ` +
      'milliseconds or ISO-8601 like 2018-10-20T10:16:51.326+02:00)',
  );
}

/** How deep data may nest; deeper documents are refused rather than risking the stack. */
const MAX_DATA_DEPTH = 100;

/** Data values: date wrappers holding an ISO string are stored with epoch milliseconds, like every stored date. */
function normalizeDataValue(value: unknown, path: string, depth = 0): unknown {
  if (depth > MAX_DATA_DEPTH) {
    throw new ValidationError(`Data nests deeper than ${MAX_DATA_DEPTH} levels`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new ValidationError(`${path}: ${value} cannot be stored (numbers must be finite)`);
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => normalizeDataValue(item, `${path}[${index}]`, depth + 1));
  }
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === DATE_WRAPPER_KEY) {
    return dateWrapper(readJsonDate(value, path) as number);
  }
  return Object.fromEntries(
    keys.map((key) => [key, normalizeDataValue(value[key], `${path}.${key}`, depth + 1)]),
  );
}

function readDataMap(value: unknown, field: string): DataMap {
  if (!isPlainObject(value)) {
    throw new ValidationError(`${field} must be a JSON object mapping names to values`);
  }
  return normalizeDataValue(value, field) as DataMap;
}

/** One JobRequestInstance object; `where` prefixes messages (e.g. `Job request 2: `). */
function jobRequestFromJson(body: unknown, where = ''): JobRequestInstance {
  if (!isPlainObject(body)) {
    throw new ValidationError(
      `${where}The body must be a JSON object (a JobRequestInstance with "job-command")`,
    );
  }
  const command = body['job-command'];
  if (typeof command !== 'string' || command.trim() === '') {
    throw new ValidationError(`${where}job-command is required: the name of the command to run`);
  }
  const data = body['request-data'];
  try {
    return {
      command,
      scheduledAt: readJsonDate(body['scheduled-date'], 'scheduled-date'),
      data: data === null || data === undefined ? {} : readDataMap(data, 'request-data'),
    };
  } catch (error) {
    if (where && error instanceof ValidationError) throw new ValidationError(where + error.message);
    throw error;
  }
}

/** The schedule body: `{"job-command": ..., "scheduled-date": ..., "request-data": {...}}`; other keys are ignored. */
export function readJobRequestJson(text: string): JobRequestInstance {
  return jobRequestFromJson(parseJson(text, 'a JobRequestInstance'));
}

/**
 * The batch body (a kjobs extension): an array of JobRequestInstance objects, or `{"job-request-instance": [...]}`
 * (the list as KIE names its items). A bad item is refused naming its index, from 0.
 */
export function readJobRequestListJson(text: string): JobRequestInstance[] {
  const body = parseJson(text, 'a list of JobRequestInstance objects');
  const items = isPlainObject(body) ? body['job-request-instance'] : body;
  if (!Array.isArray(items)) {
    throw new ValidationError(
      'The body must be a JSON array of JobRequestInstance objects, or {"job-request-instance": [...]}',
    );
  }
  return items.map((item, index) => jobRequestFromJson(item, `Job request ${index}: `));
}

/** The answer of a batch: the ids as a JSON array (`[ 1, 2, 3 ]`). */
export function writeScheduledIdsJson(ids: readonly number[]): string {
  return prettyJson(ids);
}

/** The update-data body: a JSON object. */
export function readDataMapJson(text: string): DataMap {
  return readDataMap(parseJson(text, 'a JSON object of data to merge'), 'data');
}
