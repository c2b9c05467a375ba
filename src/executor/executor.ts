import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import { deadline, systemClock, type ClaimedJob, type Clock, type DataMap } from '../core/index.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { Completion, ConcurrencyLimits, LimitReport } from '../store/job-store.js';
import type { JobSource } from './job-source.js';
import { hasLimits } from '../store/limits.js';
import { JobFetcher } from './job-fetcher.js';
import { JobCancelledError, JobRunner, toError } from './job-runner.js';
import { LeaseKeeper, WorkerLostError } from './lease-keeper.js';
import { OutcomeWriter } from './outcome-writer.js';
import { checkNodeId, newWorkerId, ownIdentity } from './worker-identity.js';

export { JobCancelledError, JobTimeoutError, UnrecoverableError } from './job-runner.js';
export { WorkerLostError } from './lease-keeper.js';

/** Options of the worker pool; every field has a default. */
export interface ExecutorOptions {
  /** Jobs run at once by this executor. Default 10. */
  concurrency?: number;
  /**
   * Jobs to claim ahead of free slots (each held under a lease, RUNNING, until a slot frees), or 'auto'
   * (default): while recent runs are short (under 20 ms on average), about 100 ms of work (at least the
   * concurrency, at most 200 jobs); none otherwise.
   */
  prefetch?: number | 'auto';
  /** Longest wait between looks for due jobs when nothing wakes the executor. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * The heartbeat. Every half heartbeat a worker renews the leases of the jobs it holds, and a lease lasts 1.5
   * heartbeats after its last renewal; every quarter heartbeat it looks for lost workers. So the jobs of a dead
   * worker run again within 2 heartbeats (1.75 and the time to claim them) of its death (at once when it died on this host: see worker-identity.ts), and a worker that cannot renew for
   * a whole heartbeat (its event loop blocked, the store out of reach) may lose its jobs to another worker.
   * Default 5 s.
   */
  heartbeatMs?: number;
  /** A claimed job's lease, renewed every half heartbeat. Default 1.5 heartbeats (given alone, sets the heartbeat to 2/3 of it). */
  leaseMs?: number;
  /** Where the executor reads the time (tests inject one that is off). Default: the system clock. */
  clock?: Clock;
  /** Timeout of a run when the job's data names none (`timeout`); 0 for none. Default 0. */
  defaultTimeoutMs?: number;
  /** Retries of rescheduled reoccurring jobs that name none. Default 3. */
  defaultRetries?: number;
  /**
   * This worker's id, unique among the workers sharing a store. Default host, pid and a random part, and on Linux
   * what proves the process dead to a worker on the same host (worker-identity.ts).
   */
  workerId?: string;
  /**
   * This node's name, kept across its restarts (a StatefulSet pod's name, a name per machine): the first part of
   * its worker ids. A starting worker rescues at once the jobs that earlier workers of its node still hold when
   * their lock in the store is free, e.g. after its container was restarted. Default: the host name.
   */
  nodeId?: string;
  /** This executor's id for KIE's `owner` key: it also runs jobs owned by this id. */
  executorId?: string;
  /** Only run jobs of these containers (and jobs without one). Default: the registry's containers. */
  containers?: readonly string[];
  /** At most this many jobs of a command or container running at once, across all workers of the store. */
  limits?: ConcurrencyLimits;
  /** How long stop() lets running jobs finish before aborting and releasing them. Default 10 s. */
  stopDeadlineMs?: number;
  /** Largest response data a command may return, in bytes of its JSON; larger fails the attempt. Default 1 MiB. */
  maxResponseBytes?: number;
  /** At most one write of a job's progress (`ctx.progress`) in this interval. Default 1000 ms. */
  progressIntervalMs?: number;
  logger?: Logger;
}

/** Events of the executor, one per state change it makes. */
export interface ExecutorEvents {
  started: [job: ClaimedJob];
  completed: [job: ClaimedJob, responseData: DataMap];
  retrying: [job: ClaimedJob, error: Error];
  failed: [job: ClaimedJob, error: Error];
  rescued: [job: ClaimedJob];
  /** A run's outcome was not written: the job was requeued or rescued while it ran. */
  superseded: [job: ClaimedJob];
  /** What the limits did in a claim of this executor: each limit in play, what it held back. */
  limits: [report: LimitReport];
  error: [error: Error];
}

interface Running {
  job: ClaimedJob;
  abort: AbortController;
}

const DEFAULTS = {
  concurrency: 10,
  prefetch: 'auto' as number | 'auto',
  pollIntervalMs: 1000,
  heartbeatMs: 5000,
  leaseMs: 7500,
  clock: systemClock,
  defaultTimeoutMs: 0,
  defaultRetries: 3,
  stopDeadlineMs: 10_000,
  maxResponseBytes: 1024 * 1024,
};

/**
 * The worker pool: its fetcher claims due jobs in batches, its runner runs their commands and decides each
 * outcome by KIE's rules, its writer writes the outcomes in batches, and its lease keeper renews the leases of
 * what it runs and rescues the jobs of workers that died. The executor owns the slots and the life cycle.
 */
export class Executor extends EventEmitter<ExecutorEvents> {
  readonly workerId: string;
  private readonly options: typeof DEFAULTS & Pick<ExecutorOptions, 'executorId' | 'containers' | 'limits'>;
  private readonly log: Logger;
  private readonly running = new Map<number, Running>();
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly fetcher: JobFetcher;
  private readonly runner: JobRunner;
  private readonly writer: OutcomeWriter;
  private readonly leaseKeeper: LeaseKeeper;
  /** While stop() waits for running jobs: told each time a slot frees. */
  private slotFreed: (() => void) | undefined;

  constructor(
    private readonly store: JobSource,
    private readonly registry: CommandRegistry,
    options: ExecutorOptions = {},
  ) {
    super();
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...DEFAULTS, ...defined };
    if (options.heartbeatMs === undefined && options.leaseMs !== undefined) {
      this.options.heartbeatMs = Math.round(options.leaseMs / 1.5);
    } else if (options.leaseMs === undefined) {
      this.options.leaseMs = Math.round(this.options.heartbeatMs * 1.5);
    }
    if (!(this.options.heartbeatMs >= 100) || !(this.options.leaseMs > this.options.heartbeatMs / 2)) {
      throw new RangeError(
        `heartbeat must be at least 100 ms and the lease longer than half of it, got ${this.options.heartbeatMs} and ${this.options.leaseMs}`,
      );
    }
    if (!Number.isInteger(this.options.concurrency) || this.options.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${this.options.concurrency}`);
    }
    this.workerId =
      options.workerId ??
      newWorkerId(ownIdentity(), options.nodeId === undefined ? undefined : checkNodeId(options.nodeId));
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ worker: this.workerId });
    const reportError = (error: unknown): void => this.reportError(error);
    this.fetcher = new JobFetcher(
      store,
      {
        workerId: this.workerId,
        isRunning: () => this.isRunning,
        runningCount: () => this.running.size,
        startJob: (job) => this.startJob(job),
        reportError,
        reportLimits: (report) => this.emit('limits', report),
      },
      {
        ...this.options,
        containers: () => this.options.containers ?? this.registry.containerIds(),
      },
    );
    this.runner = new JobRunner(
      registry,
      {
        workerId: this.workerId,
        writeOutcome: (job, completion) => this.writeOutcome(job, completion),
        emitCompleted: (job, responseData: DataMap) => this.emit('completed', job, responseData),
        emitFailedAttempt: (job, error, final) => this.emit(final ? 'failed' : 'retrying', job, error),
        writeProgress: (job, report, at) => store.setProgress(job.id, this.workerId, report, at),
        parentsOf: async (job) =>
          (await store.dependencies(job.id, { withData: true, childLimit: 0 })).parents.map((parent) => ({
            id: parent.id,
            command: parent.command,
            status: parent.status,
            responseData: parent.responseData ?? null,
          })),
      },
      this.options,
      this.log,
    );
    this.writer = new OutcomeWriter(
      store,
      {
        workerId: this.workerId,
        isStopped: () => this.state === 'stopped',
        onSuperseded: (job) => this.emit('superseded', job),
        onUnwritable: (job, error) =>
          this.log.error(
            { jobId: job.id, command: job.command, err: error },
            `the store refused every outcome of job ${job.id}, even recording the failure; it stays RUNNING ` +
              'and this worker leaves it alone: see the error, then cancel or requeue it',
          ),
        reportError,
      },
      Math.min(this.options.pollIntervalMs, 1000),
      this.options.clock,
    );
    this.leaseKeeper = new LeaseKeeper(
      store,
      {
        workerId: this.workerId,
        isRunning: () => this.isRunning,
        runningIds: () => [...this.running.keys()],
        // Ours, or one whose outcome the store refused every time (rescuing it would fail the same way).
        isRunningHere: (jobId) => this.running.has(jobId) || this.writer.isUnwritable(jobId),
        prefetchedIds: () => this.fetcher.prefetchedIds(),
        failLostAttempt: async (job, error) => {
          await this.runner.recordFailedAttempt(
            job,
            error,
            this.registry.resolve(job.command, job.containerId),
            undefined,
          );
        },
        emitRescued: (job) => this.emit('rescued', job),
        onLost: (jobIds) => void this.stopLost(jobIds),
        reportError,
      },
      {
        beatMs: Math.max(25, Math.floor(this.options.heartbeatMs / 4)),
        leaseMs: this.options.leaseMs,
        clock: this.options.clock,
      },
    );
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Jobs running now. */
  get activeCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    this.state = 'running';
    await this.leaseKeeper.start(); // first: this worker's lock is held before it claims anything
    if (this.store.subscribe) this.unsubscribe = await this.store.subscribe(() => this.wake());
    this.wake();
  }

  /** Looks for due jobs now: call after scheduling, or when told jobs are available. */
  wake(): void {
    if (this.state !== 'running') return;
    this.fetcher.fetchSoon();
  }

  /**
   * Stops claiming, lets running jobs finish within the deadline, then aborts the rest and gives them back
   * (QUEUED again) so another worker, or the next start, runs them.
   */
  async stop(deadlineMs = this.options.stopDeadlineMs): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const due = deadline(this.options.clock, deadlineMs);
    void due.reached.then(() => this.slotFreed?.());
    this.fetcher.stop();
    await this.unsubscribe?.();
    await Promise.race([this.fetcher.idle(), due.reached]); // a claim in flight lands among the prefetched
    const prefetched = this.fetcher.takePrefetched();
    for (const job of prefetched) void this.giveBack(job);
    const waitingFor = this.running.size;
    this.log.info(
      { running: waitingFor, prefetched: prefetched.length, deadlineMs },
      `executor stopping: waiting up to ${deadlineMs} ms for ${waitingFor} running job${waitingFor === 1 ? '' : 's'}`,
    );
    while (this.running.size > 0 && !due.passed()) {
      await new Promise<void>((resolve) => (this.slotFreed = resolve));
    }
    this.slotFreed = undefined;
    due.cancel();
    const left = [...this.running.values()];
    const requeued = prefetched.length + left.length;
    this.log.info(
      { finished: waitingFor - left.length, requeued },
      `executor stopped: ${waitingFor - left.length} of ${waitingFor} running jobs finished, ` +
        `${requeued} job${requeued === 1 ? '' : 's'} back to QUEUED`,
    );
    for (const { job, abort } of left) {
      abort.abort(new Error('executor stopping'));
      void this.giveBack(job);
    }
    await this.writer.waitUntilWritten(5000);
    // Only now: the jobs that ran on through the deadline kept their leases, or another worker would rescue them.
    await this.leaseKeeper.stop();
    this.writer.stopRetrying();
    await this.leaseKeeper.release(); // last: while it holds jobs, its lock says it lives
    this.running.clear();
    this.state = 'stopped';
  }

  /**
   * Stops jobs this worker no longer holds: a prefetched one is dropped, a running one's signal fires (its outcome
   * will be refused). Cancelled ones (a kjobs extension: cancel of a RUNNING job) with a JobCancelledError.
   */
  async stopLost(jobIds: readonly number[], reason?: 'cancelled'): Promise<void> {
    this.fetcher.dropPrefetched(jobIds);
    for (const id of jobIds) {
      const running = this.running.get(id);
      if (!running) continue;
      const status =
        reason === 'cancelled' ? 'CANCELLED' : (await this.store.get(id).catch(() => undefined))?.status;
      const error =
        status === 'CANCELLED'
          ? new JobCancelledError(`Job ${id} was cancelled while it ran`)
          : new WorkerLostError(
              `Job ${id} is no longer held by this worker (requeued, or rescued elsewhere)`,
            );
      this.log.info({ jobId: id, reason: error.message }, 'stopping a job this worker no longer holds');
      running.abort.abort(error);
    }
  }

  /** Runs a claimed job in a free slot. */
  private startJob(job: ClaimedJob): void {
    const abort = new AbortController();
    job.startedAt = this.options.clock.now(); // a prefetched job starts now, not when it was claimed
    this.running.set(job.id, { job, abort });
    this.emit('started', job);
    void this.runner.runJob(job, abort).catch((error: unknown) => this.reportError(error));
  }

  /** Releases a job this worker holds: QUEUED again, for another worker or the next start. */
  private giveBack(job: ClaimedJob): Promise<boolean> {
    return this.writeOutcome(job, {
      kind: 'release',
      jobId: job.id,
      workerId: this.workerId,
      now: this.options.clock.now(),
    });
  }

  /**
   * Frees the job's slot (a claim then overlaps the write) and queues its outcome for the writer; resolves to
   * whether the store wrote it.
   */
  private writeOutcome(job: ClaimedJob, completion: Completion): Promise<boolean> {
    if (completion.workerId === this.workerId && this.running.delete(job.id)) {
      const now = this.options.clock.now();
      this.fetcher.addRunDuration(now - (job.startedAt ?? now));
      this.fetcher.fetchSoon();
      this.slotFreed?.();
    }
    const written = this.writer.write(job, completion);
    // With limits, the claim made as the slot freed may have counted this job as still RUNNING: claim again once
    // its outcome is written, so a job held back by it starts now rather than at the next poll.
    if (hasLimits(this.options.limits)) void written.then(() => this.fetcher.fetchSoon());
    return written;
  }

  private reportError(error: unknown): void {
    const err = toError(error);
    this.log.error({ err }, 'executor error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
