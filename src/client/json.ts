/** KIE's JSON (Jackson as KIE Server configures it), read and written for the client's models. */
import { DATE_WRAPPER_KEY, isDateWrapper, readDate, writeJsonDate } from './dates.js';
import type {
  DataMap,
  DataValue,
  ErrorInfoInstance,
  JobRequestInstance,
  JobStatus,
  KieContainerResource,
  KieMessage,
  ReleaseId,
  RequestInfoInstance,
  RequestInfoInstanceList,
} from './models.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setKey(map: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty: a key such as __proto__ is data like any other.
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** A data value as KIE's JSON: dates as `{"java.util.Date": ms}`, the rest as is. */
function jsonValue(value: DataValue | undefined): unknown {
  if (value instanceof Date) return writeJsonDate(value);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) setKey(out, key, jsonValue(item));
    }
    return out;
  }
  return value;
}

/** The schedule body: `{"job-command": ..., "scheduled-date": ..., "request-data": {...}}`. */
export function writeJobRequestJson(request: JobRequestInstance): string {
  return JSON.stringify({
    'job-command': request.jobCommand,
    'scheduled-date': request.scheduledDate ? writeJsonDate(request.scheduledDate) : null,
    'request-data': jsonValue(request.requestData ?? {}),
  });
}

/** The batch body (kjobs extension): an array of JobRequestInstance objects. */
export function writeJobRequestListJson(batch: readonly JobRequestInstance[]): string {
  return `[${batch.map(writeJobRequestJson).join(',')}]`;
}

/** The update-data body: a JSON object. */
export function writeDataMapJson(data: DataMap): string {
  return JSON.stringify(jsonValue(data));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** A data value from KIE's JSON: `{"java.util.Date": ...}` becomes a Date; other wrappers stay maps. */
function dataValue(value: unknown): DataValue {
  if (Array.isArray(value)) return value.map(dataValue);
  if (isObject(value)) {
    if (isDateWrapper(value)) {
      const date = readDate(value[DATE_WRAPPER_KEY], 'a date in the data');
      if (date) return date;
    }
    const out: Record<string, DataValue> = {};
    for (const [key, item] of Object.entries(value)) setKey(out, key, dataValue(item));
    return out;
  }
  return value as DataValue;
}

function dataMap(value: unknown, field: string): DataMap | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw new TypeError(`${field} is not a map`);
  return dataValue(value) as DataMap;
}

function num(object: JsonObject, key: string): number {
  const value = object[key];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  throw new TypeError(`${key} is not a number: ${JSON.stringify(value)}`);
}

function str(object: JsonObject, key: string): string | null {
  const value = object[key];
  if (value === null || value === undefined) return null;
  return String(value);
}

function errorInfo(value: unknown): ErrorInfoInstance {
  if (!isObject(value)) throw new TypeError('error-info-instance is not an object');
  return {
    errorInstanceId: num(value, 'error-instance-id'),
    requestInstanceId: num(value, 'request-instance-id'),
    errorMessage: str(value, 'error-message'),
    errorStacktrace: str(value, 'error-stacktrace'),
    errorDate: readDate(value['error-date'], 'error-date') ?? new Date(Number.NaN),
  };
}

/** A RequestInfoInstance object (keys as KIE writes them). */
export function requestInfoFromJson(value: unknown): RequestInfoInstance {
  if (!isObject(value)) throw new TypeError('request-info-instance is not an object');
  const errors = value['request-errors'];
  let requestErrors: RequestInfoInstance['requestErrors'] = null;
  if (isObject(errors)) {
    const items = errors['error-info-instance'];
    // Jackson may write a single error without its array (ACCEPT_SINGLE_VALUE_AS_ARRAY's mirror image).
    const list = Array.isArray(items) ? items : items === null || items === undefined ? [] : [items];
    requestErrors = { errorInfoInstance: list.map(errorInfo) };
  }
  return {
    requestInstanceId: num(value, 'request-instance-id'),
    requestStatus: str(value, 'request-status') as JobStatus,
    requestBusinessKey: str(value, 'request-business-key'),
    requestMessage: str(value, 'request-message'),
    requestRetries: num(value, 'request-retries'),
    requestExecutions: num(value, 'request-executions'),
    requestCommand: str(value, 'request-command') ?? '',
    requestScheduledDate: readDate(value['request-scheduled-date'], 'request-scheduled-date'),
    requestData: dataMap(value['request-data'], 'request-data'),
    responseData: dataMap(value['response-data'], 'response-data'),
    requestErrors,
    requestContainerId: str(value, 'request-container-id'),
  };
}

/** A RequestInfoInstanceList: `{"request-info-instance": [...]}`. */
export function requestInfoListFromJson(value: unknown): RequestInfoInstanceList {
  if (!isObject(value)) throw new TypeError('request-info-instance-list is not an object');
  const items = value['request-info-instance'];
  const list = Array.isArray(items) ? items : items === null || items === undefined ? [] : [items];
  return { requestInfoInstance: list.map(requestInfoFromJson) };
}

/** The answer of a batch (kjobs extension): the ids as an array. */
export function scheduledIdsFromJson(value: unknown): number[] {
  if (!Array.isArray(value))
    throw new TypeError(`the answer is not a list of job ids: ${JSON.stringify(value)}`);
  return value.map((id) => scheduledIdFromJson(id));
}

/** The answer of schedule: the bare id (`123`), or `{"value": 123}` (KIE's strict mode). */
export function scheduledIdFromJson(value: unknown): number {
  const id = isObject(value) ? value.value : value;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && /^\d+$/.test(id.trim())) return Number(id);
  throw new TypeError(`the answer is not a job id: ${JSON.stringify(value)}`);
}

/** A list as Jackson may write it: an array, a single value without its array, or nothing. */
function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
}

function messageFromJson(value: unknown): KieMessage {
  if (!isObject(value)) throw new TypeError('a message is not an object');
  return {
    severity: str(value, 'severity') ?? '',
    timestamp: readDate(value.timestamp, 'timestamp'),
    content: listOf(value.content).map(String),
  };
}

function releaseIdFromJson(value: unknown): ReleaseId | null {
  if (!isObject(value)) return null;
  return {
    groupId: str(value, 'group-id'),
    artifactId: str(value, 'artifact-id'),
    version: str(value, 'version'),
  };
}

function containerFromJson(value: unknown): KieContainerResource {
  if (!isObject(value)) throw new TypeError('kie-container is not an object');
  const containerId = str(value, 'container-id');
  if (containerId === null) throw new TypeError('kie-container has no container-id');
  return {
    containerId,
    status: str(value, 'status') ?? '',
    containerAlias: str(value, 'container-alias'),
    releaseId: releaseIdFromJson(value['release-id']),
    messages: listOf(value.messages).map(messageFromJson),
    commands: listOf(value.commands).map(String),
  };
}

/** The result of a ServiceResponse (`{"type": "SUCCESS", "msg": ..., "result": {...}}`); a FAILURE throws its msg. */
function serviceResult(value: unknown): JsonObject {
  if (!isObject(value)) throw new TypeError('the answer is not a ServiceResponse');
  if (value.type !== 'SUCCESS')
    throw new TypeError(`the server answered ${String(value.type)}: ${String(value.msg)}`);
  if (!isObject(value.result)) throw new TypeError('the ServiceResponse has no result');
  return value.result;
}

/** `GET /server/containers`: the KieContainerResourceList of a ServiceResponse. */
export function containerListFromJson(value: unknown): KieContainerResource[] {
  const list = serviceResult(value)['kie-containers'];
  if (!isObject(list)) throw new TypeError('the ServiceResponse holds no kie-containers');
  return listOf(list['kie-container']).map(containerFromJson);
}

/** `GET /server/containers/{id}`: the KieContainerResource of a ServiceResponse. */
export function containerFromServiceJson(value: unknown): KieContainerResource {
  return containerFromJson(serviceResult(value)['kie-container']);
}
