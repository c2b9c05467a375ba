/**
 * The keys of request data that steer a job, once, as config/settings.ts is for settings: each key's reader
 * (checks a value and answers it as stored), whether it is KIE's or a kjobs extension, whether update-data may
 * change it, and what it means. Scheduling and update-data check request data through it (normalizeRequestData);
 * the runner, the next occurrence of a recurring job, the OpenAPI document and the docs' table derive from it, and
 * a test fails when a key is missing from any of them.
 */
import { parseRetryDelays, parseTimeExpression } from './time-expression.js';
import { cronOf } from './cron.js';
import { dependsOnOf, onParentFailureOf } from './dependencies.js';
import { ValidationError } from './errors.js';
import type { DataMap } from './job.js';

/** KIE reads `retries` as a Java Integer. */
export const MAX_RETRIES = 2_147_483_647;
/** The longest timer Node.js keeps (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/** Retry delays up to 100 years, so that the next due date stays a date. */
export const MAX_RETRY_DELAY_MS = 100 * 365 * 86_400_000;
/** The strings kjobs indexes (business key, owner, container): at most this long, as KIE's columns. */
export const MAX_INDEXED_STRING = 255;

export interface RequestDataKey {
  key: string;
  /** KIE's executor reads it too, or it is a kjobs extension (KIE clients ignore it). */
  origin: 'KIE' | 'kjobs';
  /**
   * Checks the value (present and not null) in the whole request data; answers it as stored (retryDelay: in
   * milliseconds), or throws a ValidationError naming the key.
   */
  normalize(value: unknown, data: DataMap): unknown;
  /** False when update-data may not change it (fixed when the job is scheduled). */
  updatable: boolean;
  /** JSON Schema of its value, for the OpenAPI document. */
  schema: Record<string, unknown>;
  /** What it does, for the docs and the OpenAPI document. */
  meaning: string;
}

/** The value as given: checked, not changed. */
const checked =
  (check: (value: unknown, data: DataMap) => void) =>
  (value: unknown, data: DataMap): unknown => {
    check(value, data);
    return value;
  };

const TIME_EXPRESSION = { oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] };

export const REQUEST_DATA_KEYS: readonly RequestDataKey[] = [
  {
    key: 'businessKey',
    origin: 'KIE',
    normalize: checked((value) => indexedString('businessKey', value)),
    updatable: true,
    schema: { type: 'string', maxLength: MAX_INDEXED_STRING },
    meaning: "the job's business key (lists by key; what `unique` is about)",
  },
  {
    key: 'retries',
    origin: 'KIE',
    normalize: checked((value) => retriesOf(value)),
    updatable: true,
    schema: { oneOf: [{ type: 'integer', minimum: 0, maximum: MAX_RETRIES }, { type: 'string' }] },
    meaning: 'retries after the first run (default 3, so a job that always fails runs 4 times)',
  },
  {
    key: 'retryDelay',
    origin: 'KIE',
    normalize: (value) => {
      let delays: number[];
      try {
        delays = parseRetryDelays(value);
      } catch (error) {
        throw new ValidationError(`retryDelay: ${(error as Error).message}`);
      }
      for (const delay of delays) {
        if (Math.abs(delay) > MAX_RETRY_DELAY_MS)
          throw new ValidationError(`retryDelay ${delay} ms is longer than 100 years`);
      }
      return delays;
    },
    updatable: true,
    schema: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'integer' } }, { type: 'integer' }],
    },
    meaning:
      'delays before each retry, e.g. `"10s, 1m, 1h"`; the last repeats; stored back as milliseconds ' +
      '(none: retried at once, as KIE)',
  },
  {
    key: 'priority',
    origin: 'KIE',
    normalize: checked((value) => integerOf('priority', value)),
    updatable: true,
    schema: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    meaning: '0..9 (default 5; values outside are clamped); higher runs first, then earlier due time',
  },
  {
    key: 'processInstanceId',
    origin: 'KIE',
    normalize: checked((value) => integerOf('processInstanceId', value)),
    updatable: true,
    schema: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    meaning: 'the process instance the job belongs to (lists by process instance)',
  },
  {
    key: 'owner',
    origin: 'KIE',
    normalize: checked((value) => indexedString('owner', value)),
    updatable: true,
    schema: { type: 'string', maxLength: MAX_INDEXED_STRING },
    meaning: 'only the executor with this id runs the job',
  },
  {
    key: 'deploymentId',
    origin: 'KIE',
    normalize: checked((value) => indexedString('deploymentId', value)),
    updatable: true,
    schema: { type: 'string', maxLength: MAX_INDEXED_STRING },
    meaning: 'the container the command belongs to (what `containerId` sets)',
  },
  {
    key: 'DeploymentId',
    origin: 'KIE',
    normalize: checked((value) => indexedString('DeploymentId', value)),
    updatable: true,
    schema: { type: 'string', maxLength: MAX_INDEXED_STRING },
    meaning: 'the container, as KIE 7.8 and later also read it (before `deploymentId`)',
  },
  {
    key: 'callbacks',
    origin: 'KIE',
    normalize: checked((value) => callbackNames(value)),
    updatable: true,
    schema: { type: 'string' },
    meaning:
      'comma-separated callback names: `onCommandDone` after success, `onCommandError` after the last failure',
  },
  {
    key: 'timeout',
    origin: 'kjobs',
    normalize: checked((value) => timeoutMs(value)),
    updatable: true,
    schema: TIME_EXPRESSION,
    meaning:
      'longest run, e.g. `"30s"`; then the command\'s `signal` aborts and the attempt fails with a timeout error',
  },
  {
    key: 'cron',
    origin: 'kjobs',
    normalize: checked((_value, data) => cronOf(data)),
    updatable: true,
    schema: { type: 'string' },
    meaning: 'a recurring job: five cron fields (or six, seconds first)',
  },
  {
    key: 'timezone',
    origin: 'kjobs',
    normalize: checked((_value, data) => cronOf(data)),
    updatable: true,
    schema: { type: 'string' },
    meaning: "with `cron`: the IANA time zone its fields are read in (default the server's)",
  },
  {
    key: 'unique',
    origin: 'kjobs',
    normalize: checked((value) => uniqueOf(value)),
    updatable: true,
    schema: { oneOf: [{ type: 'boolean' }, { enum: ['true', 'false', 'replace', 'debounce'] }] },
    meaning:
      '`true`: refuse this job (409) while a job with its `businessKey` is QUEUED, RUNNING or RETRYING; ' +
      '`"replace"` or `"debounce"`: update the waiting one instead',
  },
  {
    key: 'debounce',
    origin: 'kjobs',
    normalize: checked((_value, data) => debounceOf(data)),
    updatable: true,
    schema: TIME_EXPRESSION,
    meaning: 'with `unique: "debounce"`: how long after the last request the job starts, e.g. `"5s"`',
  },
  {
    key: 'concurrencyKey',
    origin: 'kjobs',
    normalize: (value) => {
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      indexedString('concurrencyKey', value);
      return value;
    },
    updatable: true,
    schema: { oneOf: [{ type: 'string', maxLength: MAX_INDEXED_STRING }, { type: 'number' }] },
    meaning: 'with `--key-limit`: jobs with the same value share that many running slots',
  },
  {
    key: 'dependsOn',
    origin: 'kjobs',
    normalize: checked((_value, data) => dependsOnOf(data)),
    updatable: false,
    schema: {
      oneOf: [
        { type: 'string' },
        { type: 'array', items: { oneOf: [{ type: 'integer' }, { type: 'string' }] } },
        { type: 'integer' },
      ],
    },
    meaning: 'wait for other jobs (ids, or `"$0"` for a request of the same batch) to be DONE',
  },
  {
    key: 'onParentFailure',
    origin: 'kjobs',
    normalize: checked((_value, data) => onParentFailureOf(data)),
    updatable: false,
    schema: { enum: ['cancel', 'run'] },
    meaning: "with `dependsOn`: `run` to run even after a parent's ERROR or CANCELLED (default `cancel`)",
  },
];

const BY_KEY = new Map(REQUEST_DATA_KEYS.map((entry) => [entry.key, entry]));

/**
 * Checks the keys of request data that steer the job (the same rules when scheduling and when updating data), and
 * answers a copy with each as stored (`retryDelay` in milliseconds). `update`: keys fixed at scheduling are refused.
 */
export function normalizeRequestData(data: DataMap, { update = false } = {}): DataMap {
  const normalized: DataMap = { ...data };
  for (const [key, value] of Object.entries(data)) {
    const entry = BY_KEY.get(key);
    if (!entry || value === undefined || value === null) continue;
    if (update && !entry.updatable) {
      throw new ValidationError(`${key} is fixed when a job is scheduled: update-data cannot change it`);
    }
    normalized[key] = entry.normalize(value, data);
  }
  // Keys that are checked together: a debounced job needs its debounce, even when the key is absent.
  debounceOf(normalized);
  return normalized;
}

/** The retries of request data, or `fallback` when it names none. */
export function retriesOf(value: unknown, fallback = 0): number {
  if (value === undefined || value === null) return fallback;
  const retries = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new ValidationError(
      `retries must be a whole number from 0 to ${MAX_RETRIES}, got ${JSON.stringify(value)}`,
    );
  }
  return retries;
}

/** A per-job timeout from the `timeout` data key (`"30s"` or milliseconds), if any. */
export function timeoutOf(data: DataMap): number | undefined {
  const value = data.timeout;
  if (value === undefined || value === null) return undefined;
  return timeoutMs(value);
}

function timeoutMs(value: unknown): number {
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
  return callbackNames(value);
}

function callbackNames(value: unknown): string[] {
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
  return uniqueOf(data.unique);
}

function uniqueOf(value: unknown): boolean {
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

/** A string of request data that kjobs indexes, or null when absent. */
export function optionalString(data: DataMap, key: string): string | null {
  const value = data[key];
  if (value === undefined || value === null) return null;
  return indexedString(key, value);
}

function indexedString(key: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new ValidationError(`${key} must be a string, got ${JSON.stringify(value)}`);
  }
  checkIndexedLength(key, value);
  return value;
}

/** Refuses a string longer than KIE's column for it (255 characters). */
export function checkIndexedLength(name: string, value: string): void {
  if (value.length > MAX_INDEXED_STRING) {
    throw new ValidationError(
      `${name} is ${value.length} characters long, more than the ${MAX_INDEXED_STRING} KIE's column holds`,
    );
  }
}

/** A whole number of request data, or null when absent. */
export function optionalInteger(data: DataMap, key: string): number | null {
  const value = data[key];
  if (value === undefined || value === null) return null;
  return integerOf(key, value);
}

function integerOf(key: string, value: unknown): number {
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new ValidationError(`${key} must be a whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}
