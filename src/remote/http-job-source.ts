/**
 * A kjobs server as the source of an executor's jobs, over the worker protocol (docs/workers.md): the executor
 * that runs in `kjobs worker --url` and `createRemoteWorker`. Claims are long polls; each job's lease (the
 * server's) is kept here by job id, so that the executor's outcomes, progress and lease renewals reach the server
 * as calls about that lease. The server applies every rule (claim order, limits, pauses, KIE's retry rule) and
 * rescues the jobs of a worker that stops renewing; this side only runs them.
 */
import {
  ApiError,
  ConnectionError,
  type DataMap as WireDataMap,
  type KieJobsClient,
  type WorkerJob,
} from '../client/index.js';
import { StoreUnavailableError, type ClaimedJob, type Job } from '../core/index.js';
import { randomUUID } from 'node:crypto';
import type { JobSource, ParentSummary } from '../executor/job-source.js';
import type { ClaimOptions, Completion, ProgressReport } from '../store/job-store.js';

/** The most jobs one claim may ask for (the protocol's limit). */
const MAX_CLAIM = 100;
/** The most jobs one heartbeat may name (the protocol's limit). */
const MAX_HEARTBEAT = 1000;
/** Job ids remembered as cancelled, or as written by this worker (for a batch sent again after a failure). */
const REMEMBERED = 10_000;

export interface HttpJobSourceOptions {
  client: KieJobsClient;
  /** This worker's name in the protocol (the jobs' worker field shows it with the lease). */
  worker: string;
  /** The remote containers to serve; the executor's containers when absent. */
  containers?: readonly string[];
  /** Only jobs of these commands (patterns, `*` for any run of characters); all of the containers' when absent. */
  commands?: readonly string[];
  /** How long a claim waits on the server for a due job. Default 20 s (the protocol allows 60). */
  claimWaitMs?: number;
}

/** A job this worker holds: the lease every call about it carries, and what its command may ask of it. */
interface Held {
  lease: string;
  parents: ParentSummary[];
}

/** Ids in insertion order, the oldest forgotten past a bound. */
class RecentIds {
  private readonly ids = new Set<number>();
  constructor(private readonly limit: number) {}
  add(id: number): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
  }
  has(id: number): boolean {
    return this.ids.has(id);
  }
}

/**
 * What the server's answer means for the executor: a lease it no longer holds (409) or a job gone (404) is a write
 * not made; no answer, or a server that cannot take it now (5xx, 429), is an outage the writer waits out (its
 * outcomes are kept and sent again); other refusals are the write's own.
 */
function isLost(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 409 || error.status === 404);
}

function asSourceError(error: unknown): unknown {
  if (
    error instanceof ConnectionError ||
    (error instanceof ApiError && (error.status >= 500 || error.status === 429))
  ) {
    return new StoreUnavailableError(`the kjobs server cannot be reached now: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

export class HttpJobSource implements JobSource {
  private readonly client: KieJobsClient;
  private readonly held = new Map<number, Held>();
  private readonly cancelled = new RecentIds(REMEMBERED);
  private readonly written = new RecentIds(REMEMBERED);
  private readonly claimWaitMs: number;
  /** This process's session: its leases carry it, and leave() gives back what a claim left under it. */
  private readonly session = randomUUID();

  constructor(private readonly options: HttpJobSourceOptions) {
    this.client = options.client;
    this.claimWaitMs = options.claimWaitMs ?? 20_000;
  }

  /** Jobs held now (claimed and not yet ended). */
  get heldCount(): number {
    return this.held.size;
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    const containers = this.options.containers ?? options.containers;
    if (containers !== undefined && containers.length === 0) return [];
    let jobs: WorkerJob[];
    try {
      jobs = await this.client.claimJobs(
        {
          worker: this.options.worker,
          session: this.session,
          ...(containers ? { containers } : {}),
          ...(this.options.commands ? { commands: this.options.commands } : {}),
          max: Math.min(Math.max(1, options.limit), MAX_CLAIM),
          waitMs: options.signal?.aborted ? 0 : this.claimWaitMs,
        },
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      // Stopping: what the server claimed for the answer nobody reads goes back at leave().
      if (options.signal?.aborted) return [];
      throw asSourceError(error);
    }
    return jobs.map((job) => {
      this.held.set(job.id, { lease: job.lease, parents: job.parents });
      return claimedJobOf(job, options.workerId, options.now);
    });
  }

  async complete(outcomes: readonly Completion[]): Promise<boolean[]> {
    const results = await Promise.allSettled(outcomes.map((outcome) => this.completeOne(outcome)));
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    // What was written is remembered: the writer sends the batch again and those answer true without a call.
    const outage = failures.find((error) => error instanceof StoreUnavailableError);
    if (outage !== undefined || failures.length > 0) throw outage ?? failures[0];
    return results.map((result) => (result as PromiseFulfilledResult<boolean>).value);
  }

  private async completeOne(outcome: Completion): Promise<boolean> {
    const id = outcome.jobId;
    const held = this.held.get(id);
    if (!held) return this.written.has(id);
    try {
      switch (outcome.kind) {
        case 'succeed':
          await this.client.completeJob(id, held.lease, {
            // JSON already: the runner refuses response data that does not survive a JSON round trip.
            responseData: outcome.responseData as WireDataMap,
            nextRun: outcome.reschedule ? new Date(outcome.reschedule.scheduledAt) : null,
          });
          break;
        case 'retry':
        case 'fail':
          // The server decides RETRYING or ERROR by the same rule on the same job; "fail" is ERROR now.
          await this.client.failJob(id, held.lease, {
            message: outcome.error.message,
            stacktrace: outcome.error.stacktrace,
            retry: outcome.kind === 'retry',
            nextRun: outcome.reschedule ? new Date(outcome.reschedule.scheduledAt) : null,
          });
          break;
        case 'release':
          await this.client.releaseJob(id, held.lease);
          break;
      }
    } catch (error) {
      if (isLost(error)) {
        this.held.delete(id);
        return false;
      }
      throw asSourceError(error);
    }
    this.held.delete(id);
    this.written.add(id);
    return true;
  }

  async setProgress(jobId: number, _workerId: string, progress: ProgressReport): Promise<boolean> {
    const held = this.held.get(jobId);
    if (!held) return false;
    try {
      await this.client.reportProgress(jobId, held.lease, progress as { value?: number; data?: WireDataMap });
      return true;
    } catch (error) {
      if (isLost(error)) return false;
      throw asSourceError(error);
    }
  }

  async renewLeases(_workerId: string, jobIds: readonly number[]): Promise<number[]> {
    const lost = jobIds.filter((id) => !this.held.has(id));
    const jobs = jobIds.flatMap((id) => {
      const held = this.held.get(id);
      return held ? [{ id, lease: held.lease }] : [];
    });
    for (let start = 0; start < jobs.length; start += MAX_HEARTBEAT) {
      let answers;
      try {
        answers = await this.client.heartbeat(jobs.slice(start, start + MAX_HEARTBEAT));
      } catch (error) {
        throw asSourceError(error);
      }
      for (const answer of answers) {
        if (answer.held) continue;
        lost.push(answer.id);
        this.held.delete(answer.id);
        if (answer.cancelled) this.cancelled.add(answer.id);
      }
    }
    return lost;
  }

  /**
   * Leaves the server, last in a graceful stop (the executor gave back what it held): the jobs of a claim whose
   * answer it stopped waiting for go back QUEUED, unrun. Answers how many.
   */
  async leave(): Promise<number> {
    return this.client.leaveWorkers(this.options.worker, this.session);
  }

  /** Due jobs are waited for by the claim itself (a long poll): claim again at once. */
  nextDueIn(): Promise<number | null> {
    return Promise.resolve(0);
  }

  /** What the server said of a job this worker held: cancelled, or nothing known. */
  get(id: number): Promise<Pick<Job, 'status'> | undefined> {
    return Promise.resolve(this.cancelled.has(id) ? { status: 'CANCELLED' } : undefined);
  }

  /** A held job's parents came with its claim. */
  dependencies(id: number): Promise<{ parents: ParentSummary[] }> {
    return Promise.resolve({ parents: this.held.get(id)?.parents ?? [] });
  }
}

/** A claimed job as the executor's runner reads it; what the protocol does not carry gets KIE's defaults. */
function claimedJobOf(job: WorkerJob, workerId: string, now: number): ClaimedJob {
  return {
    id: job.id,
    status: 'RUNNING',
    businessKey: job.businessKey,
    message: '',
    retries: job.retries,
    executions: job.attempt,
    command: job.command,
    scheduledAt: job.scheduledAt.getTime(),
    priority: 5,
    containerId: job.containerId,
    processInstanceId: job.processInstanceId,
    owner: null,
    createdAt: job.scheduledAt.getTime(),
    startedAt: now,
    finishedAt: null,
    workerId,
    leaseExpiresAt: job.leaseExpiresAt.getTime(),
    requestData: job.requestData,
  };
}
