import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import {
  allowedFrom,
  buildNewJob,
  checkLinkCount,
  checkParentCount,
  DEFAULT_DEPENDENCY_LIMITS,
  type DependencyLimits,
  canApply,
  callbacksOf,
  dependsOnOf,
  onParentFailureOf,
  toReferences,
  isFinal,
  isJobStatus,
  JOB_STATUSES,
  JobNotFoundError,
  normalizeRequestData,
  systemClock,
  UnknownFlowTargetError,
  ValidationError,
  type Clock,
  type DataMap,
  type Job,
  type JobStatus,
  type NewJob,
  type ScheduleRequest,
  jobTimeline,
  STATS_RANGES,
  statsPoints,
  statsWindow,
  type StatsPoint,
  type StatsRange,
  type TimelineEntry,
} from './core/index.js';
import { builtinCommands } from './commands/builtins.js';
import type { Command, CommandCallback, ContainerDefinition } from './commands/command.js';
import { CommandRegistry } from './commands/registry.js';
import { Executor, type ExecutorOptions } from './executor/executor.js';
import { DependencyReleaser } from './executor/dependency-releaser.js';
import { RemoteWorkers } from './remote/worker-service.js';
import { RetentionSweeper } from './executor/retention.js';
import { StatsSampler } from './executor/stats-sampler.js';
import { breakdownRows, type BreakdownRow } from './store/breakdown.js';
import type {
  BulkResult,
  BulkSelection,
  ConcurrencyLimits,
  FlowTarget,
  GetOptions,
  JobDependencies,
  JobStore,
  ListFilter,
  PausedTarget,
  StatusCounts,
} from './store/job-store.js';
import { openStore } from './store/open-store.js';
import { ATTRIBUTES, inSpan, SpanKind, traceParentOf } from './observability/tracing.js';

/** Options of a kjobs instance; only the store is needed, and even that has a default. */
/** The life of a Kjobs instance; the KIE probes answer 503 unless it is `started`. */
export type KjobsState = 'created' | 'started' | 'stopping' | 'stopped';

export interface KjobsOptions {
  /** A store, the path of a SQLite file, or a `postgres://` URL. Default `./data/kjobs.db`. */
  store?: JobStore | string;
  /** Containers by id: a definition, a map of commands, or the path of an ES module exporting one. */
  containers?: Record<string, ContainerDefinition | Record<string, Command> | string>;
  /** Commands available to every job, registered besides the built-ins. */
  commands?: Record<string, Command>;
  /** Callbacks available to every job, by name. */
  callbacks?: Record<string, CommandCallback>;
  /** Retries of a job whose data names none (KIE: 3). */
  defaultRetries?: number;
  /**
   * Largest page a list may ask for (default 10,000): a bigger `pageSize` is refused with a ValidationError, so
   * one request cannot make the service read and write a million jobs at once.
   */
  maxPageSize?: number;
  /**
   * Largest request data of a job, in bytes of its JSON (default 1 MiB): checked when scheduling and after each
   * update-data merge, so repeated updates cannot grow a job without bound. A command's response data has the same
   * limit: a larger result fails the attempt.
   */
  maxDataBytes?: number;
  /**
   * Retention of finished jobs, ms: DONE, ERROR and CANCELLED jobs that finished longer ago are deleted (with their
   * errors) in small batches, once a minute, while this instance is started. Default: kept forever (as KIE).
   */
  retentionMs?: number;
  /**
   * Most jobs one bulk action may change (default 1,000): a bulk cancel or requeue that names or matches more is
   * refused with a TooManyJobsError, and nothing changes.
   */
  maxBulkJobs?: number;
  /**
   * How often the executor samples the statistics the console's charts show, ms (default 10 s; 0: off). Only an
   * instance with an executor samples.
   */
  statsIntervalMs?: number;
  /**
   * Bounds of dependency graphs (request data `dependsOn`): parents per job (default 100), depth (the longest
   * chain above a job, default 1,000) and links per schedule call (default 10,000). Past one, the schedule is
   * refused with a ValidationError naming it.
   */
  dependencyLimits?: Partial<DependencyLimits>;
  /**
   * Remote containers: id → the patterns of the commands (`*`: any run of characters) that workers elsewhere run
   * over the worker protocol (docs/workers.md). Their jobs are accepted here and never run by this executor.
   */
  remoteContainers?: Record<string, readonly string[]>;
  /**
   * Limits across every worker of the store (concurrency, rate, per key): this executor's claims and remote
   * workers' claims both keep them. The executor's own `limits`, when given, win for its claims.
   */
  limits?: ConcurrencyLimits;
  /** The heartbeat remote workers keep, ms (their leases last 1.5 of it). Default: the executor's, or 5 s. */
  heartbeatMs?: number;
  /** Run jobs in this process (default true), with these options; false for an API-only node. */
  executor?: boolean | ExecutorOptions;
  /**
   * Where this node reads the time (scheduling, cancelling, its executor). Default: the system clock. Tests inject
   * one that is off by minutes; on PostgreSQL the database's clock decides leases and due times anyway.
   */
  clock?: Clock;
  logger?: Logger;
}

/** A page of a list: KIE's `page` (from 0) and `pageSize` (default 10). */
export interface Page {
  page?: number;
  pageSize?: number;
}

/** A list query: statuses to include, and a page. */
export interface ListOptions extends Page {
  /**
   * Statuses to include; when absent or empty, each list has KIE's default (see the list methods). Checked here,
   * for every caller (HTTP hands over what the query says).
   */
  status?: readonly (JobStatus | string)[] | JobStatus;
}

const DEFAULT_PAGE_SIZE = 10;
/** Paused commands and containers at most: each is a known name, so a real deployment has far fewer. */
export const MAX_PAUSED = 1000;
export const DEFAULT_MAX_PAGE_SIZE = 10_000;
export const DEFAULT_MAX_DATA_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BULK_JOBS = 1000;

/** The jobs of a bulk action: ids, or a list filter (at most one of key, command, container, process instance). */
export type BulkJobSelection =
  | { ids: readonly number[] }
  | {
      /** Statuses to act on; default ERROR for requeue, QUEUED for cancel. */
      status?: readonly (JobStatus | string)[] | JobStatus;
      businessKey?: string;
      command?: string;
      containerId?: string;
      processInstanceId?: number;
    };

/** Statistics for the console's charts. */
export interface JobStats {
  range: StatsRange;
  /** Length of each point's bucket, ms: a minute (hour range) or an hour (day range). */
  bucketMs: number;
  from: number;
  to: number;
  points: StatsPoint[];
}
/** Group commit: at most this many inserts written at once (a few overlap the database's commit latency). */
const MAX_INSERTS_IN_FLIGHT = 4;

/** Events of a kjobs instance, for library users who want to react to jobs. */
export interface KjobsEvents {
  /** Jobs were scheduled (one event per call, with every job of the batch). */
  scheduled: [jobs: { id: number; command: string; containerId: string | null }[]];
  /** A job was cancelled. */
  cancelled: [job: Job];
  /** Jobs were cancelled by one bulk action (bulkCancel); `cancelled` is not emitted for them. */
  cancelledMany: [jobs: { id: number; command: string; containerId: string | null }[]];
  /** A job reached DONE, ERROR or CANCELLED. */
  finished: [jobId: number, status: JobStatus];
}

/**
 * kjobs as a library: schedule jobs, query them, act on them, and (unless told otherwise) run them.
 *
 * ```ts
 * const kjobs = await createKjobs({ store: './data/jobs.db', commands: { hello: async ({ data }) => ({ hi: data.name }) } });
 * const id = await kjobs.schedule({ command: 'hello', data: { name: 'Ada' } });
 * const job = await kjobs.waitFor(id);
 * ```
 */
export class Kjobs extends EventEmitter<KjobsEvents> {
  /** The commands and callbacks jobs can name. */
  readonly registry = new CommandRegistry();
  /** The worker pool, when this instance runs jobs. */
  readonly executor: Executor | undefined;
  readonly store: JobStore;
  private readonly defaultRetries: number;
  private readonly maxPageSize: number;
  private readonly maxDataBytes: number;
  private readonly insertQueue: {
    jobs: NewJob[];
    resolve: (ids: number[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** Inserts being written now; each gathers the calls that arrive meanwhile. */
  private inserting = 0;
  private readonly ownsStore: boolean;
  private readonly retention: RetentionSweeper | undefined;
  private readonly statsSampler: StatsSampler | undefined;
  private readonly releaser: DependencyReleaser;
  /** The server side of the worker protocol (the routes of http/routes/workers.ts use it). */
  readonly workers: RemoteWorkers;
  private readonly dependencyLimits: DependencyLimits;
  private readonly maxBulkJobs: number;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(options: KjobsOptions = {}) {
    super();
    this.ownsStore = typeof options.store !== 'object';
    this.log = options.logger ?? pino({ level: 'silent' });
    this.store =
      typeof options.store === 'object'
        ? options.store
        : openStore(options.store ?? './data/kjobs.db', { logger: this.log });
    this.defaultRetries = options.defaultRetries ?? 3;
    this.clock = options.clock ?? systemClock;
    this.maxPageSize = options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE;
    this.maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
    if (options.retentionMs && options.retentionMs > 0) {
      this.retention = new RetentionSweeper(this.store, {
        retentionMs: options.retentionMs,
        logger: this.log,
        clock: this.clock,
      });
    }
    this.maxBulkJobs = options.maxBulkJobs ?? DEFAULT_MAX_BULK_JOBS;
    this.dependencyLimits = { ...DEFAULT_DEPENDENCY_LIMITS, ...definedOf(options.dependencyLimits ?? {}) };
    this.releaser = new DependencyReleaser(this.store, { logger: this.log, clock: this.clock });
    if (options.executor !== false && options.statsIntervalMs !== 0) {
      this.statsSampler = new StatsSampler(this.store, {
        intervalMs: options.statsIntervalMs,
        clock: this.clock,
        logger: this.log,
      });
    }
    for (const [name, command] of Object.entries(builtinCommands(this.store))) {
      this.registry.registerCommand(name, command);
    }
    for (const [name, command] of Object.entries(options.commands ?? {}))
      this.registry.registerCommand(name, command);
    for (const [name, callback] of Object.entries(options.callbacks ?? {})) {
      this.registry.registerCallback(name, callback);
    }
    for (const [id, container] of Object.entries(options.containers ?? {})) {
      if (typeof container !== 'string') this.registry.registerContainer(id, container);
    }
    if (options.executor !== false) {
      const executorOptions = typeof options.executor === 'object' ? options.executor : {};
      this.executor = new Executor(this.store, this.registry, {
        defaultRetries: this.defaultRetries,
        maxResponseBytes: this.maxDataBytes,
        logger: this.log,
        clock: this.clock,
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
        ...executorOptions,
      });
      this.executor.on('completed', (job) => this.emit('finished', job.id, 'DONE'));
      this.executor.on('failed', (job) => this.emit('finished', job.id, 'ERROR'));
      this.executor.on('error', () => undefined); // logged by the executor; never crash the process
    }
    for (const [id, patterns] of Object.entries(options.remoteContainers ?? {})) {
      this.registry.registerRemoteContainer(id, patterns);
    }
    const executorOptions = typeof options.executor === 'object' ? options.executor : {};
    this.workers = new RemoteWorkers({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      logger: this.log,
      heartbeatMs: executorOptions.heartbeatMs ?? options.heartbeatMs ?? 5000,
      limits: executorOptions.limits ?? options.limits,
      defaultRetries: this.defaultRetries,
      maxDataBytes: this.maxDataBytes,
      // This node's executor rescues every lost lease; without one, the remote workers' jobs need it here.
      rescue: !this.executor && Object.keys(options.remoteContainers ?? {}).length > 0,
      onEnded: (job, status) => this.emit('finished', job.id, status),
    });
  }

  /** Prepares the store and loads container modules. Called by createKjobs. */
  async init(containerModules: Record<string, string> = {}): Promise<this> {
    await this.store.migrate();
    for (const [id, modulePath] of Object.entries(containerModules)) {
      await this.registry.loadContainer(id, modulePath);
    }
    return this;
  }

  private lifecycle: KjobsState = 'created';

  /** The time on this instance's clock (epoch ms). */
  now(): number {
    return this.clock.now();
  }

  /** Where this instance is in its life: `created`, `started` (by start()), `stopping`, `stopped`. */
  get state(): KjobsState {
    return this.lifecycle;
  }

  /** Starts running jobs (when this instance has an executor). */
  async start(): Promise<void> {
    await this.executor?.start();
    await this.workers.start();
    this.releaser.start();
    this.retention?.start();
    this.statsSampler?.start();
    if (this.lifecycle === 'created') this.lifecycle = 'started';
  }

  /** Stops running jobs (running ones get `deadlineMs` to finish), then closes the store if kjobs opened it. */
  async stop(deadlineMs?: number): Promise<void> {
    this.lifecycle = 'stopping';
    await this.workers.stop();
    await this.releaser.stop();
    await this.retention?.stop();
    await this.statsSampler?.stop();
    await this.executor?.stop(deadlineMs);
    if (this.ownsStore) await this.store.close();
    this.lifecycle = 'stopped';
  }

  /** Schedules one job; answers its id. Refuses unknown commands, containers and callbacks, and bad data. */
  async schedule(request: ScheduleRequest): Promise<number> {
    const [id] = await this.scheduleJobs([request], false);
    return id as number;
  }

  /**
   * Schedules several jobs atomically: all or none; answers their ids in order. A refused request's
   * ValidationError names its index (from 0): `Job request 2: Invalid command type ...`.
   */
  scheduleMany(requests: readonly ScheduleRequest[]): Promise<number[]> {
    return this.scheduleJobs(requests, true);
  }

  /**
   * In a span (`kjobs schedule`, a child of the active context: over HTTP, the request's traceparent); its
   * traceparent is stored with the jobs, so that their runs are spans of the same trace.
   */
  private scheduleJobs(requests: readonly ScheduleRequest[], indexErrors: boolean): Promise<number[]> {
    const first = requests[0];
    return inSpan(
      'kjobs schedule',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTRIBUTES.jobs]: requests.length,
          ...(requests.length === 1 && typeof first?.command === 'string'
            ? { [ATTRIBUTES.command]: first.command }
            : {}),
          ...(first?.containerId ? { [ATTRIBUTES.container]: first.containerId } : {}),
        },
      },
      async (span) => {
        const ids = await this.scheduleTraced(requests, indexErrors, traceParentOf(span));
        span.setAttribute(ATTRIBUTES.jobIds, ids);
        if (ids.length === 1) span.setAttribute(ATTRIBUTES.jobId, ids[0]!);
        return ids;
      },
    );
  }

  private async scheduleTraced(
    requests: readonly ScheduleRequest[],
    indexErrors: boolean,
    traceParent: string | null,
  ): Promise<number[]> {
    const now = this.clock.now();
    const jobs = requests.map((request, index) => {
      try {
        const job = buildNewJob(request, { retries: this.defaultRetries, now });
        if (job.containerId === null && !this.registry.resolve(job.command, null)) {
          // A command of a remote container, scheduled without one: the container whose patterns match it.
          const remote = this.registry.remoteContainerFor(job.command);
          if (remote) {
            job.containerId = remote;
            job.requestData.deploymentId = remote;
          }
        }
        this.registry.validate(job.command, job.containerId, callbacksOf(job.requestData));
        this.checkDataSize(job.requestData, 'request-data');
        if (traceParent) job.traceParent = traceParent;
        const entries = dependsOnOf(job.requestData);
        checkParentCount(entries, this.dependencyLimits);
        const dependsOn = toReferences(entries, index, indexErrors);
        if (dependsOn.length > 0) {
          job.dependsOn = dependsOn;
          job.onParentFailure = onParentFailureOf(job.requestData);
        }
        return job;
      } catch (error) {
        if (indexErrors && error instanceof ValidationError)
          error.message = `Job request ${index}: ${error.message}`;
        throw error;
      }
    });
    if (jobs.length === 0) return [];
    checkLinkCount(
      jobs.reduce((links, job) => links + (job.dependsOn?.length ?? 0), 0),
      this.dependencyLimits,
    );
    const ids = await this.insert(jobs);
    this.emit(
      'scheduled',
      ids.map((id, index) => ({ id, command: jobs[index]!.command, containerId: jobs[index]!.containerId })),
    );
    this.wakeWorkers();
    return ids;
  }

  /**
   * Group commit: schedule calls that arrive while an insert is being written are written together, in one
   * transaction, when it is done (one commit for many requests, e.g. concurrent HTTP schedules). Each call keeps
   * its own all-or-none: if the shared insert is refused (a unique job's conflict), each call is retried alone.
   */
  private insert(jobs: NewJob[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.insertQueue.push({ jobs, resolve, reject });
      if (this.insertQueue.length === 1 && this.inserting < MAX_INSERTS_IN_FLIGHT) {
        // Wait for the rest of this turn of the event loop: requests read together are written together.
        this.inserting++;
        setImmediate(() => void this.writeInserts());
      }
    });
  }

  private async writeInserts(): Promise<void> {
    try {
      while (this.insertQueue.length > 0) {
        const calls = this.insertQueue.splice(0);
        if (calls.length > 1) {
          try {
            const ids = await this.store.schedule(
              calls.flatMap((call) => call.jobs),
              this.scheduleOptions,
            );
            let next = 0;
            for (const call of calls) {
              call.resolve(ids.slice(next, next + call.jobs.length));
              next += call.jobs.length;
            }
            continue;
          } catch {
            // One call's refusal must not refuse the others: write each alone below.
          }
        }
        for (const call of calls) {
          await this.store.schedule(call.jobs, this.scheduleOptions).then(call.resolve, call.reject);
        }
      }
    } finally {
      this.inserting--;
    }
  }

  /** Jobs may be due: this executor and the remote workers' long polls look now. */
  private wakeWorkers(): void {
    this.executor?.wake();
    this.workers.wake();
  }

  private get scheduleOptions() {
    return { maxDependencyDepth: this.dependencyLimits.depth };
  }

  /** One job; throws JobNotFoundError when there is none. */
  async get(id: number, options: GetOptions = {}): Promise<Job> {
    const job = await this.store.get(checkId(id), options);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  /**
   * A job's parents (the jobs its request data `dependsOn` named) and children (jobs that wait, or waited, for
   * it; at most 1,000). Throws JobNotFoundError for an unknown id.
   */
  async dependencies(id: number): Promise<JobDependencies> {
    await this.get(id);
    return this.store.dependencies(id);
  }

  /** Jobs by status, newest first; without statuses, QUEUED only (as KIE). */
  listByStatus(options: ListOptions = {}): Promise<Job[]> {
    return this.list({ by: 'status' }, options, ['QUEUED'], 'desc');
  }

  /** Jobs with this business key, oldest first; without statuses, all. */
  listByBusinessKey(businessKey: string, options: ListOptions = {}): Promise<Job[]> {
    return this.list({ by: 'businessKey', value: businessKey }, options, [], 'asc');
  }

  /** Jobs of this command, oldest first; without statuses, all. */
  listByCommand(command: string, options: ListOptions = {}): Promise<Job[]> {
    return this.list({ by: 'command', value: command }, options, [], 'asc');
  }

  /** Jobs of this container, oldest first; without statuses, QUEUED only (as KIE). */
  listByContainer(containerId: string, options: ListOptions = {}): Promise<Job[]> {
    return this.list({ by: 'container', value: containerId }, options, ['QUEUED'], 'asc');
  }

  /** Jobs of this process instance, oldest first; without statuses, QUEUED only (as KIE). */
  listByProcessInstance(processInstanceId: number, options: ListOptions = {}): Promise<Job[]> {
    if (!Number.isSafeInteger(processInstanceId)) {
      throw new ValidationError(`process instance id must be a whole number, got ${processInstanceId}`);
    }
    return this.list({ by: 'processInstance', value: processInstanceId }, options, ['QUEUED'], 'asc');
  }

  /**
   * Cancels a QUEUED, RETRYING or ERROR job; throws InvalidStateError otherwise (as KIE). With `evenRunning` (a kjobs
   * extension), a RUNNING job too: its command's `signal` fires with a JobCancelledError (at once on this node;
   * on another, at its worker's next lease renewal, within half a heartbeat), and its outcome is not written.
   */
  async cancel(id: number, { evenRunning = false }: { evenRunning?: boolean } = {}): Promise<Job> {
    const job = await this.store.cancel(checkId(id), this.clock.now(), { evenRunning });
    if (evenRunning) void this.executor?.stopLost([job.id], 'cancelled');
    this.emit('cancelled', job);
    this.emit('finished', job.id, 'CANCELLED');
    return job;
  }

  /**
   * Puts a job that is not DONE or CANCELLED back in the queue. It keeps its scheduled time (as KIE): an ERROR job
   * whose time has passed runs at once, a future one waits for it. Retries are not reset (as KIE).
   */
  async requeue(id: number): Promise<Job> {
    const job = await this.store.requeue(checkId(id), this.clock.now());
    this.wakeWorkers();
    return job;
  }

  /**
   * Pauses a command or a container across every node of the store, until resumed (kept across restarts): its
   * running jobs finish, none of its jobs starts; scheduling goes on. Pausing what is paused changes nothing.
   */
  async pause(target: FlowTarget): Promise<void> {
    const checked = checkFlowTarget(target);
    const known =
      checked.kind === 'command'
        ? this.registry.hasCommand(checked.name)
        : this.registry.hasContainer(checked.name);
    if (!known) throw new UnknownFlowTargetError(checked.kind, checked.name);
    const paused = await this.store.listPaused();
    const already = paused.some((each) => each.kind === checked.kind && each.name === checked.name);
    if (!already && paused.length >= MAX_PAUSED) {
      throw new ValidationError(
        `${paused.length} commands and containers are paused, the most there may be (${MAX_PAUSED}): resume some first`,
      );
    }
    await this.store.pause(checked, this.clock.now());
  }

  /** Resumes a paused command or container; its due jobs start at once. Answers whether it was paused. */
  async resume(target: FlowTarget): Promise<boolean> {
    const resumed = await this.store.resume(checkFlowTarget(target));
    this.wakeWorkers();
    return resumed;
  }

  /** The paused commands and containers, by kind then name. */
  listPaused(): Promise<PausedTarget[]> {
    return this.store.listPaused();
  }

  /**
   * Merges `data` into a QUEUED, RETRYING or ERROR job's request data. A `containerId` (as KIE's REST API takes)
   * must be a loaded container.
   */
  async updateData(id: number, data: DataMap, { containerId }: { containerId?: string } = {}): Promise<Job> {
    if (containerId !== undefined && !this.registry.hasContainer(containerId)) {
      throw new ValidationError(`No container found for id ${containerId}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new ValidationError('the data to merge must be a map of names to values');
    }
    // The same rules as scheduling: the executor reads these keys when it runs the job.
    const normalized = normalizeRequestData(data, { update: true });
    const job = await this.get(id, { withData: true });
    this.registry.validateCallbacks(callbacksOf(normalized), job.containerId);
    this.checkDataSize({ ...job.requestData, ...normalized }, 'request-data after this update');
    return this.store.updateData(checkId(id), normalized);
  }

  private checkDataSize(data: DataMap, what: string): void {
    const bytes = Buffer.byteLength(JSON.stringify(data));
    if (bytes > this.maxDataBytes) {
      throw new ValidationError(
        `${what} is ${bytes} bytes, more than the limit of ${this.maxDataBytes} bytes (maxDataBytes, --max-data-size)`,
      );
    }
  }

  countByStatus(): Promise<StatusCounts> {
    return this.store.countByStatus();
  }

  /**
   * Jobs finished (DONE, ERROR) and waiting (QUEUED + RETRYING) over the last hour by minute, or the last 24 hours
   * by hour, from the statistics the executor samples (see StatsSampler).
   */
  async stats(range: StatsRange | string = 'hour', now = this.clock.now()): Promise<JobStats> {
    if (!Object.hasOwn(STATS_RANGES, range)) {
      throw new ValidationError(`range must be ${Object.keys(STATS_RANGES).join(' or ')}, got ${range}`);
    }
    const known = range as StatsRange;
    const window = statsWindow(known, now);
    const minutes = await this.store.readStats(window.from, window.to);
    return { range: known, ...window, points: statsPoints(known, now, minutes) };
  }

  /** Counts per status, runs of the last hour, failure rate and run-duration percentiles, by command or container. */
  async breakdown(by: 'command' | 'container' | string, now = this.clock.now()): Promise<BreakdownRow[]> {
    if (by !== 'command' && by !== 'container') {
      throw new ValidationError(`by must be command or container, got ${by}`);
    }
    return breakdownRows(await this.store.breakdown(by, now - 3_600_000));
  }

  /** A job with its errors, and its timeline: creation, every attempt, cancels and requeues, the next run. */
  async timeline(id: number): Promise<{ job: Job; timeline: TimelineEntry[] }> {
    const job = await this.get(id, { withErrors: true });
    return { job, timeline: jobTimeline(job, await this.store.actionsOf(job.id)) };
  }

  /** Cancels many jobs in one transaction (default: the QUEUED ones of a filter); see BulkResult. */
  bulkCancel(selection: BulkJobSelection): Promise<BulkResult> {
    return this.bulk('cancel', selection, ['QUEUED']);
  }

  /** Requeues many jobs in one transaction (default: the ERROR ones of a filter); see BulkResult. */
  async bulkRequeue(selection: BulkJobSelection): Promise<BulkResult> {
    const result = await this.bulk('requeue', selection, ['ERROR']);
    if (result.changed.length > 0) this.wakeWorkers();
    return result;
  }

  private async bulk(
    event: 'cancel' | 'requeue',
    selection: BulkJobSelection,
    defaultStatuses: JobStatus[],
  ): Promise<BulkResult> {
    const result = await this.store.bulk({
      event,
      selection: this.bulkSelection(event, selection, defaultStatuses),
      now: this.clock.now(),
      max: this.maxBulkJobs,
    });
    if (event === 'cancel' && result.changed.length > 0) {
      this.emit('cancelledMany', result.changedJobs);
      for (const id of result.changed) this.emit('finished', id, 'CANCELLED');
    }
    return result;
  }

  /** Checks a bulk selection once, for every caller. */
  private bulkSelection(
    event: 'cancel' | 'requeue',
    selection: BulkJobSelection,
    defaultStatuses: JobStatus[],
  ): BulkSelection {
    if (typeof selection !== 'object' || selection === null) {
      throw new ValidationError('a bulk action needs "ids" or a filter');
    }
    if ('ids' in selection) {
      if (!Array.isArray(selection.ids) || selection.ids.length === 0) {
        throw new ValidationError('"ids" must be a non-empty list of job ids');
      }
      return { ids: selection.ids.map((id) => checkId(id)) };
    }
    const given = (['businessKey', 'command', 'containerId', 'processInstanceId'] as const).filter(
      (key) => selection[key] !== undefined,
    );
    if (given.length > 1) {
      throw new ValidationError(
        `filter by one of businessKey, command, containerId, processInstanceId; got ${given.join(', ')}`,
      );
    }
    const statuses = normalizeStatuses(selection.status) ?? defaultStatuses;
    const refused = statuses.filter((status) => !canApply(event, status));
    if (refused.length > 0) {
      throw new ValidationError(
        `${event === 'cancel' ? 'Cancel' : 'Requeue'} takes ${allowedFrom(event).join(', ')} jobs, not ${refused.join(', ')}`,
      );
    }
    let filter: ListFilter = { by: 'status' };
    if (selection.businessKey !== undefined)
      filter = { by: 'businessKey', value: String(selection.businessKey) };
    if (selection.command !== undefined) filter = { by: 'command', value: String(selection.command) };
    if (selection.containerId !== undefined)
      filter = { by: 'container', value: String(selection.containerId) };
    if (selection.processInstanceId !== undefined) {
      if (!Number.isSafeInteger(selection.processInstanceId)) {
        throw new ValidationError(
          `processInstanceId must be a whole number, got ${selection.processInstanceId}`,
        );
      }
      filter = { by: 'processInstance', value: selection.processInstanceId };
    }
    return { filter, statuses };
  }

  /** Resolves with the job once it is DONE, ERROR or CANCELLED (or rejects after `timeoutMs`). */
  async waitFor(id: number, { timeoutMs = 30_000, pollMs = 200 } = {}): Promise<Job> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const job = await this.get(id, { withData: true, withErrors: true });
      if (isFinal(job.status)) return job;
      const left = deadline - this.clock.now();
      if (left <= 0) throw new Error(`Job ${id} is still ${job.status} after ${timeoutMs} ms`);
      // Its end on this node says so at once; the poll covers an end written elsewhere.
      await new Promise<void>((resolve) => {
        const done = () => {
          cancel();
          this.off('finished', onFinished);
          resolve();
        };
        const onFinished = (jobId: number) => jobId === id && done();
        const cancel = this.clock.after(Math.min(pollMs, left), done, { keepAlive: true });
        this.on('finished', onFinished);
      });
    }
  }

  private list(
    filter: ListFilter,
    options: ListOptions,
    defaultStatuses: JobStatus[],
    order: 'asc' | 'desc',
  ) {
    const statuses = normalizeStatuses(options.status) ?? defaultStatuses;
    const { offset, limit } = toOffset(options, this.maxPageSize);
    return this.store.list({ filter, statuses, order, offset, limit });
  }
}

/** Creates kjobs, prepares its store and loads its container modules; call start() to run jobs. */
export async function createKjobs(options: KjobsOptions = {}): Promise<Kjobs> {
  const modules = Object.fromEntries(
    Object.entries(options.containers ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  return new Kjobs(options).init(modules);
}

function normalizeStatuses(status: ListOptions['status']): JobStatus[] | undefined {
  if (status === undefined) return undefined;
  const list: JobStatus[] = [];
  for (const value of typeof status === 'string' ? [status] : status) {
    if (isJobStatus(value)) list.push(value);
    else {
      const hint = String(value).includes(',')
        ? '; give each status on its own (over HTTP, repeat the parameter: ?status=QUEUED&status=ERROR)'
        : '';
      throw new ValidationError(
        `Unknown status ${JSON.stringify(value)}: use ${JOB_STATUSES.join(', ')}${hint}`,
      );
    }
  }
  // Each status once: a request naming one 40,000 times is one condition, not 40,000 SQL parameters.
  return list.length ? [...new Set(list)] : undefined;
}

function toOffset(
  { page = 0, pageSize = DEFAULT_PAGE_SIZE }: Page,
  maxPageSize: number,
): { offset: number; limit: number } {
  if (!Number.isSafeInteger(page) || page < 0)
    throw new ValidationError(`page must be a whole number >= 0, got ${page}`);
  if (!Number.isSafeInteger(pageSize) || pageSize < 0) {
    throw new ValidationError(`pageSize must be a whole number >= 0, got ${pageSize}`);
  }
  if (pageSize > maxPageSize) {
    throw new ValidationError(
      `pageSize ${pageSize} is larger than the maximum page size ${maxPageSize} (--max-page-size): ` +
        'read larger lists page by page',
    );
  }
  const offset = page * pageSize;
  if (!Number.isSafeInteger(offset)) throw new ValidationError('page * pageSize is too large');
  return { offset, limit: pageSize };
}

function checkFlowTarget(target: FlowTarget): FlowTarget {
  if (target.kind !== 'command' && target.kind !== 'container') {
    throw new ValidationError(`pause or resume a command or a container, not ${JSON.stringify(target.kind)}`);
  }
  if (typeof target.name !== 'string' || target.name.length === 0 || target.name.length > 255) {
    throw new ValidationError(`a ${target.kind} to pause or resume needs a name of 1 to 255 characters`);
  }
  return { kind: target.kind, name: target.name };
}

/** The fields of `options` that are set. */
function definedOf<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id)) throw new ValidationError(`job id must be a whole number, got ${id}`);
  return id;
}
