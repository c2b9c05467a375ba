import type { ClaimedJob } from '../core/index.js';
import type { JobStore } from '../store/job-store.js';

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
  /** Records a lost worker's attempt as failed (the retry rules apply). */
  failLostAttempt(job: ClaimedJob, error: WorkerLostError): Promise<void>;
  emitRescued(job: ClaimedJob): void;
  reportError(error: unknown): void;
}

/**
 * Renews the leases of the jobs this worker holds, every third of a lease, and rescues jobs whose lease expired
 * (their worker died): their attempt failed.
 */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly host: LeaseKeeperHost,
    private readonly leaseMs: number,
  ) {}

  /** Rescues what is lost now, then renews and rescues every third of a lease. */
  async start(): Promise<void> {
    const beat = Math.max(50, Math.floor(this.leaseMs / 3));
    this.timer = setInterval(() => void this.renewLeasesAndRescue(), beat);
    this.timer.unref();
    await this.rescueLostJobs();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renewLeasesAndRescue(): Promise<void> {
    if (!this.host.isRunning()) return;
    try {
      const running = this.host.runningIds();
      if (running.length > 0) {
        await this.store.renewLeases(
          this.host.workerId,
          [...running, ...this.host.prefetchedIds()],
          Date.now() + this.leaseMs,
        );
      }
      await this.rescueLostJobs();
    } catch (error) {
      this.host.reportError(error);
    }
  }

  /** A RUNNING job whose lease expired lost its worker: the attempt failed, and the retry rules apply. */
  private async rescueLostJobs(): Promise<void> {
    const lost = await this.store.findExpiredLeases(Date.now(), 100);
    for (const job of lost) {
      if (this.host.isRunningHere(job.id)) continue; // ours, renewed late
      const error = new WorkerLostError(
        `Worker ${job.workerId} was lost while running job ${job.id} (lease expired); attempt counted as failed`,
      );
      error.stack = `${error.name}: ${error.message}`;
      this.host.emitRescued(job);
      await this.host.failLostAttempt(job, error);
    }
  }
}
