import type { ClaimedJob } from '../core/index.js';
import type { Completion, JobStore } from '../store/job-store.js';

interface QueuedOutcome {
  completion: Completion;
  job: ClaimedJob;
  settle: (written: boolean) => void;
}

/** What the outcome writer needs of its executor. */
export interface OutcomeWriterHost {
  readonly workerId: string;
  /** The executor has stopped: a write that fails now is of a job already given back. */
  isStopped(): boolean;
  /** A run's outcome was refused: the job was requeued or rescued while it ran. */
  onSuperseded(job: ClaimedJob): void;
  reportError(error: unknown): void;
}

/**
 * Writes the outcomes of runs to the store in batches: outcomes queued while a batch is written go together in
 * the next one. A batch the store refuses (unreachable) is kept and tried again.
 */
export class OutcomeWriter {
  private queued: QueuedOutcome[] = [];
  private writeScheduled = false;
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly host: OutcomeWriterHost,
    private readonly retryAfterMs: number,
  ) {}

  /** Queues an outcome; resolves to whether the store wrote it (false: the job was no longer this run's). */
  write(job: ClaimedJob, completion: Completion): Promise<boolean> {
    return new Promise((settle) => {
      this.queued.push({ completion, job, settle });
      if (!this.writing && !this.writeScheduled) {
        this.writeScheduled = true;
        setImmediate(() => void this.writeQueued());
      }
    });
  }

  /** Waits until every queued outcome is written, or `deadline` passes (the store may be down). */
  async waitUntilWritten(deadline: number): Promise<void> {
    while ((this.queued.length > 0 || this.writing) && Date.now() < deadline) {
      if (!this.writing) await this.writeQueued();
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Stops trying again to write what the store refused. */
  stopRetrying(): void {
    clearTimeout(this.retryTimer);
  }

  private async writeQueued(): Promise<void> {
    this.writeScheduled = false;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        let written: boolean[];
        try {
          written = await this.store.complete(batch.map((item) => item.completion));
        } catch (error) {
          if (this.host.isStopped()) {
            // A run that ended after stop() gave it back: its job is QUEUED again, or will be rescued.
            batch.forEach((item) => item.settle(false));
            continue;
          }
          // The store is unreachable: keep the outcomes and try again; the leases cover the jobs meanwhile.
          this.host.reportError(error);
          this.queued.unshift(...batch);
          this.retryTimer = setTimeout(() => void this.writeQueued(), this.retryAfterMs);
          this.retryTimer.unref();
          return;
        }
        batch.forEach((item, index) => {
          const ok = written[index] ?? false;
          if (!ok && item.completion.kind !== 'release' && item.completion.workerId === this.host.workerId) {
            this.host.onSuperseded(item.job);
          }
          item.settle(ok);
        });
      }
    } finally {
      this.writing = false;
    }
  }
}
