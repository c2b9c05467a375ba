/**
 * The server side of the worker protocol (docs/workers.md): workers outside this process (another machine,
 * another language: the Java worker of workers/java, `kjobs worker --url`) claim the jobs of remote containers with
 * a long poll, renew their leases, report progress, and end each attempt; every rule of the in-process executor
 * holds (the store's claim: priorities, limits, pauses, dependencies; KIE's retry rule; fencing on the lease).
 * HTTP, authentication and grants are the route's (http/routes/workers.ts); this is the jobs' side.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  afterFailure,
  cronOf,
  deadline,
  isFinal,
  JobNotFoundError,
  nextCronTime,
  nextOccurrenceOf,
  retryDelaysOf,
  ValidationError,
  type ClaimedJob,
  type Clock,
  type DataMap,
  type Job,
  type JobStatus,
  type NewJob,
} from '../core/index.js';
import type { CommandRegistry } from '../commands/registry.js';
import { PeriodicTask } from '../executor/periodic-task.js';
import type { Completion, ConcurrencyLimits, JobStore, ProgressReport } from '../store/job-store.js';

/** The most jobs one claim may ask for, and the longest wait of a long poll. */
export const MAX_CLAIM = 100;
export const MAX_WAIT_MS = 60_000;

/** What a worker asks for in a claim. */
export interface RemoteClaim {
  /** The worker's name (shown in the jobs' worker field). */
  worker: string;
  /** The worker process's session (random, its own): `leave` gives back what was claimed under it. */
  session?: string;
  /** The remote containers it serves (already checked against its grants). */
  containers: readonly string[];
  /** Only commands matching these patterns; undefined: every command of the containers. */
  commands?: readonly string[];
  max: number;
  waitMs: number;
  /** Fires when the worker stops waiting (its request was closed). */
  signal?: AbortSignal;
}

/** A claimed job as a worker receives it (docs/workers.md). */
export interface RemoteJob {
  id: number;
  command: string;
  containerId: string | null;
  businessKey: string | null;
  processInstanceId: number | null;
  attempt: number;
  retries: number;
  scheduledAt: number;
  requestData: DataMap;
  lease: string;
  leaseExpiresAt: number;
  parents: { id: number; command: string; status: JobStatus; responseData: DataMap | null }[];
}

/** What the server answers about one job of a heartbeat. */
export interface HeartbeatAnswer {
  id: number;
  held: boolean;
  cancelled: boolean;
  leaseExpiresAt: number | null;
}

export interface RemoteWorkersOptions {
  store: JobStore;
  registry: CommandRegistry;
  clock: Clock;
  logger: Logger;
  /** The heartbeat workers keep (leases last 1.5 of it). */
  heartbeatMs: number;
  /** Limits across every worker of the store (the in-process executors' too). */
  limits?: ConcurrencyLimits;
  /** Retries of a next occurrence whose data names none. */
  defaultRetries: number;
  /** Largest response data, in bytes of its JSON. */
  maxDataBytes: number;
  /** Rescue the jobs of remote workers whose lease ran out (when no executor of this node does it). */
  rescue: boolean;
  /** Told when an attempt ended (for the instance's events). */
  onEnded?: (job: Job, status: JobStatus) => void;
}

/** RUNNING jobs read per page when a worker leaves. */
const LEAVE_PAGE = 1000;

/** Worker ids of remote workers: never read as a process of this machine (executor/worker-identity.ts). */
const REMOTE_PREFIX = 'remote/';

/** A response data larger than the limit: the route answers 413. */
export class ResponseTooLargeError extends ValidationError {
  override name = 'ResponseTooLargeError';
}

export class RemoteWorkers {
  private readonly leaseMs: number;
  private readonly wakers = new Set<() => void>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly rescuer: PeriodicTask | undefined;
  /** Workers seen lately, by name: the console shows them. */
  private readonly seen = new Map<string, { containers: readonly string[]; at: number }>();

  constructor(private readonly options: RemoteWorkersOptions) {
    this.leaseMs = Math.round(options.heartbeatMs * 1.5);
    if (options.rescue) {
      this.rescuer = new PeriodicTask(() => this.rescueLost(), {
        clock: options.clock,
        delay: () => Math.max(25, Math.floor(options.heartbeatMs / 4)),
      });
    }
  }

  get heartbeatMs(): number {
    return this.options.heartbeatMs;
  }

  async start(): Promise<void> {
    if (this.options.store.subscribe)
      this.unsubscribe = await this.options.store.subscribe(() => this.wake());
    this.rescuer?.start(this.options.heartbeatMs);
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.rescuer?.stop();
    this.wake(); // long polls end now
  }

  /** Jobs may be due: long polls claim again. */
  wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  /** Workers seen in the last three heartbeats: their names and containers. */
  liveWorkers(): { worker: string; containers: readonly string[]; seenAt: number }[] {
    const since = this.options.clock.now() - 3 * this.options.heartbeatMs;
    return [...this.seen]
      .filter(([, entry]) => entry.at >= since)
      .map(([worker, entry]) => ({ worker, containers: entry.containers, seenAt: entry.at }));
  }

  /**
   * Claims up to `max` due jobs of the worker's containers; with a wait, answers as soon as a job is due or when
   * the wait is over (or the worker stops waiting), with no job.
   */
  async claim(request: RemoteClaim): Promise<RemoteJob[]> {
    const { clock } = this.options;
    this.seen.set(request.worker, { containers: request.containers, at: clock.now() });
    const claimId = randomUUID().slice(0, 8);
    const lease = `${REMOTE_PREFIX}${request.worker}/${request.session ? `${request.session}.${claimId}` : claimId}`;
    const until = deadline(clock, Math.min(request.waitMs, MAX_WAIT_MS));
    try {
      for (;;) {
        // Told of new jobs while the claim runs: claim again at once rather than sleep through them.
        let woken = false;
        const noteWake = () => (woken = true);
        this.wakers.add(noteWake);
        let jobs: ClaimedJob[];
        try {
          jobs = await this.options.store.claim({
            workerId: lease,
            limit: Math.min(Math.max(1, request.max), MAX_CLAIM),
            now: clock.now(),
            leaseMs: this.leaseMs,
            containers: request.containers,
            onlyContainers: true,
            ...(request.commands ? { commands: request.commands } : {}),
            ...(this.options.limits ? { limits: this.options.limits } : {}),
          });
        } finally {
          this.wakers.delete(noteWake);
        }
        if (jobs.length > 0) return await Promise.all(jobs.map((job) => this.toRemoteJob(job)));
        if (until.passed() || request.signal?.aborted) return [];
        if (!woken) await this.waitForJobs(until.reached, request.signal);
      }
    } finally {
      until.cancel();
    }
  }

  /** Waits until something may have made jobs due, the deadline, or the worker stops waiting. */
  private async waitForJobs(deadlineReached: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    const { clock, store } = this.options;
    // Jobs due later (a retry's delay, a scheduled date), and other processes on one SQLite file (which do not
    // notify): looked for again within a second.
    const dueIn = await store.nextDueIn(clock.now()).catch(() => null);
    const pollMs = Math.min(1000, dueIn === null ? 1000 : Math.max(dueIn, 10));
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        cancelPoll();
        this.wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const cancelPoll = clock.after(pollMs, done, { keepAlive: true });
      this.wakers.add(done);
      signal?.addEventListener('abort', done);
      void deadlineReached.then(done);
    });
  }

  private async toRemoteJob(job: ClaimedJob): Promise<RemoteJob> {
    const parents =
      job.requestData.dependsOn === undefined
        ? []
        : (await this.options.store.dependencies(job.id, { withData: true, childLimit: 0 })).parents.map(
            (p) => ({
              id: p.id,
              command: p.command,
              status: p.status,
              responseData: p.responseData ?? null,
            }),
          );
    return {
      id: job.id,
      command: job.command,
      containerId: job.containerId,
      businessKey: job.businessKey,
      processInstanceId: job.processInstanceId,
      attempt: job.executions,
      retries: job.retries,
      scheduledAt: job.scheduledAt,
      requestData: job.requestData,
      lease: job.workerId,
      leaseExpiresAt: job.leaseExpiresAt,
      parents,
    };
  }

  /** Jobs a worker handed back in a claim answer it never received: QUEUED again, the run not counted. */
  async giveBack(jobs: readonly RemoteJob[]): Promise<void> {
    const now = this.options.clock.now();
    await this.options.store.complete(
      jobs.map((job) => ({ kind: 'release', jobId: job.id, workerId: job.lease, now })),
    );
    this.wake();
  }

  /**
   * A worker process leaving (its graceful stop is over): every job still held under its session goes back QUEUED,
   * unrun. Those are the jobs of a claim whose answer it never read (it stopped waiting as the server answered);
   * the rest it gave back itself. Answers how many.
   */
  async leave(worker: string, session: string): Promise<number> {
    const { store, clock } = this.options;
    const prefix = `${REMOTE_PREFIX}${worker}/${session}.`;
    const held: { jobId: number; workerId: string }[] = [];
    // RUNNING jobs are bounded by the workers' slots: a few pages at most.
    for (let offset = 0; ; offset += LEAVE_PAGE) {
      const page = await store.list({
        filter: { by: 'status' },
        statuses: ['RUNNING'],
        order: 'asc',
        offset,
        limit: LEAVE_PAGE,
      });
      for (const job of page) {
        if (job.workerId?.startsWith(prefix)) held.push({ jobId: job.id, workerId: job.workerId });
      }
      if (page.length < LEAVE_PAGE) break;
    }
    this.seen.delete(worker);
    if (held.length === 0) return 0;
    const now = clock.now();
    const written = await store.complete(held.map((job) => ({ kind: 'release' as const, ...job, now })));
    this.wake();
    return written.filter(Boolean).length;
  }

  /** Renews the leases of a worker's jobs; says of each whether it is still held, and whether it was cancelled. */
  async heartbeat(jobs: readonly { id: number; lease: string }[]): Promise<HeartbeatAnswer[]> {
    const { clock, store } = this.options;
    const now = clock.now();
    const byLease = new Map<string, number[]>();
    for (const job of jobs) byLease.set(job.lease, [...(byLease.get(job.lease) ?? []), job.id]);
    const lost = new Set<string>();
    for (const [lease, ids] of byLease) {
      for (const id of await store.renewLeases(lease, ids, now, this.leaseMs)) lost.add(`${lease} ${id}`);
      const worker = lease.split('/')[1];
      if (worker) this.seen.set(worker, { containers: this.seen.get(worker)?.containers ?? [], at: now });
    }
    return Promise.all(
      jobs.map(async (job) => {
        if (!lost.has(`${job.lease} ${job.id}`)) {
          return { id: job.id, held: true, cancelled: false, leaseExpiresAt: now + this.leaseMs };
        }
        const status = (await store.get(job.id))?.status;
        return { id: job.id, held: false, cancelled: status === 'CANCELLED', leaseExpiresAt: null };
      }),
    );
  }

  /** Stores a progress report; false when the lease is lost. */
  progress(id: number, lease: string, report: ProgressReport): Promise<boolean> {
    return this.options.store.setProgress(id, lease, report, this.options.clock.now());
  }

  /**
   * Ends an attempt DONE with its response data (and, for a recurring job, its next run); false when the lease is
   * lost (nothing is written).
   */
  async complete(id: number, lease: string, responseData: DataMap, nextRun: number | null): Promise<boolean> {
    const bytes = Buffer.byteLength(JSON.stringify(responseData));
    if (bytes > this.options.maxDataBytes) {
      throw new ResponseTooLargeError(
        `the response data is ${bytes} bytes, more than the limit of ${this.options.maxDataBytes} bytes ` +
          '(--max-data-size): fail the job instead, or return less',
      );
    }
    const job = await this.heldJob(id, lease);
    if (!job) return false;
    const now = this.options.clock.now();
    const [written] = await this.options.store.complete([
      {
        kind: 'succeed',
        jobId: id,
        workerId: lease,
        now,
        responseData,
        reschedule: this.next(job, nextRun, now),
      },
    ]);
    if (written) this.ended(job, 'DONE');
    return written ?? false;
  }

  /**
   * Ends an attempt failed: RETRYING or ERROR by KIE's rule, or ERROR at once with `retry: false`; null when the
   * lease is lost (nothing is written).
   */
  async fail(
    id: number,
    lease: string,
    error: { message: string | null; stacktrace: string | null },
    retry: boolean,
    nextRun: number | null,
  ): Promise<'RETRYING' | 'ERROR' | null> {
    const job = await this.heldJob(id, lease);
    if (!job) return null;
    const now = this.options.clock.now();
    const outcome = afterFailure(job, retryDelaysOf(job.requestData ?? {}), now, { retry });
    const final = outcome.status === 'ERROR';
    const completion: Completion = {
      kind: final ? 'fail' : 'retry',
      jobId: id,
      workerId: lease,
      now,
      error,
      retries: outcome.retries,
      scheduledAt: outcome.scheduledAt,
      ...(final ? { reschedule: this.next(job, nextRun, now) } : {}),
    };
    const [written] = await this.options.store.complete([completion]);
    if (!written) return null;
    if (final) this.ended(job, 'ERROR');
    else this.wake(); // its retry may be due at once
    return outcome.status;
  }

  /** Gives a claimed job back unrun; false when the lease is lost. */
  async release(id: number, lease: string): Promise<boolean> {
    const [written] = await this.options.store.complete([
      { kind: 'release', jobId: id, workerId: lease, now: this.options.clock.now() },
    ]);
    if (written) this.wake();
    return written ?? false;
  }

  /** The job as its worker holds it (RUNNING under this lease), with its data; undefined when it does not. */
  private async heldJob(id: number, lease: string): Promise<Job | undefined> {
    const job = await this.options.store.get(id, { withData: true });
    if (!job) throw new JobNotFoundError(id);
    return job.status === 'RUNNING' && job.workerId === lease ? job : undefined;
  }

  /** The next occurrence of a recurring job: the worker's date (KIE's Reoccurring), or the job's cron. */
  private next(job: Job, nextRun: number | null, now: number): NewJob | undefined {
    let at = nextRun ?? undefined;
    if (at === undefined) {
      try {
        const cron = cronOf(job.requestData ?? {});
        if (cron) at = nextCronTime(cron, now);
      } catch {
        at = undefined;
      }
    }
    if (at === undefined || !Number.isFinite(at) || at <= now) return undefined;
    return nextOccurrenceOf({ ...job, requestData: job.requestData ?? {} }, at, {
      retries: this.options.defaultRetries,
      now,
    });
  }

  private ended(job: Job, status: JobStatus): void {
    if (isFinal(status)) this.options.onEnded?.(job, status);
    this.wake(); // children it released, its next occurrence
  }

  /** Without an executor on this node: the jobs of remote workers whose lease ran out fail their attempt. */
  private async rescueLost(): Promise<void> {
    const { clock, store, logger } = this.options;
    try {
      const lost = (await store.findExpiredLeases(clock.now(), 100)).filter((job) =>
        job.workerId.startsWith(REMOTE_PREFIX),
      );
      for (const job of lost) {
        const message = `Worker ${job.workerId} was lost while running job ${job.id} (lease expired); attempt counted as failed`;
        await this.fail(job.id, job.workerId, { message, stacktrace: null }, true, null);
      }
    } catch (error) {
      logger.warn({ err: error }, 'rescuing the jobs of lost remote workers failed; trying again');
    }
  }
}
