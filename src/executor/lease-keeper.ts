import type { ClaimedJob, Clock } from '../core/index.js';
import type { WorkerLock } from '../store/job-store.js';
import { rescuesHere, type JobSource, type RescueSource } from './job-source.js';
import { PeriodicTask } from './periodic-task.js';
import { isCertainlyDead, nodeOf, ownIdentity, type ProcessIdentity } from './worker-identity.js';

/** Recorded as the attempt's error when the worker that held a job is gone. */
export class WorkerLostError extends Error {
  override name = 'WorkerLostError';
}

/** What the lease keeper needs of its executor. */
export interface LeaseKeeperHost {
  readonly workerId: string;
  isRunning(): boolean;
  /** Ids of the jobs this worker runs now. */
  runningIds(): number[];
  isRunningHere(jobId: number): boolean;
  /** Ids of the jobs this worker holds claimed for a free slot. */
  prefetchedIds(): number[];
  /**
   * The store says this worker no longer holds these jobs (cancelled while running, requeued, or rescued by
   * another worker after a late renewal): stop them.
   */
  onLost(jobIds: number[]): void;
  /** Records a lost worker's attempt as failed (the retry rules apply). */
  failLostAttempt(job: ClaimedJob, error: WorkerLostError): Promise<void>;
  emitRescued(job: ClaimedJob): void;
  reportError(error: unknown): void;
}

export interface LeaseKeeperOptions {
  /** How often lost workers are looked for; leases are renewed every other beat. */
  beatMs: number;
  /** A lease lasts this long after its last renewal. */
  leaseMs: number;
  clock: Clock;
}

/**
 * Renews the leases of the jobs this worker holds every other beat (half a heartbeat), and at each beat (a quarter)
 * rescues the jobs of workers that died: those whose lease expired, and at once those of a dead process on this
 * host (its worker id proves it, see worker-identity.ts). At start it holds this worker's lock in the store, and
 * rescues at once the jobs of earlier workers of its node whose lock is free: its previous run, even from another
 * pid namespace (a restarted container). Their attempt failed. A source that does not rescue here (a server over
 * the worker protocol, which rescues its workers' jobs itself) only gets the renewals.
 */
export class LeaseKeeper {
  /** The beats (tests wait on its runs). */
  readonly task: PeriodicTask;
  private beats = 0;
  private readonly identity: ProcessIdentity | undefined = ownIdentity();
  private lock: WorkerLock | undefined;
  /** The source, when this keeper rescues from it too. */
  private readonly rescueFrom: (JobSource & RescueSource) | undefined;

  constructor(
    private readonly store: JobSource,
    private readonly host: LeaseKeeperHost,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.task = new PeriodicTask(() => this.renewLeasesAndRescue(), {
      clock: options.clock,
      delay: () => options.beatMs,
    });
    this.rescueFrom = rescuesHere(store) ? store : undefined;
  }

  /** Holds this worker's lock, rescues what is lost now, then renews and rescues at every beat. */
  async start(): Promise<void> {
    this.lock ??= await this.rescueFrom?.holdWorkerLock(this.host.workerId);
    this.task.start(this.options.beatMs);
    await this.rescueDeadWorkersHere(true);
    await this.rescueLostJobs();
  }

  /**
   * Stops renewing and rescuing (once the executor's jobs are finished or given back; while it stops, only the
   * leases of the jobs still running are renewed); the lock is kept until release().
   */
  stop(): Promise<void> {
    return this.task.stop();
  }

  async release(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  private async renewLeasesAndRescue(): Promise<void> {
    const running = this.host.runningIds();
    if (!this.host.isRunning() && running.length === 0) return;
    try {
      if (this.beats++ % 2 === 0 && running.length > 0) {
        const lost = await this.store.renewLeases(
          this.host.workerId,
          [...running, ...this.host.prefetchedIds()],
          this.options.clock.now(),
          this.options.leaseMs,
        );
        if (lost.length > 0) this.host.onLost(lost);
      }
      // Stopping: the jobs still running keep their leases (above), and nothing more is taken on.
      if (!this.host.isRunning()) return;
      await this.rescueDeadWorkersHere();
      await this.rescueLostJobs();
    } catch (error) {
      this.host.reportError(error);
    }
  }

  /**
   * Workers holding jobs whose process is certainly gone (same boot, same pid namespace, pid gone or reused), and
   * at start those of this node whose lock is free (its earlier runs): their leases end now, so that rescueLostJobs
   * takes their jobs without waiting for them to run out.
   */
  private async rescueDeadWorkersHere(starting = false): Promise<void> {
    const store = this.rescueFrom;
    const node = nodeOf(this.host.workerId);
    if (!store || (!this.identity && !(starting && node))) return;
    for (const workerId of await store.runningWorkers()) {
      if (workerId === this.host.workerId) continue;
      const dead =
        isCertainlyDead(workerId, this.identity) ||
        // Only at start, and only this node's own: a live worker whose connection to PostgreSQL just broke has
        // no lock for a second, and only a node's next run has reason to believe the earlier one is gone.
        (starting && node !== undefined && nodeOf(workerId) === node && (await store.isWorkerGone(workerId)));
      if (dead) await store.expireLeasesOf(workerId);
    }
  }

  /**
   * A RUNNING job whose lease expired lost its worker: the attempt failed, and the retry rules apply. All of them
   * at once (a dead node may have held hundreds, prefetched ones included), 100 per round, written together.
   */
  private async rescueLostJobs(): Promise<void> {
    const store = this.rescueFrom;
    if (!store) return;
    for (let round = 0; round < 50; round++) {
      const lost = (await store.findExpiredLeases(this.options.clock.now(), RESCUE_BATCH)).filter(
        (job) => !this.host.isRunningHere(job.id), // ours, renewed late
      );
      await Promise.all(lost.map((job) => this.rescue(job)));
      if (lost.length < RESCUE_BATCH || !this.host.isRunning()) return;
    }
  }

  private async rescue(job: ClaimedJob): Promise<void> {
    // A lease of 0 was ended by rescueDeadWorkersHere: the worker's process is gone.
    const why = job.leaseExpiresAt === 0 ? 'its process ended' : 'lease expired';
    const error = new WorkerLostError(
      `Worker ${job.workerId} was lost while running job ${job.id} (${why}); attempt counted as failed`,
    );
    error.stack = `${error.name}: ${error.message}`;
    this.host.emitRescued(job);
    await this.host.failLostAttempt(job, error);
  }
}

/** Expired leases read per round. */
const RESCUE_BATCH = 100;
