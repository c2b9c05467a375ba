import { ValidationError } from './errors.js';
import { cronOf, nextCronTime } from './cron.js';
import { MESSAGE_READY, MESSAGE_REOCCURRING, type DataMap, type Job, type NewJob } from './job.js';
import {
  checkIndexedLength,
  debounceOf,
  isUnique,
  normalizeRequestData,
  onDuplicateOf,
  optionalInteger,
  optionalString,
  retriesOf,
} from './request-data.js';

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

/**
 * Turns a schedule request into the row a store inserts, reading the request data's keys through their table
 * (request-data.ts). Wrong types are refused with a ValidationError naming the key (KIE answers those with a 500).
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
    retries: retriesOf(data.retries, defaults.retries),
    scheduledAt,
    message: MESSAGE_READY,
    requestData: data,
    ...(unique ? { unique } : {}),
    createdAt: defaults.now,
    ...(onDuplicate ? { onDuplicate } : {}),
  };
}

/**
 * The next occurrence of a recurring job, due at `at`: the same command, container and request data, read by the
 * same rules as when it was scheduled (so it is unique when the job was), with its trace context (KIE's message
 * "Rescheduled reoccurring job"). Data that no longer reads (a key written before a rule changed) falls back to the
 * job's own columns.
 */
export function nextOccurrenceOf(
  job: Pick<
    Job,
    'command' | 'businessKey' | 'containerId' | 'processInstanceId' | 'owner' | 'priority' | 'traceParent'
  > & { requestData: DataMap },
  at: number,
  defaults: ScheduleDefaults,
): NewJob {
  let next: NewJob;
  try {
    next = buildNewJob(
      { command: job.command, containerId: job.containerId, scheduledAt: at, data: job.requestData },
      defaults,
    );
    // A debounced or cron job is due when its occurrence is, not after another quiet time.
    next.scheduledAt = Math.max(at, defaults.now);
  } catch {
    next = {
      command: job.command,
      businessKey: job.businessKey,
      containerId: job.containerId,
      processInstanceId: job.processInstanceId,
      owner: job.owner,
      priority: clampPriority(job.priority),
      retries: defaults.retries,
      scheduledAt: Math.max(at, defaults.now),
      message: MESSAGE_READY,
      requestData: job.requestData,
      createdAt: defaults.now,
    };
  }
  next.message = MESSAGE_REOCCURRING;
  // A next occurrence replaces nothing: it is scheduled beside the job that just ended.
  delete next.onDuplicate;
  if (job.traceParent) next.traceParent = job.traceParent;
  return next;
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
