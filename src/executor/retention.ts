/**
 * Retention: finished jobs (DONE, ERROR, CANCELLED) older than the retention period are deleted with their error
 * records, in small batches so that no delete holds the database long, once a minute. Off unless configured, as
 * in KIE (where LogCleanupCommand does it when scheduled). Several nodes may sweep at once: deletes are idempotent.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import type { JobStore } from '../store/job-store.js';
import { PeriodicTask } from './periodic-task.js';

export interface RetentionOptions {
  /** Finished jobs older than this many ms are deleted. */
  retentionMs: number;
  /** How often to sweep. Default one minute. */
  intervalMs?: number;
  /** Jobs deleted per statement. Default 500. */
  batchSize?: number;
  /** The node's clock (the store's own decides on PostgreSQL). Default: the system clock. */
  clock?: Clock;
  logger: Logger;
}

export class RetentionSweeper {
  /** The schedule of sweeps (start, stop; tests wait on its runs). */
  readonly task: PeriodicTask;
  private sweeping: Promise<number> | undefined;
  private readonly intervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly store: JobStore,
    private readonly options: RetentionOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.batchSize = options.batchSize ?? 500;
    this.task = new PeriodicTask(() => this.sweep().then(() => undefined), {
      clock: options.clock ?? systemClock,
      delay: () => this.intervalMs,
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Deletes what is past retention now, batch by batch; answers how many jobs went. Never throws. */
  sweep(): Promise<number> {
    this.sweeping ??= this.deleteExpired().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async deleteExpired(): Promise<number> {
    const now = (this.options.clock ?? systemClock).now();
    const olderThan = now - this.options.retentionMs;
    let total = 0;
    try {
      for (;;) {
        const { jobs } = await this.store.deleteFinished({
          olderThan,
          now, // on PostgreSQL, the period counts back from the database's now
          statuses: [],
          limit: this.batchSize,
        });
        total += jobs;
        if (jobs < this.batchSize || !this.task.isStarted) break;
        // Let requests and claims in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'retention: deleting finished jobs failed; next try in a minute',
      );
    }
    if (total > 0)
      this.options.logger.info({ deleted: total, olderThan }, 'retention: finished jobs deleted');
    return total;
  }
}
