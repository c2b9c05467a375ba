/**
 * The job model: one asynchronous job (KIE's RequestInfo) with every field KIE shows,
 * plus the bookkeeping kjobs needs to run it safely on many workers.
 */

import type { JobStatus } from '../kie/statuses.js';

export { JOB_STATUSES, type JobStatus } from '../kie/statuses.js';

/** A map of request or response data: JSON values keyed by name, as KIE's `Map<String, Object>`. */
export type DataMap = Record<string, unknown>;

export { isJobStatus } from '../kie/statuses.js';

/** One failed attempt of a job (KIE's ErrorInfo). */
export interface JobError {
  /** Error record id, unique across all jobs. */
  id: number;
  /** The job this error belongs to. */
  jobId: number;
  /** The error's message (cut to 255 characters, as KIE does). */
  message: string | null;
  /** The error's stack trace (cut to 5,000 characters). */
  stacktrace: string | null;
  /** When the attempt failed, epoch milliseconds. */
  date: number;
  /** When the failed attempt started, epoch milliseconds (null for errors recorded before kjobs stored it). */
  startedAt?: number | null;
}

/** A stored job. Times are epoch milliseconds. */
export interface Job {
  id: number;
  status: JobStatus;
  businessKey: string | null;
  /** "Ready to execute", or "Rescheduled reoccurring job"; never changes after creation. */
  message: string;
  /** Retries left. */
  retries: number;
  /** Runs started so far. */
  executions: number;
  /** The command's name (KIE: the command class's FQCN). */
  command: string;
  /** When the job is (or was last) due: creation, start of each run, next retry. */
  scheduledAt: number;
  /** Priority 0..9, higher first. */
  priority: number;
  /** The container (KIE deployment id) the command belongs to, or null for built-ins. */
  containerId: string | null;
  processInstanceId: number | null;
  /** Only the executor with this id runs the job, when set. */
  owner: string | null;
  createdAt: number;
  /** Start of the latest run. */
  startedAt: number | null;
  /** When the job reached DONE, ERROR or CANCELLED. */
  finishedAt: number | null;
  /** The worker that holds the job while it is RUNNING. */
  workerId: string | null;
  /** A RUNNING job whose lease has expired belongs to a lost worker. */
  leaseExpiresAt: number | null;
  /** Request data; loaded only when asked for (withData). */
  requestData?: DataMap;
  /** Response data of a DONE job; loaded only when asked for (withData). */
  responseData?: DataMap | null;
  /** Error records in the order they happened; loaded only when asked for (withErrors). */
  errors?: JobError[];
  /** kjobs only: parents (request data `dependsOn`) not yet ended; a QUEUED job waits while this is above 0. */
  waitingFor?: number;
  /** kjobs only: W3C traceparent of the span that scheduled it; loaded with its data, and by claims. */
  traceParent?: string | null;
  /** kjobs only: the latest progress its command reported (`ctx.progress`), or null. */
  progress?: JobProgress | null;
}

/** The latest progress a command reported: a percentage and/or a small JSON map, and when. */
export interface JobProgress {
  /** 0 to 100. */
  value?: number;
  data?: DataMap;
  /** When it was reported, epoch milliseconds. */
  at: number;
}

/** A job a new job depends on: an existing job's id, or a job `earlier` places before it in the same batch. */
export type JobReference = number | { earlier: number };

/** What a parent's ERROR or CANCELLED does to a child: cancel it (default), or run it anyway. */
export type ParentFailurePolicy = 'cancel' | 'run';

/** What a store needs to create a job; produced by `buildNewJob` from a schedule request. */
export interface NewJob {
  command: string;
  businessKey: string | null;
  containerId: string | null;
  processInstanceId: number | null;
  owner: string | null;
  priority: number;
  retries: number;
  scheduledAt: number;
  message: string;
  requestData: DataMap;
  /** Refuse this job while another job with its business key is QUEUED, RUNNING or RETRYING. */
  unique?: boolean;
  /**
   * When the caller made it, by its clock (default: the store's now). A job due then (scheduled without a date)
   * is due at the store's now when the store has its own clock (PostgreSQL).
   */
  createdAt?: number;
  /** A unique job meeting a waiting job with its business key: replace that job's data (and debounce: its start). */
  onDuplicate?: 'replace' | 'debounce';
  /** Jobs that must be DONE before this one runs (request data `dependsOn`). */
  dependsOn?: readonly JobReference[];
  /** Request data `onParentFailure`; default `cancel`. */
  onParentFailure?: ParentFailurePolicy;
  /** W3C traceparent of the schedule request's span. */
  traceParent?: string | null;
}

/** A job a worker has claimed: RUNNING, with its data, held under a lease. */
export interface ClaimedJob extends Job {
  requestData: DataMap;
  workerId: string;
  leaseExpiresAt: number;
}

/** The message of a new job. */
export const MESSAGE_READY = 'Ready to execute';
/** The message of a job created by a reoccurring command. */
export const MESSAGE_REOCCURRING = 'Rescheduled reoccurring job';
