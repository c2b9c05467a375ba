/**
 * The background half of releasing children (store/dependency-release.ts): walks what the releases right after
 * jobs' ends left marked (graphs larger than their budget, releases a crash or a failover stopped halfway, a
 * database stuck before migration 008), one bounded transaction at a time with the event loop let go in between,
 * so requests, claims and outcomes go on meanwhile. Every node runs one; several walk at once safely (the store
 * locks what each walks).
 *
 * A walk the store refuses every time (a poison) is isolated: each marked parent is then walked alone, and one
 * that fails POISON_TRIES times is given up with an error record naming the store's error, so one parent never
 * holds the others' releases back.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import { isTransientStoreError } from '../store/failures.js';
import type { JobStore } from '../store/job-store.js';
import { POISON_TRIES } from './outcome-writer.js';
import { PeriodicTask } from './periodic-task.js';

export interface DependencyReleaserOptions {
  /** How often to look for marked parents when nothing is left. Default 2 s. */
  intervalMs?: number;
  clock?: Clock;
  logger: Logger;
}

/** Marked parents looked at one by one when walks fail. */
const ISOLATED_PER_ROUND = 100;

export class DependencyReleaser {
  /** The schedule of walks (start, stop; tests wait on its runs). */
  readonly task: PeriodicTask;
  private unwatch: (() => void) | undefined;
  private readonly intervalMs: number;
  /** Walks in a row that failed with a poison error. */
  private failures = 0;
  /** Failed walks per parent, while isolating. */
  private readonly parentFailures = new Map<number, number>();

  constructor(
    private readonly store: JobStore,
    private readonly options: DependencyReleaserOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 2_000;
    this.task = new PeriodicTask(() => this.walk(), {
      clock: options.clock ?? systemClock,
      // After a failure, sooner (and later with each one in a row), so a poison is isolated within seconds.
      delay: () => (this.failures > 0 ? Math.min(this.intervalMs, 200 * this.failures) : this.intervalMs),
    });
  }

  start(): void {
    if (this.task.isStarted) return;
    // Told at once when a release on this node left work; the schedule finds the rest.
    this.unwatch = this.store.watchReleases?.(() => void this.task.runNow());
    this.task.start();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.task.stop();
  }

  /** Walks until nothing is left (or the store refuses); answers when done. Never throws. */
  runOnce(): Promise<void> {
    return this.task.runNow();
  }

  private async walk(): Promise<void> {
    for (;;) {
      let more: boolean;
      try {
        if (this.failures >= POISON_TRIES) {
          const round = await this.walkEachAlone();
          // While a parent fails, the next round soon, each parent alone again.
          if (round.failed) return;
          more = round.more;
        } else {
          more = (await this.store.releasePending()).more;
        }
        this.failures = 0;
      } catch (error) {
        if (isTransientStoreError(error)) {
          this.options.logger.warn(
            { err: error },
            'releasing children: the store is unavailable; trying later',
          );
          return;
        }
        this.failures++;
        this.options.logger.warn(
          { err: error, failures: this.failures },
          this.failures >= POISON_TRIES
            ? 'releasing children keeps failing: walking each waiting parent alone'
            : 'releasing children failed; trying again',
        );
        return;
      }
      if (!more || !this.task.isStarted) return;
      // Let requests, claims and outcomes in between transactions.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Walks each marked parent alone; gives up those that keep failing. Answers whether more may be left, and
   * whether any failed.
   */
  private async walkEachAlone(): Promise<{ more: boolean; failed: boolean }> {
    const parents = await this.store.pendingReleases(ISOLATED_PER_ROUND);
    let more = false;
    let failed = false;
    for (const parentId of parents) {
      try {
        more = (await this.store.releasePending(undefined, [parentId])).more || more;
        this.parentFailures.delete(parentId);
      } catch (error) {
        if (isTransientStoreError(error)) throw error;
        failed = true;
        const tries = (this.parentFailures.get(parentId) ?? 0) + 1;
        this.parentFailures.set(parentId, tries);
        if (tries < POISON_TRIES) continue;
        this.parentFailures.delete(parentId);
        const reason = error instanceof Error ? error.message : String(error);
        await this.store.abandonRelease(
          parentId,
          `kjobs could not release the jobs waiting for this one: ${reason}`,
          (this.options.clock ?? systemClock).now(),
        );
        this.options.logger.error(
          { jobId: parentId, err: error },
          `gave up releasing the children of job ${parentId} after ${tries} failed tries; they still wait ` +
            '(its errors say why): cancel them, or requeue them once the cause is fixed',
        );
      }
    }
    // Back to walks of any parent once a round of them went through.
    return { more: more || parents.length === ISOLATED_PER_ROUND, failed };
  }
}
