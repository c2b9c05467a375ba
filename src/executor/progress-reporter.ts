import type { Logger } from 'pino';
import { systemClock, type Cancel, type Clock, type DataMap } from '../core/index.js';
import type { ProgressReport } from '../store/job-store.js';

/** At most one progress write per job in this interval: the latest value wins, the last one is always written. */
export const PROGRESS_INTERVAL_MS = 1000;
/** Largest progress data, in bytes of its JSON: progress is a small status, not a result. */
export const MAX_PROGRESS_BYTES = 4096;

/** Checks what a command passes to `ctx.progress` and answers it as stored; throws on bad input. */
export function toProgressReport(value: number | DataMap, data?: DataMap): ProgressReport {
  const report: ProgressReport = {};
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      throw new RangeError(`progress must be a number from 0 to 100, got ${value}`);
    }
    report.value = value;
  } else data = value;
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new TypeError('progress data must be a map of names to JSON values');
    }
    const json = JSON.stringify(data);
    if (Buffer.byteLength(json) > MAX_PROGRESS_BYTES) {
      throw new RangeError(`progress data is larger than ${MAX_PROGRESS_BYTES} bytes of JSON`);
    }
    report.data = JSON.parse(json) as DataMap;
  }
  return report;
}

/**
 * The progress of one run: reports are written at most once per interval (a chatty command does not flood the
 * store); the latest report waits for the next slot, and `flush` writes it before the run's outcome.
 */
export class ProgressReporter {
  private pending: ProgressReport | undefined;
  private lastWrite = 0;
  private cancelTimer: Cancel | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly write: (report: ProgressReport, at: number) => Promise<unknown>,
    private readonly log: Logger,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly clock: Clock = systemClock,
  ) {}

  report(report: ProgressReport): void {
    if (this.closed) return;
    this.pending = report;
    if (this.cancelTimer) return;
    const wait = this.lastWrite + this.intervalMs - this.clock.now();
    if (wait <= 0) this.send();
    else this.cancelTimer = this.clock.after(wait, () => this.send(), { keepAlive: true });
  }

  /** Writes a report still waiting for its slot, then stops: later reports are ignored. */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.cancelTimer) {
      this.cancelTimer();
      this.send();
    }
    await this.writing;
  }

  private send(): void {
    this.cancelTimer = undefined;
    const report = this.pending;
    if (!report) return;
    this.pending = undefined;
    this.lastWrite = this.clock.now();
    const at = this.lastWrite;
    this.writing = this.writing
      .then(() => this.write(report, at))
      .then(
        () => undefined,
        (error: unknown) => this.log.debug({ err: error }, 'progress not written'),
      );
  }
}
