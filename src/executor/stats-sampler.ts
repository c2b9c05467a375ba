/**
 * The statistics sampler: every few seconds it writes the jobs finished per minute (DONE, ERROR) and the jobs
 * waiting now (QUEUED + RETRYING) into the store's per-minute table, which the console's charts read (at most
 * 1,440 rows, whatever the number of jobs). Its first sample after start fills the last 24 hours' finished counts
 * from the jobs' finish times (minutes nobody sampled have no waiting count). Several nodes may sample at once:
 * each writes the same numbers.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import type { JobStore } from '../store/job-store.js';
import { PeriodicTask } from './periodic-task.js';

export const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface StatsSamplerOptions {
  /** How often to sample. Default 10 s. */
  intervalMs?: number;
  clock?: Clock;
  logger: Logger;
}

export class StatsSampler {
  /** The schedule of samples (start, stop; tests wait on its runs). */
  readonly task: PeriodicTask;
  private sampling: Promise<void> | undefined;
  private lastSample: number | undefined;
  private readonly intervalMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly store: JobStore,
    private readonly options: StatsSamplerOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.task = new PeriodicTask(() => this.sample(), { clock: this.clock, delay: () => this.intervalMs });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Takes a sample now. Never throws (a failure is logged, the next tick tries again). */
  sample(now = this.clock.now()): Promise<void> {
    this.sampling ??= this.write(now).finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async write(now: number): Promise<void> {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    // The minutes since the previous sample (and the one before, for outcomes written late) are recounted;
    // the first sample counts the last day, keeping the minutes that already have numbers.
    const since =
      this.lastSample === undefined ? minute - DAY_MS : Math.min(this.lastSample, now) - MINUTE_MS;
    const sinceMinute = Math.floor(since / MINUTE_MS) * MINUTE_MS;
    try {
      await this.store.recordStats({
        now,
        since: sinceMinute,
        keepBefore: minute - 2 * MINUTE_MS,
        forgetBefore: minute - 2 * DAY_MS,
      });
      this.lastSample = now;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'statistics: sampling failed; next try soon');
    }
  }
}
