import { deadline, sleep, type Cancel, type ClaimedJob, type Clock } from '../core/index.js';
import type { Completion } from '../store/job-store.js';
import type { JobSource } from './job-source.js';
import { isTransientStoreError } from '../store/failures.js';

interface QueuedOutcome {
  completion: Completion;
  job: ClaimedJob;
  settle: (written: boolean) => void;
  /** Failed writes of this outcome alone (not as part of a batch). */
  tries: number;
  /** Written on its own: it failed in a batch, so it must not fail the others again. */
  alone: boolean;
}

/** What the outcome writer needs of its executor. */
export interface OutcomeWriterHost {
  readonly workerId: string;
  /** The executor has stopped: a write that fails now is of a job already given back. */
  isStopped(): boolean;
  /** A run's outcome was refused: the job was requeued or rescued while it ran. */
  onSuperseded(job: ClaimedJob): void;
  /** An outcome the store refused every time, even as a failure: logged once, its job left to the store. */
  onUnwritable(job: ClaimedJob, error: unknown): void;
  reportError(error: unknown): void;
}

/** Tries of an outcome that fails alone before its job is ended ERROR with the store's error instead. */
export const POISON_TRIES = 3;

/**
 * Writes the outcomes of runs to the store in batches: outcomes queued while a batch is written go together in
 * the next one. A batch the store cannot take now (unreachable, busy) is kept and tried again. A batch the store
 * refuses for what it holds (a poison write) is split, so one outcome never blocks the others; an outcome that
 * fails alone POISON_TRIES times is replaced by a failure recording the store's error (visible to KIE clients
 * among the job's errors), and if even that fails, given up.
 */
export class OutcomeWriter {
  private queued: QueuedOutcome[] = [];
  private writeScheduled = false;
  /** The write loop in flight, if any. */
  private writing: Promise<void> | undefined;
  private cancelRetry: Cancel | undefined;
  /** Jobs whose outcome could not be written at all: not tried again by this writer. */
  private readonly unwritable = new Set<number>();

  constructor(
    private readonly store: JobSource,
    private readonly host: OutcomeWriterHost,
    private readonly retryAfterMs: number,
    private readonly clock: Clock,
  ) {}

  /** Queues an outcome; resolves to whether the store wrote it (false: the job was no longer this run's). */
  write(job: ClaimedJob, completion: Completion): Promise<boolean> {
    if (this.unwritable.has(completion.jobId)) return Promise.resolve(false);
    return new Promise((settle) => {
      this.queued.push({ completion, job, settle, tries: 0, alone: false });
      this.scheduleWrite();
    });
  }

  /** Writes what is queued once this turn of the event loop is over (outcomes of one turn go together). */
  private scheduleWrite(): void {
    if (this.writing || this.writeScheduled || this.cancelRetry) return;
    this.writeScheduled = true;
    setImmediate(() => void this.writeQueued());
  }

  /** Whether the store refused every outcome of this job (the lease keeper leaves it alone). */
  isUnwritable(jobId: number): boolean {
    return this.unwritable.has(jobId);
  }

  /** Waits until every queued outcome is written, or `withinMs` passes (the store may be down). */
  async waitUntilWritten(withinMs: number): Promise<void> {
    const due = deadline(this.clock, withinMs);
    try {
      while ((this.queued.length > 0 || this.writing) && !due.passed()) {
        if (this.writing) await Promise.race([this.writing, due.reached]);
        // The store refused the last try: its retry comes after retryAfterMs.
        else if (this.cancelRetry) await Promise.race([sleep(this.clock, this.retryAfterMs), due.reached]);
        else await Promise.race([this.writeQueued(), due.reached]);
      }
    } finally {
      due.cancel();
    }
  }

  /** Stops trying again to write what the store refused. */
  stopRetrying(): void {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
  }

  /** The next write: the first outcome alone when it must be, else every outcome not written alone. */
  private takeBatch(): QueuedOutcome[] {
    const first = this.queued[0]!;
    if (first.alone) return this.queued.splice(0, 1);
    const batch = this.queued.filter((item) => !item.alone);
    this.queued = this.queued.filter((item) => item.alone);
    return batch;
  }

  private writeQueued(): Promise<void> {
    this.writeScheduled = false;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.writing ??= this.writeAll().finally(() => {
      this.writing = undefined;
      // Outcomes queued while the last batch was being answered (unless a retry of the store is pending).
      if (this.queued.length > 0) this.scheduleWrite();
    });
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.queued.length > 0 && !this.cancelRetry) {
      const batch = this.takeBatch();
      let written: boolean[];
      try {
        written = await this.store.complete(batch.map((item) => item.completion));
      } catch (error) {
        if (this.host.isStopped()) {
          // A run that ended after stop() gave it back: its job is QUEUED again, or will be rescued.
          batch.forEach((item) => item.settle(false));
          continue;
        }
        this.host.reportError(error);
        if (isTransientStoreError(error)) {
          // The store cannot take writes now: keep the outcomes and try again; the leases cover the jobs.
          this.queued.unshift(...batch);
          this.cancelRetry = this.clock.after(this.retryAfterMs, () => void this.writeQueued());
          return;
        }
        this.refused(batch, error);
        continue;
      }
      batch.forEach((item, index) => {
        const ok = written[index] ?? false;
        if (!ok && item.completion.kind !== 'release' && item.completion.workerId === this.host.workerId) {
          this.host.onSuperseded(item.job);
        }
        item.settle(ok);
      });
    }
  }

  /** The store refused a write for what it holds: isolate, try again, then record the error instead. */
  private refused(batch: QueuedOutcome[], error: unknown): void {
    if (batch.length > 1) {
      for (const item of batch) item.alone = true;
      this.queued.unshift(...batch);
      return;
    }
    const item = batch[0]!;
    item.tries++;
    if (item.tries < POISON_TRIES) {
      this.queued.push(item);
      return;
    }
    const { completion } = item;
    const recording = completion.kind === 'fail' && completion.error.message?.startsWith(UNWRITTEN) === true;
    if (completion.kind === 'release' || recording) {
      // Giving the job back, or recording the failure, fails too: leave the job to the store (its lease ends).
      this.unwritable.add(completion.jobId);
      this.host.onUnwritable(item.job, error);
      item.settle(false);
      return;
    }
    item.tries = 0;
    item.completion = {
      kind: 'fail',
      jobId: completion.jobId,
      workerId: completion.workerId,
      now: completion.now,
      error: {
        message: `${UNWRITTEN} (${completion.kind}): ${messageOf(error)}`,
        stacktrace: error instanceof Error ? (error.stack ?? null) : null,
      },
      retries: 'retries' in completion ? completion.retries : item.job.retries,
      scheduledAt: completion.now,
    };
    this.queued.push(item);
  }
}

/** The start of the error recorded for a job whose outcome the store refused. */
const UNWRITTEN = 'kjobs could not record the outcome of this run';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
