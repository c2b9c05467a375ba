/**
 * The start/stop base of the executor's periodic services (retention, the statistics sampler, the background release
 * of children, the lease keeper): one run at a time, the next one `delay` after the previous ended, on the clock's
 * timers (tests move a ManualClock instead of sleeping), a `runNow` that coalesces with a run in progress, and
 * `stop` that waits for the run in progress. `whenRun` is the tests' signal that a run ended.
 */
import type { Cancel, Clock } from '../core/index.js';

export interface PeriodicTaskOptions {
  clock: Clock;
  /** Milliseconds from the end of a run to the next; asked after each run, so it may change (backoff). */
  delay: () => number;
}

export class PeriodicTask {
  private cancelTimer: Cancel | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  /** Asked for while a run was in progress: the run right after it, and its end for those who asked. */
  private again: { ended: Promise<void>; resolve: () => void } | undefined;
  private readonly waiters: (() => void)[] = [];
  /** Runs ended so far. */
  runs = 0;

  constructor(
    /** One run; must not throw (the services log their own failures). */
    private readonly work: () => Promise<void>,
    private readonly options: PeriodicTaskOptions,
  ) {}

  get isStarted(): boolean {
    return this.started;
  }

  /** Starts running: the first run after `firstDelayMs` (default: at once). */
  start(firstDelayMs = 0): void {
    if (this.started) return;
    this.started = true;
    this.schedule(firstDelayMs);
  }

  /** Stops scheduling runs; resolves once the run in progress (if any) ended. */
  async stop(): Promise<void> {
    this.started = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }

  /**
   * Runs now, out of schedule (even when not started); while a run is in progress, one more follows it. Resolves
   * when the run it asked for ended.
   */
  runNow(): Promise<void> {
    if (this.running) {
      if (!this.again) {
        let resolve: () => void = () => undefined;
        const ended = new Promise<void>((settle) => (resolve = settle));
        this.again = { ended, resolve };
      }
      return this.again.ended;
    }
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    return this.run();
  }

  /** Resolves when the next run (or the one in progress) ends: the tests' signal. */
  whenRun(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    this.cancelTimer?.();
    this.cancelTimer = this.options.clock.after(delayMs, () => {
      this.cancelTimer = undefined;
      void this.run();
    });
  }

  private run(): Promise<void> {
    this.running = (async () => {
      try {
        await this.work();
      } finally {
        this.running = undefined;
        this.runs++;
        for (const resolve of this.waiters.splice(0)) resolve();
        const again = this.again;
        this.again = undefined;
        if (again) {
          void this.run().then(again.resolve);
        } else {
          this.schedule(this.options.delay());
        }
      }
    })();
    return this.running;
  }
}
