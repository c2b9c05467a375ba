/**
 * The statistics sampler: every few seconds it writes the jobs finished per minute (DONE, ERROR) and the jobs
 * waiting now (QUEUED + RETRYING) into the store's per-minute table, which the console's charts read (at most
 * 1,440 rows, whatever the number of jobs). Its first sample after start fills the last 24 hours' finished counts
 * from the jobs' finish times (minutes nobody sampled have no waiting count). Several nodes may sample at once:
 * each writes the same numbers.
 */
import type { Logger } from 'pino';
import type { JobStore } from '../store/job-store.js';

export const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface StatsSamplerOptions {
  /** How often to sample. Default 10 s. */
  intervalMs?: number;
  logger: Logger;
}

export class StatsSampler {
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private lastSample: number | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly store: JobStore,
    private readonly options: StatsSamplerOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      void this.sample().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** Takes a sample now. Never throws (a failure is logged, the next tick tries again). */
  sample(now = Date.now()): Promise<void> {
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
