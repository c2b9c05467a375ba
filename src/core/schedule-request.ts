import { ValidationError } from './errors.js';
import { cronOf, nextCronTime } from './cron.js';
import { dependsOnOf, onParentFailureOf } from './dependencies.js';
import { MESSAGE_READY, type DataMap, type NewJob } from './job.js';
import { parseRetryDelays, parseTimeExpression } from './time-expression.js';

/** A request to schedule one job (KIE's JobRequestInstance, plus the optional container). */
export interface ScheduleRequest {
  /** The command's name, e.g. `org.jbpm.executor.commands.PrintOutCommand`. */
  command: string;
  /** When the job is due; absent means now. */
  scheduledAt?: Date | number | null;
  /** Request data; special keys (businessKey, retries, retryDelay, priority, ...) steer the executor. */
  data?: DataMap | null;
  /** The container the command belongs to; stored as `deploymentId` in the data, as KIE does. */
  containerId?: string | null;
}

export interface ScheduleDefaults {
  /** Retries when the data names none (KIE: org.kie.executor.retry.count = 3). */
  retries: number;
  now: number;
}

export const DEFAULT_PRIORITY = 5;
export const MAX_PRIORITY = 9;
/** Dates kjobs accepts: years 1 to 9999, what every wire format (and Java's formatters) can write back. */
export const MIN_DATE_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
export const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** KIE reads `retries` as a Java Integer. */
export const MAX_RETRIES = 2_147_483_647;
/** The longest timer Node.js keeps (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/** Retry delays up to 100 years, so that the next due date stays a date. */
export const MAX_RETRY_DELAY_MS = 100 * 365 * 86_400_000;

/**
 * Turns a schedule request into the row a store inserts, reading KIE's special data keys.
 * Wrong types are refused with a ValidationError naming the key (KIE answers those with a 500).
 */
export function buildNewJob(request: ScheduleRequest, defaults: ScheduleDefaults): NewJob {
  if (typeof request.command !== 'string' || request.command.trim() === '') {
    throw new ValidationError('job-command is required: the name of the command to run');
  }
  checkIndexedLength('job-command', request.command);
  if (request.containerId) checkIndexedLength('containerId', request.containerId);
  if (request.data != null && (typeof request.data !== 'object' || Array.isArray(request.data))) {
    throw new ValidationError('request-data must be a map of names to values');
  }
  const data = normalizeRequestData(request.data ?? {});
  const containerId = request.containerId ? request.containerId : containerFromData(data);
  if (request.containerId) data.deploymentId = request.containerId;
  const businessKey = optionalString(data, 'businessKey');
  const unique = isUnique(data);
  if (unique && businessKey === null) {
    throw new ValidationError('unique jobs need a businessKey: it is what makes them unique');
  }
  const onDuplicate = onDuplicateOf(data);
  const debounceMs = debounceOf(data);
  const cron = cronOf(data);
  const noDate = request.scheduledAt === undefined || request.scheduledAt === null;
  // A cron job scheduled without a date waits for its first occurrence; a debounced one for its quiet time.
  const scheduledAt =
    cron && noDate
      ? nextCronTime(cron, defaults.now)
      : debounceMs !== null && noDate
        ? defaults.now + debounceMs
        : scheduledTime(request.scheduledAt, defaults.now);
  return {
    command: request.command,
    businessKey,
    containerId,
    processInstanceId: optionalInteger(data, 'processInstanceId'),
    owner: optionalString(data, 'owner'),
    priority: clampPriority(optionalInteger(data, 'priority') ?? DEFAULT_PRIORITY),
    retries: retriesOf(data, defaults.retries),
    scheduledAt,
    message: MESSAGE_READY,
    requestData: data,
    ...(unique ? { unique } : {}),
    createdAt: defaults.now,
    ...(onDuplicate ? { onDuplicate } : {}),
  };
}

/**
 * Checks the special keys of request data (the same rules when scheduling and when updating data), and answers a
 * copy with `retryDelay` in milliseconds, as it is stored. Wrong values are refused with a ValidationError naming
 * the key.
 */
export function normalizeRequestData(data: DataMap): DataMap {
  const normalized: DataMap = { ...data };
  if (normalized.retryDelay !== undefined && normalized.retryDelay !== null) {
    const delays = parseRetryDelays(normalized.retryDelay);
    normalized.retryDelay = delays;
    for (const delay of delays) {
      if (Math.abs(delay) > MAX_RETRY_DELAY_MS)
        throw new ValidationError(`retryDelay ${delay} ms is longer than 100 years`);
    }
  }
  timeoutOf(normalized);
  callbacksOf(normalized);
  isUnique(normalized);
  debounceOf(normalized);
  for (const key of ['businessKey', 'owner', 'deploymentId', 'DeploymentId']) optionalString(normalized, key);
  for (const key of ['processInstanceId', 'priority']) optionalInteger(normalized, key);
  if (normalized.retries !== undefined && normalized.retries !== null) retriesOf(normalized, 0);
  cronOf(normalized);
  dependsOnOf(normalized);
  onParentFailureOf(normalized);
  return normalized;
}

/** A per-job timeout from the `timeout` data key (`"30s"` or milliseconds), if any. */
export function timeoutOf(data: DataMap): number | undefined {
  const value = data.timeout;
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseTimeExpression(value) : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMEOUT_MS) {
    throw new ValidationError(
      `timeout must be a positive time expression like "30s", at most 24 days, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** Callback names from the comma-separated `callbacks` data key. */
export function callbacksOf(data: DataMap): string[] {
  const value = data.callbacks;
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string') {
    throw new ValidationError(
      `callbacks must be a comma-separated string of names, got ${JSON.stringify(value)}`,
    );
  }
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** Retry delays stored in the data (a list of milliseconds once scheduled). */
export function retryDelaysOf(data: DataMap): number[] {
  const value = data.retryDelay;
  if (value === undefined || value === null) return [];
  try {
    return parseRetryDelays(value);
  } catch {
    return [];
  }
}

/**
 * `unique: true` (or "true"), `"replace"` or `"debounce"` in the data: one active job per business key (true
 * refuses a second; replace and debounce update the waiting one instead, see onDuplicateOf).
 */
export function isUnique(data: DataMap): boolean {
  const value = data.unique;
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true' || value === 'replace' || value === 'debounce') return true;
  throw new ValidationError(
    `unique must be true, false, "replace" or "debounce", got ${JSON.stringify(value)}`,
  );
}

/**
 * What a unique job does when a job with its business key waits (QUEUED or RETRYING): `replace` its data, or
 * `debounce` (replace its data and move its start to now + `debounce`); undefined: refused (409).
 */
export function onDuplicateOf(data: DataMap): 'replace' | 'debounce' | undefined {
  isUnique(data);
  return data.unique === 'replace' || data.unique === 'debounce' ? data.unique : undefined;
}

/** `debounce` (a time expression > 0) with `unique: "debounce"`, and only then; null when absent. */
export function debounceOf(data: DataMap): number | null {
  const value = data.debounce;
  const debounced = data.unique === 'debounce';
  if (value === undefined || value === null) {
    if (debounced)
      throw new ValidationError('unique "debounce" needs debounce, a time expression such as 5s');
    return null;
  }
  if (!debounced) throw new ValidationError('debounce needs unique "debounce"');
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseTimeExpression(value) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_RETRY_DELAY_MS) {
    throw new ValidationError(`debounce must be a time expression such as 5s, got ${JSON.stringify(value)}`);
  }
  return ms;
}

export function clampPriority(priority: number): number {
  return Math.min(MAX_PRIORITY, Math.max(0, priority));
}

function containerFromData(data: DataMap): string | null {
  // KIE 7.8+ checks DeploymentId first.
  return optionalString(data, 'DeploymentId') ?? optionalString(data, 'deploymentId');
}

function scheduledTime(value: ScheduleRequest['scheduledAt'], now: number): number {
  if (value === undefined || value === null) return now;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new ValidationError('scheduled-date is not a valid date');
  }
  if (ms < MIN_DATE_MS || ms > MAX_DATE_MS) {
    throw new ValidationError(
      `scheduled-date ${ms} is out of range: give a date from year 1 to 9999 (milliseconds from ` +
        `${MIN_DATE_MS} to ${MAX_DATE_MS})`,
    );
  }
  return ms;
}

function retriesOf(data: DataMap, fallback: number): number {
  const value = data.retries;
  if (value === undefined || value === null) return fallback;
  const retries = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new ValidationError(
      `retries must be a whole number from 0 to ${MAX_RETRIES}, got ${JSON.stringify(value)}`,
    );
  }
  return retries;
}

/** The strings kjobs indexes (business key, owner, container): at most this long, as KIE's columns. */
export const MAX_INDEXED_STRING = 255;

function optionalString(data: DataMap, key: string): string | null {
  const value = data[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new ValidationError(`${key} must be a string, got ${JSON.stringify(value)}`);
  }
  checkIndexedLength(key, value);
  return value;
}

/** Refuses a string longer than KIE's column for it (255 characters). */
function checkIndexedLength(name: string, value: string): void {
  if (value.length > MAX_INDEXED_STRING) {
    throw new ValidationError(
      `${name} is ${value.length} characters long, more than the ${MAX_INDEXED_STRING} KIE's column holds`,
    );
  }
}

function optionalInteger(data: DataMap, key: string): number | null {
  const value = data[key];
  if (value === undefined || value === null) return null;
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new ValidationError(`${key} must be a whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}
