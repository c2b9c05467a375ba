import type { ClaimedJob, DataMap, Job, JobStatus, NewJob } from '../core/index.js';

/** Which column a list query filters on (the five KIE list operations). */
export type ListFilter =
  | { by: 'status' }
  | { by: 'businessKey'; value: string }
  | { by: 'command'; value: string }
  | { by: 'container'; value: string }
  | { by: 'processInstance'; value: number };

/** A page of a list query. Lists never carry data or errors, as in KIE. */
export interface ListQuery {
  filter: ListFilter;
  /** Statuses to include; empty means all. */
  statuses: readonly JobStatus[];
  /** Order by id. */
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

export interface GetOptions {
  withErrors?: boolean;
  withData?: boolean;
}

export interface ClaimOptions {
  workerId: string;
  /** Claim at most this many jobs. */
  limit: number;
  now: number;
  /** The lease lasts this long unless renewed. */
  leaseMs: number;
  /** Containers this worker can run; jobs without a container are always eligible. Undefined: any. */
  containers?: readonly string[];
  /** This executor's id: jobs owned by another executor are left alone. */
  owner?: string;
  /** Commands not to claim now. */
  excludeCommands?: readonly string[];
  /** At most this many jobs of a command, or of a container, RUNNING at once across all workers of the store. */
  limits?: ConcurrencyLimits;
}

/** Concurrency limits by command name and by container id. */
export interface ConcurrencyLimits {
  commands?: Readonly<Record<string, number>>;
  containers?: Readonly<Record<string, number>>;
}

/** A failed attempt as recorded in the job's error history. */
export interface AttemptError {
  message: string | null;
  stacktrace: string | null;
}

/**
 * The outcome of one run, written only if the job is still RUNNING under `workerId` (a fenced write: a job
 * that was requeued, or rescued from this worker, is not overwritten).
 */
export type Completion =
  | {
      jobId: number;
      workerId: string;
      now: number;
      kind: 'succeed';
      responseData: DataMap;
      reschedule?: NewJob;
    }
  | {
      jobId: number;
      workerId: string;
      now: number;
      kind: 'retry' | 'fail';
      error: AttemptError;
      retries: number;
      scheduledAt: number;
      reschedule?: NewJob;
    }
  /** Gives the job back unrun (graceful stop): QUEUED again, this run not counted. */
  | { jobId: number; workerId: string; now: number; kind: 'release' };

export interface DeleteFinishedQuery {
  /** Jobs that finished before this time. */
  olderThan: number;
  /** Final statuses to delete; empty means DONE, ERROR and CANCELLED. */
  statuses: readonly JobStatus[];
  containerId?: string | null;
  /** Delete at most this many jobs, those finished first (retention works in small batches). Default: all. */
  limit?: number;
}

export type StatusCounts = Record<JobStatus, number>;

/** What a command reports with `ctx.progress`: a percentage and/or a small JSON map. */
export interface ProgressReport {
  value?: number;
  data?: DataMap;
}

export interface DependencyOptions {
  /** Load the parents' request and response data. */
  withData?: boolean;
  /** At most this many children. Default 1,000. */
  childLimit?: number;
}

/** The jobs a job waits for, and the jobs that wait for it (summaries, as lists answer them). */
export interface JobDependencies {
  parents: Job[];
  children: Job[];
}

export const DEFAULT_CHILD_LIMIT = 1000;

/**
 * Where jobs live. Every implementation passes the same contract suite (test/store/contract.ts).
 * State changes are guarded by the transitions of core/states.ts; a refused change throws
 * JobNotFoundError or InvalidStateError.
 */
export interface JobStore {
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  /** Inserts jobs atomically; answers their ids in order. */
  schedule(jobs: readonly NewJob[]): Promise<number[]>;
  get(id: number, options?: GetOptions): Promise<Job | undefined>;
  list(query: ListQuery): Promise<Job[]>;
  /** Moves due jobs to RUNNING for one worker, by priority then time; answers them with their data. */
  claim(options: ClaimOptions): Promise<ClaimedJob[]>;
  /** Records outcomes; answers, per outcome, whether it was written (false: the job was no longer held). */
  complete(outcomes: readonly Completion[]): Promise<boolean[]>;
  /**
   * Stores the latest progress of a job this worker still runs (RUNNING under `workerId`); answers whether it
   * was written.
   */
  setProgress(jobId: number, workerId: string, progress: ProgressReport, at: number): Promise<boolean>;
  /** Extends the leases of jobs this worker still holds. */
  renewLeases(workerId: string, jobIds: readonly number[], leaseExpiresAt: number): Promise<void>;
  /** RUNNING jobs whose lease expired before `now`: their worker is gone. */
  findExpiredLeases(now: number, limit: number): Promise<ClaimedJob[]>;
  cancel(id: number, now: number): Promise<Job>;
  requeue(id: number, now: number): Promise<Job>;
  /** Merges `patch` into the job's request data (the indexed columns are left as they are, as in KIE). */
  updateData(id: number, patch: DataMap): Promise<Job>;
  /**
   * The earliest time a QUEUED or RETRYING job is due, or null when none waits; with `after`, the earliest one
   * due later than it (the executor's next wake-up: jobs already due that it could not claim are not its own).
   */
  nextDueAt(after?: number): Promise<number | null>;
  deleteFinished(query: DeleteFinishedQuery): Promise<{ jobs: number; errors: number }>;
  countByStatus(): Promise<StatusCounts>;
  /**
   * A job's parents (the jobs its request data `dependsOn` named, in id order) and children (jobs that named it,
   * at most `childLimit`, default 1,000, in id order); with `withData`, the parents' data. Unknown ids: both empty.
   */
  dependencies(id: number, options?: DependencyOptions): Promise<JobDependencies>;
  /** Calls `listener` when another process makes jobs available (e.g. PostgreSQL NOTIFY). Optional. */
  subscribe?(listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Error records are trimmed as KIE trims them (org.kie.executor.msg.length / stacktrace.length). */
export const MAX_ERROR_MESSAGE = 255;
export const MAX_ERROR_STACKTRACE = 5000;

export function trimAttemptError(error: AttemptError): AttemptError {
  return {
    message: error.message === null ? null : error.message.slice(0, MAX_ERROR_MESSAGE),
    stacktrace: error.stacktrace === null ? null : error.stacktrace.slice(0, MAX_ERROR_STACKTRACE),
  };
}

export function emptyCounts(): StatusCounts {
  return { QUEUED: 0, RUNNING: 0, DONE: 0, ERROR: 0, RETRYING: 0, CANCELLED: 0 };
}
