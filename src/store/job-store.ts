import type { ClaimedJob, DataMap, Job, JobStatus, NewJob } from '../core/index.js';
import type { ReleaseBudget, ReleaseOutcome } from './dependency-release.js';

/** Options of a schedule call. */
export interface ScheduleOptions {
  /** The deepest a new job may be in its dependency graph (DependencyLimits.depth). */
  maxDependencyDepth?: number;
}

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
  /** Jobs without a container are left out too (a remote worker runs its containers' commands only). */
  onlyContainers?: boolean;
  /** Only commands matching one of these patterns (`*`: any run of characters). Undefined: any. */
  commands?: readonly string[];
  /** At most this many jobs of a command, or of a container, RUNNING at once across all workers of the store. */
  limits?: ConcurrencyLimits;
  /** Called with what the limits held back in this claim (for the executor's wake-up and the metrics). */
  onLimits?: (report: LimitReport) => void;
  /** Ends a claim that waits for jobs (a long poll of the worker protocol); stores answer at once and ignore it. */
  signal?: AbortSignal;
}

/**
 * Limits across all workers of the store, by command name and by container id: concurrency (`commands`,
 * `containers`), rate (`rates`) and fair concurrency per request-data `concurrencyKey` (`keys`).
 */
export interface ConcurrencyLimits {
  commands?: Readonly<Record<string, number>>;
  containers?: Readonly<Record<string, number>>;
  /** At most `starts` job starts in any `periodMs` window, per command or container. */
  rates?: {
    commands?: Readonly<Record<string, RateLimit>>;
    containers?: Readonly<Record<string, RateLimit>>;
  };
  /**
   * At most this many RUNNING jobs per distinct value of the request-data key `concurrencyKey`: `all` for every
   * job with a key, `commands` for the jobs of one command (counted among that command's jobs only).
   */
  keys?: {
    all?: number;
    commands?: Readonly<Record<string, number>>;
  };
}

/** A rate limit: at most `starts` job starts in any window of `periodMs`. */
export interface RateLimit {
  starts: number;
  periodMs: number;
}

/** What one limit held back in a claim, and how much of it is in use. */
export interface LimitUse {
  /** `command`, `container`, `command-rate`, `container-rate`, `key` (every command), `command-key`. */
  kind: 'command' | 'container' | 'command-rate' | 'container-rate' | 'key' | 'command-key';
  /** The command, container, key value, or `command key` of the limit. */
  name: string;
  limit: number;
  /** Running jobs (concurrency) or starts in the current window (rate), this claim's included. */
  used: number;
  /** Due jobs this claim saw and left QUEUED because of this limit. */
  heldBack: number;
}

/** What a claim's limits did: each limit in play, and when the earliest used-up rate window opens again. */
export interface LimitReport {
  uses: LimitUse[];
  /** Epoch ms when a used-up rate limit allows a start again; null when none is used up. */
  rateOpensAt: number | null;
}

/** A command or a container whose jobs do not start (running ones finish), across all workers of the store. */
export interface FlowTarget {
  kind: 'command' | 'container';
  name: string;
}

export interface PausedTarget extends FlowTarget {
  pausedAt: number;
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
  /**
   * The caller's now, when `olderThan` counts back from it (retention): a store with its own clock (PostgreSQL)
   * then counts back as far from its own now. Absent: `olderThan` is a date, kept as given.
   */
  now?: number;
  /** Final statuses to delete; empty means DONE, ERROR and CANCELLED. */
  statuses: readonly JobStatus[];
  containerId?: string | null;
  /** Delete at most this many jobs, those finished first (retention works in small batches). Default: all. */
  limit?: number;
}

export type StatusCounts = Record<JobStatus, number>;

/** One minute of statistics: jobs that finished in it, and jobs waiting when it was sampled. */
export interface StatsMinute {
  /** Start of the minute, epoch ms. */
  minute: number;
  done: number;
  error: number;
  /** QUEUED + RETRYING at the last sample of the minute; null when nobody sampled it. */
  waiting: number | null;
}

/** What a statistics sample writes. */
export interface StatsSample {
  now: number;
  /** Finished counts are (re)computed for the minutes from this time to `now`. */
  since: number;
  /** Minutes before this time that already have a row keep it (their jobs may have been deleted since). */
  keepBefore: number;
  /** Rows of minutes before this time are deleted. */
  forgetBefore: number;
}

/** Raw numbers of the breakdown by command or container (store/breakdown.ts turns them into rows). */
export interface BreakdownData {
  /** Jobs per key and status. */
  counts: { key: string | null; status: JobStatus; n: number }[];
  /** Attempts that ended since the given time: per key, failed or not, and their duration (null: unknown). */
  runs: { key: string | null; failed: boolean; ms: number | null }[];
}

/** An operator's action on a job, as its timeline shows it. */
export interface JobAction {
  kind: 'cancel' | 'requeue';
  at: number;
  /** The status the job was in. */
  fromStatus: JobStatus;
}

/** Jobs an operator acts on at once: by id, or every job of a list filter in the given statuses. */
export type BulkSelection =
  { ids: readonly number[] } | { filter: ListFilter; statuses: readonly JobStatus[] };

export interface BulkQuery {
  event: 'cancel' | 'requeue';
  selection: BulkSelection;
  now: number;
  /** More jobs than this (ids given, or jobs matching): TooManyJobsError, and nothing changes. */
  max: number;
}

/** What a bulk action did. */
export interface BulkResult {
  /** Jobs the selection named (ids) or matched (filter). */
  matched: number;
  /** Jobs changed, by id. */
  changed: number[];
  /** Jobs left as they were: unknown (status null), in a status the action is not allowed from, or a duplicate. */
  refused: { id: number; status: JobStatus | null; reason: string }[];
  /** The changed jobs' command and container, in id order (for events and metrics). */
  changedJobs: { id: number; command: string; containerId: string | null }[];
}
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
 * Times: every `now` is the caller's clock (epoch ms). A store that has a clock of its own shared by all nodes
 * (PostgreSQL, by default) decides leases, due times and rescues on that clock instead, and moves the relative
 * times it is given (a retry's due time, a next occurrence) onto it; see PostgresStoreOptions.clock.
 *
 * Where jobs live. Every implementation passes the same contract suite (test/store/contract.ts).
 * State changes are guarded by the transitions of core/states.ts; a refused change throws
 * JobNotFoundError or InvalidStateError.
 */
export interface JobStore {
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  /**
   * Inserts jobs atomically; answers their ids in order. A job whose parents would put it deeper than
   * `options.maxDependencyDepth` (default DEFAULT_DEPENDENCY_LIMITS.depth) is refused with a ValidationError.
   */
  schedule(jobs: readonly NewJob[], options?: ScheduleOptions): Promise<number[]>;
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
  /**
   * Extends the leases of jobs this worker still holds: they expire `leaseMs` after `now`. Answers the ids of those
   * it no longer holds (cancelled while running, requeued, rescued by another worker): the worker stops them.
   */
  renewLeases(workerId: string, jobIds: readonly number[], now: number, leaseMs: number): Promise<number[]>;
  /** RUNNING jobs whose lease expired before `now`: their worker is gone. */
  findExpiredLeases(now: number, limit: number): Promise<ClaimedJob[]>;
  /** Workers holding RUNNING jobs now (the lease keeper checks those on this host for a dead process). */
  runningWorkers(): Promise<string[]>;
  /** Ends the leases of a worker known to be dead, so that the next rescue takes its jobs at once. */
  expireLeasesOf(workerId: string): Promise<number>;
  /**
   * Takes the lock of worker `workerId` for as long as this process lives (or until `release()`), so that a later
   * process can tell it is gone (`isWorkerGone`). Undefined where nobody else could look (an in-memory store).
   */
  holdWorkerLock(workerId: string): Promise<WorkerLock | undefined>;
  /**
   * Whether nobody holds `workerId`'s lock any more: its process ended (SQLite), or its session with the database
   * did (PostgreSQL). False while it is held. A worker that never took one, or stopped and gave it back, is not
   * gone on SQLite (no lock file left) and gone on PostgreSQL (nothing tells them apart there).
   */
  isWorkerGone(workerId: string): Promise<boolean>;
  /**
   * Cancels a job as KIE does (QUEUED, RETRYING, ERROR), and with `evenRunning` a RUNNING job too (a kjobs
   * extension: its worker no longer holds it, and learns so at its next lease renewal).
   */
  cancel(id: number, now: number, options?: { evenRunning?: boolean }): Promise<Job>;
  requeue(id: number, now: number): Promise<Job>;
  /** Merges `patch` into the job's request data (the indexed columns are left as they are, as in KIE). */
  updateData(id: number, patch: DataMap): Promise<Job>;
  /**
   * Milliseconds from `now` until the earliest QUEUED or RETRYING job due later than `now` is due, or null when
   * none: the executor's next wake-up. Jobs already due are left out: a claim just left them behind, so they are
   * not this executor's to take (another owner, another container, held back by a limit).
   */
  nextDueIn(now: number): Promise<number | null>;
  deleteFinished(query: DeleteFinishedQuery): Promise<{ jobs: number; errors: number }>;
  countByStatus(): Promise<StatusCounts>;
  /** Writes a statistics sample: finished jobs per minute since `since`, jobs waiting now. */
  recordStats(sample: StatsSample): Promise<void>;
  /** The sampled minutes in [from, to), in order. */
  readStats(from: number, to: number): Promise<StatsMinute[]>;
  /** Counts per status, and attempts that ended since `since`, by command or by container. */
  breakdown(by: 'command' | 'container', since: number): Promise<BreakdownData>;
  /** The cancels and requeues of a job, in order. */
  actionsOf(jobId: number): Promise<JobAction[]>;
  /**
   * Cancels or requeues many jobs in one transaction, each by the rules of core/states.ts (and unique keys for
   * requeue); jobs that refuse are reported, not changed. Throws TooManyJobsError past `max`.
   */
  bulk(query: BulkQuery): Promise<BulkResult>;
  /** Pauses a command or a container: claims skip its jobs until resumed. Pausing twice keeps the first time. */
  pause(target: FlowTarget, now: number): Promise<void>;
  /** Resumes a paused command or container (wakes the workers); answers whether it was paused. */
  resume(target: FlowTarget): Promise<boolean>;
  /** What is paused, by kind then name. */
  listPaused(): Promise<PausedTarget[]>;
  /**
   * A job's parents (the jobs its request data `dependsOn` named, in id order) and children (jobs that named it,
   * at most `childLimit`, default 1,000, in id order); with `withData`, the parents' data. Unknown ids: both empty.
   */
  dependencies(id: number, options?: DependencyOptions): Promise<JobDependencies>;
  /**
   * Releases children of ended parents that are still marked (left by a release that reached its budget, or
   * stopped halfway), within `budget` (default RELEASE_IN_BACKGROUND), in one transaction; see
   * dependency-release.ts. From any marked parent, or from those of `parentIds`. `more`: call again.
   */
  releasePending(budget?: ReleaseBudget, parentIds?: readonly number[]): Promise<ReleaseOutcome>;
  /**
   * Calls `listener` when a release right after an end left work for releasePending (a large graph, or a failed
   * release); answers a function that stops the calls. Optional: without it, the background release polls.
   */
  watchReleases?(listener: () => void): () => void;
  /** Parents whose release is pending (marked), at most `limit`, in id order. */
  pendingReleases(limit: number): Promise<number[]>;
  /**
   * Gives up the release of a parent that fails every time (a poison): clears its mark and records `message` among
   * its errors, so that an operator sees why its children still wait. Answers whether it was marked.
   */
  abandonRelease(parentId: number, message: string, now: number): Promise<boolean>;
  /** Calls `listener` when another process makes jobs available (e.g. PostgreSQL NOTIFY). Optional. */
  subscribe?(listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A worker's lock (JobStore.holdWorkerLock), given back when the worker stops. */
export interface WorkerLock {
  release(): Promise<void>;
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
