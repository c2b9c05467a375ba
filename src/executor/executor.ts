import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import {
  afterFailure,
  callbacksOf,
  clampPriority,
  cronOf,
  nextCronTime,
  MESSAGE_REOCCURRING,
  retryDelaysOf,
  timeoutOf,
  type ClaimedJob,
  type DataMap,
  type NewJob,
} from '../core/index.js';
import type { CommandContext, CommandDefinition } from '../commands/command.js';
import { runGuarded } from './exit-guard.js';
import { relativeStackTrace } from '../core/stack-trace.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { Completion, ConcurrencyLimits, JobStore } from '../store/job-store.js';

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
  /** A claimed job's lease; renewed every third of it while the job runs. Default 30 s. */
  leaseMs?: number;
  /** Timeout of a run when the job's data names none (`timeout`); 0 for none. Default 0. */
  defaultTimeoutMs?: number;
  /** Retries of rescheduled reoccurring jobs that name none. Default 3. */
  defaultRetries?: number;
  /** This worker's id, unique among the workers sharing a store. Default host, pid and a random part. */
  workerId?: string;
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
  error: [error: Error];
}

interface Running {
  job: ClaimedJob;
  abort: AbortController;
}

/** With prefetch 'auto', jobs are prefetched while runs average less than this. */
const AUTO_PREFETCH_BELOW_MS = 20;
/** With prefetch 'auto', how much work (in run time) to hold prefetched, and at most how many jobs. */
const AUTO_PREFETCH_WORK_MS = 100;
const AUTO_PREFETCH_MAX = 200;

const DEFAULTS = {
  concurrency: 10,
  prefetch: 'auto' as number | 'auto',
  pollIntervalMs: 1000,
  leaseMs: 30_000,
  defaultTimeoutMs: 0,
  defaultRetries: 3,
  stopDeadlineMs: 10_000,
  maxResponseBytes: 1024 * 1024,
};

/** Raised into a command's signal and recorded as the attempt's error when a run takes too long. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

/** Recorded as the attempt's error when the worker that held a job is gone. */
export class WorkerLostError extends Error {
  override name = 'WorkerLostError';
}

/**
 * The worker pool: claims due jobs in batches, runs their commands, records each outcome by KIE's rules,
 * renews the leases of what it runs and rescues the jobs of workers that died.
 */
export class Executor extends EventEmitter<ExecutorEvents> {
  readonly workerId: string;
  private readonly options: typeof DEFAULTS & Pick<ExecutorOptions, 'executorId' | 'containers' | 'limits'>;
  private readonly log: Logger;
  private readonly running = new Map<number, Running>();
  private pending: { completion: Completion; job: ClaimedJob; settle: (written: boolean) => void }[] = [];
  private flushScheduled = false;
  private flushing = false;
  private pumpScheduled = false;
  /** Claimed jobs waiting for a free slot. */
  private prefetched: ClaimedJob[] = [];
  /** Moving average of run durations, for prefetch 'auto'; starts high so nothing is prefetched blindly. */
  private averageRunMs = Infinity;
  private flushRetry: NodeJS.Timeout | undefined;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly registry: CommandRegistry,
    options: ExecutorOptions = {},
  ) {
    super();
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.options = { ...DEFAULTS, ...defined };
    if (!Number.isInteger(this.options.concurrency) || this.options.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${this.options.concurrency}`);
    }
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ worker: this.workerId });
  }

  /** Stray errors of this executor's commands whose run had ended: logged, nothing left to fail. */
  private readonly reportLateError = (jobId: number, error: Error): void =>
    this.log.warn({ jobId, err: error }, 'command failed after its run ended (a stray callback or promise)');

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
    if (this.store.subscribe) this.unsubscribe = await this.store.subscribe(() => this.wake());
    const beat = Math.max(50, Math.floor(this.options.leaseMs / 3));
    this.heartbeat = setInterval(() => void this.maintain(), beat);
    this.heartbeat.unref();
    await this.rescueLostJobs();
    this.wake();
  }

  /** Looks for due jobs now: call after scheduling, or when told jobs are available. */
  wake(): void {
    if (this.state !== 'running') return;
    // setImmediate, not a 0 ms timer: Node runs those no sooner than 1 ms later, a third of an idle start.
    this.schedulePump();
  }

  /**
   * Stops claiming, lets running jobs finish within the deadline, then aborts the rest and gives them back
   * (QUEUED again) so another worker, or the next start, runs them.
   */
  async stop(deadlineMs = this.options.stopDeadlineMs): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    clearTimeout(this.wakeTimer);
    clearInterval(this.heartbeat);
    await this.unsubscribe?.();
    const deadline = Date.now() + deadlineMs;
    while (this.pumping && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // a claim in flight lands in `prefetched`
    }
    const prefetched = this.prefetched.splice(0);
    for (const job of prefetched) {
      void this.record(job, { kind: 'release', jobId: job.id, workerId: this.workerId, now: Date.now() });
    }
    const waitingFor = this.running.size;
    this.log.info(
      { running: waitingFor, prefetched: prefetched.length, deadlineMs },
      `executor stopping: waiting up to ${deadlineMs} ms for ${waitingFor} running job${waitingFor === 1 ? '' : 's'}`,
    );
    while (this.running.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const left = [...this.running.values()];
    const requeued = prefetched.length + left.length;
    this.log.info(
      { finished: waitingFor - left.length, requeued },
      `executor stopped: ${waitingFor - left.length} of ${waitingFor} running jobs finished, ` +
        `${requeued} job${requeued === 1 ? '' : 's'} back to QUEUED`,
    );
    for (const { job, abort } of left) {
      abort.abort(new Error('executor stopping'));
      void this.record(job, { kind: 'release', jobId: job.id, workerId: this.workerId, now: Date.now() });
    }
    await this.drain(Math.max(deadline, Date.now()) + 5000);
    clearTimeout(this.flushRetry);
    this.running.clear();
    this.state = 'stopped';
  }

  /** Claims again once this turn of the event loop is over, so slots freed together are claimed together. */
  private schedulePump(): void {
    if (this.state !== 'running' || this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private setWakeTimer(delay: number): void {
    const at = Date.now() + delay;
    if (this.wakeTimer && at >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      void this.pump();
    }, delay);
  }

  /**
   * Starts prefetched jobs in free slots, claims what is missing (free slots plus the prefetch), and sets the
   * timer for the next due job.
   */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.state !== 'running') return;
        this.startPrefetched();
        const free = this.options.concurrency - this.running.size;
        const target = this.prefetchTarget();
        // With every slot busy, claim only once the prefetched jobs are down to half, then fill them up whole:
        // claims then bring many jobs at once, instead of topping up the few that just started.
        if (free <= 0 && this.prefetched.length > target / 2) return; // a finishing job pumps again
        const want = free + target - this.prefetched.length;
        if (want <= 0) return;
        const now = Date.now();
        const jobs = await this.store.claim({
          workerId: this.workerId,
          limit: want,
          now,
          leaseMs: this.options.leaseMs,
          owner: this.options.executorId,
          containers: this.options.containers ?? this.registry.containerIds(),
          limits: this.options.limits,
        });
        if (this.state !== 'running') {
          this.prefetched.push(...jobs); // stop() gives them back
          return;
        }
        this.prefetched.push(...jobs);
        this.startPrefetched();
        if (jobs.length === want) this.pumpAgain = true;
        else if (jobs.length === 0 || this.running.size === 0) await this.sleepUntilNextDue(now);
        // Else jobs are running and their ends claim again; the poll timer covers jobs due meanwhile.
        else this.setWakeTimer(this.options.pollIntervalMs);
      } while (this.pumpAgain);
    } catch (error) {
      this.emitError(error);
      this.setWakeTimer(this.options.pollIntervalMs);
    } finally {
      this.pumping = false;
    }
  }

  private startPrefetched(): void {
    while (this.running.size < this.options.concurrency && this.prefetched.length > 0) {
      this.run(this.prefetched.shift()!);
    }
  }

  /**
   * How many jobs to hold claimed beyond the free slots, so that a finishing job's slot is refilled without a
   * round trip to the store. With 'auto', only while recent runs are short: long jobs would hold the
   * prefetched ones back from other workers.
   */
  private prefetchTarget(): number {
    const prefetch = this.options.prefetch;
    if (prefetch !== 'auto') return prefetch;
    if (!(this.averageRunMs < AUTO_PREFETCH_BELOW_MS)) return 0;
    // About AUTO_PREFETCH_WORK_MS of work: no-op jobs fill it to the cap, 10 ms jobs to ten per slot.
    const perSlot = AUTO_PREFETCH_WORK_MS / Math.max(this.averageRunMs, 0.5);
    const { concurrency } = this.options;
    return Math.min(AUTO_PREFETCH_MAX, Math.max(concurrency, Math.round(concurrency * perSlot)));
  }

  private async sleepUntilNextDue(now: number): Promise<void> {
    const next = await this.store.nextDueAt();
    const delay =
      next === null
        ? this.options.pollIntervalMs
        : Math.min(Math.max(next - now, 0), this.options.pollIntervalMs);
    // A due job we did not get (owned elsewhere, another container) would spin the loop: wait a little then.
    this.setWakeTimer(next !== null && next <= now ? Math.min(50, this.options.pollIntervalMs) : delay);
  }

  private run(job: ClaimedJob): void {
    const abort = new AbortController();
    job.startedAt = Date.now(); // a prefetched job starts now, not when it was claimed
    this.running.set(job.id, { job, abort });
    this.emit('started', job);
    void this.execute(job, abort).catch((error: unknown) => this.emitError(error));
  }

  private async execute(job: ClaimedJob, abort: AbortController): Promise<void> {
    const log = this.log.child({ jobId: job.id, command: job.command });
    const context: CommandContext = {
      jobId: job.id,
      data: structuredClone(job.requestData),
      attempt: job.executions,
      businessKey: job.businessKey,
      containerId: job.containerId,
      scheduledAt: job.scheduledAt,
      signal: abort.signal,
      log,
    };
    const command = this.registry.resolve(job.command, job.containerId);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!command) {
        throw new Error(`Unknown Command implementation with name '${job.command}'`);
      }
      const timeoutMs = timeoutOf(job.requestData) ?? this.options.defaultTimeoutMs;
      const timedOut =
        timeoutMs > 0
          ? new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                const error = new JobTimeoutError(`Job ${job.id} timed out after ${timeoutMs} ms`);
                abort.abort(error);
                reject(error);
              }, timeoutMs);
            })
          : undefined;
      const runPromise = runGuarded(
        job.id,
        () => Promise.resolve().then(() => command.run(context)),
        this.reportLateError,
      );
      const result = await (timedOut ? Promise.race([runPromise, timedOut]) : runPromise);
      clearTimeout(timer);
      const ms = Date.now() - (job.startedAt ?? Date.now());
      const responseData = toResponseData(result, this.options.maxResponseBytes);
      const written = await this.record(job, {
        kind: 'succeed',
        jobId: job.id,
        workerId: this.workerId,
        now: Date.now(),
        responseData,
        reschedule: this.nextOccurrence(job, command),
      });
      if (written) {
        log.info({ status: 'DONE', ms }, 'job done');
        this.emit('completed', job, responseData);
        await this.runCallbacks(job, context, (callback) => callback.onCommandDone?.(context, responseData));
      }
    } catch (thrown) {
      clearTimeout(timer);
      const error = toError(thrown);
      await this.recordFailure(job, error, command, context, log);
    }
  }

  private async recordFailure(
    job: ClaimedJob,
    error: Error,
    command: CommandDefinition | undefined,
    context: CommandContext | undefined,
    log: Logger,
  ): Promise<void> {
    const now = Date.now();
    const outcome = afterFailure(job, retryDelaysOf(job.requestData), now);
    const final = outcome.status === 'ERROR';
    const written = await this.record(job, {
      kind: final ? 'fail' : 'retry',
      jobId: job.id,
      workerId: job.workerId,
      now,
      error: {
        message: error.message,
        stacktrace: relativeStackTrace(error.stack ?? String(error), process.cwd()),
      },
      retries: outcome.retries,
      scheduledAt: outcome.scheduledAt,
      reschedule: final && command ? this.nextOccurrence(job, command) : undefined,
    });
    if (!written) return;
    log.warn(
      { status: outcome.status, ms: now - (job.startedAt ?? now), retriesLeft: outcome.retries, err: error },
      final ? 'job failed' : 'job will be retried',
    );
    this.emit(final ? 'failed' : 'retrying', job, error);
    if (final && context) {
      await this.runCallbacks(job, context, (callback) => callback.onCommandError?.(context, error));
    }
  }

  /** The next occurrence of a reoccurring command, as a new job (KIE: "Rescheduled reoccurring job"). */
  private nextOccurrence(job: ClaimedJob, command: CommandDefinition): NewJob | undefined {
    const now = Date.now();
    let next: Date | number | null | undefined;
    try {
      const cron = cronOf(job.requestData);
      // From now, not from the missed time: occurrences missed while nothing ran are run once, not many times.
      if (cron) next = nextCronTime(cron, now);
      else if (command.nextRunAt) next = command.nextRunAt({ data: job.requestData, jobId: job.id, now });
      else return undefined;
    } catch (error) {
      this.log.warn({ jobId: job.id, err: error }, 'reoccurring command gave no next run');
      return undefined;
    }
    if (next === null || next === undefined) return undefined;
    const at = next instanceof Date ? next.getTime() : next;
    if (!Number.isFinite(at)) return undefined;
    const retries = Number(job.requestData.retries);
    return {
      command: job.command,
      businessKey: job.businessKey,
      containerId: job.containerId,
      processInstanceId: job.processInstanceId,
      owner: job.owner,
      priority: clampPriority(job.priority),
      retries: Number.isInteger(retries) && retries >= 0 ? retries : this.options.defaultRetries,
      scheduledAt: Math.max(at, now),
      message: MESSAGE_REOCCURRING,
      requestData: job.requestData,
    };
  }

  private async runCallbacks(
    job: ClaimedJob,
    _context: CommandContext,
    call: (callback: import('../commands/command.js').CommandCallback) => unknown,
  ): Promise<void> {
    let names: string[];
    try {
      names = callbacksOf(job.requestData);
    } catch {
      return;
    }
    for (const name of names) {
      const callback = this.registry.resolveCallback(name, job.containerId);
      if (!callback) {
        this.log.warn({ jobId: job.id, callback: name }, 'unknown callback');
        continue;
      }
      try {
        await call(callback);
      } catch (error) {
        this.log.warn({ jobId: job.id, callback: name, err: error }, 'callback failed');
      }
    }
  }

  /**
   * Queues an outcome. The job's slot is free at once, so the next claim overlaps the write; outcomes are
   * written one batch at a time, and those that arrive during a write go together in the next one.
   */
  private record(job: ClaimedJob, completion: Completion): Promise<boolean> {
    return new Promise((settle) => {
      this.pending.push({ completion, job, settle });
      if (completion.workerId === this.workerId && this.running.delete(job.id)) {
        const ms = Date.now() - (job.startedAt ?? Date.now());
        this.averageRunMs = this.averageRunMs === Infinity ? ms : this.averageRunMs * 0.9 + ms * 0.1;
        this.schedulePump();
      }
      if (!this.flushing && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        let written: boolean[];
        try {
          written = await this.store.complete(batch.map((item) => item.completion));
        } catch (error) {
          if (this.state === 'stopped') {
            // A run that ended after stop() gave it back: its job is QUEUED again, or will be rescued.
            batch.forEach((item) => item.settle(false));
            continue;
          }
          // The store is unreachable: keep the outcomes and try again; the leases cover the jobs meanwhile.
          this.emitError(error);
          this.pending.unshift(...batch);
          this.flushRetry = setTimeout(() => void this.flush(), Math.min(this.options.pollIntervalMs, 1000));
          this.flushRetry.unref();
          return;
        }
        batch.forEach((item, index) => {
          const ok = written[index] ?? false;
          if (!ok && item.completion.kind !== 'release' && item.completion.workerId === this.workerId) {
            this.emit('superseded', item.job);
          }
          item.settle(ok);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Waits until every recorded outcome is written, or `deadline` passes (the store may be down). */
  private async drain(deadline: number): Promise<void> {
    while ((this.pending.length > 0 || this.flushing) && Date.now() < deadline) {
      if (!this.flushing) await this.flush();
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Renews leases of running jobs and rescues jobs whose worker is gone. */
  private async maintain(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      if (this.running.size > 0) {
        await this.store.renewLeases(
          this.workerId,
          [...this.running.keys(), ...this.prefetched.map((job) => job.id)],
          Date.now() + this.options.leaseMs,
        );
      }
      await this.rescueLostJobs();
    } catch (error) {
      this.emitError(error);
    }
  }

  /** A RUNNING job whose lease expired lost its worker: the attempt failed, and the retry rules apply. */
  private async rescueLostJobs(): Promise<void> {
    const lost = await this.store.findExpiredLeases(Date.now(), 100);
    for (const job of lost) {
      if (this.running.has(job.id)) continue; // ours, renewed late
      const error = new WorkerLostError(
        `Worker ${job.workerId} was lost while running job ${job.id} (lease expired); attempt counted as failed`,
      );
      error.stack = `${error.name}: ${error.message}`;
      this.emit('rescued', job);
      await this.recordFailure(
        job,
        error,
        this.registry.resolve(job.command, job.containerId),
        undefined,
        this.log,
      );
    }
  }

  private emitError(error: unknown): void {
    const err = toError(error);
    this.log.error({ err }, 'executor error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : `Command threw ${JSON.stringify(thrown)}`);
}

/** A command's result as response data: a map, or an empty map for nothing. Refuses what cannot be stored. */
function toResponseData(result: unknown, maxBytes: number): DataMap {
  if (result === undefined || result === null) return {};
  if (typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(
      `Command returned ${Array.isArray(result) ? 'an array' : typeof result}; expected a map of response data`,
    );
  }
  // Must survive a JSON round trip to be stored (no cycles, no BigInt).
  const json = JSON.stringify(result);
  // A giant result would be stored, then block every read of the job: the attempt fails instead.
  if (Buffer.byteLength(json) > maxBytes) {
    throw new RangeError(
      `Command returned ${Buffer.byteLength(json)} bytes of response data, more than the limit of ${maxBytes} ` +
        'bytes (maxDataBytes, --max-data-size): store large results elsewhere and return a reference',
    );
  }
  return JSON.parse(json) as DataMap;
}
