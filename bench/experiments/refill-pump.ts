/**
 * Prototype (bench only, not kjobs code): the executor's claim loop, changed to refill its local queue in large
 * claims. With no free slot it claims only once the prefetched jobs are down to half, then fills the queue whole
 * (Graphile Worker's localQueue idea), so one claim round trip brings many jobs. Installed on one executor
 * instance by `useRefillPump`; see docs/benchmarks.md.
 */
import type { ClaimedJob } from '../../src/core/index.js';
import type { Executor } from '../../src/executor/executor.js';
import type { FetcherHost, FetcherOptions } from '../../src/executor/job-fetcher.js';
import type { JobStore } from '../../src/store/job-store.js';

/** The fetcher's private fields the prototype reads (TypeScript `private` is compile-time only). */
interface Internals {
  fetching: boolean;
  fetchAgain: boolean;
  host: FetcherHost;
  options: FetcherOptions;
  prefetched: ClaimedJob[];
  store: JobStore;
  startPrefetched(): void;
  prefetchTarget(): number;
  sleepUntilNextDue(now: number): Promise<void>;
  setWakeTimer(delay: number): void;
}

/** As the fetcher's fetchAndStart, but with no free slot it claims only when the prefetch is down to half. */
export async function refillPump(this: Internals): Promise<void> {
  if (this.fetching) {
    this.fetchAgain = true;
    return;
  }
  this.fetching = true;
  try {
    do {
      this.fetchAgain = false;
      if (!this.host.isRunning()) return;
      this.startPrefetched();
      const free = this.options.concurrency - this.host.runningCount();
      const target = this.prefetchTarget();
      if (free === 0 && this.prefetched.length > target / 2) return; // the change: wait until it runs low
      const want = free + target - this.prefetched.length;
      if (want <= 0) return;
      const now = Date.now();
      const jobs = await this.store.claim({
        workerId: this.host.workerId,
        limit: want,
        now,
        leaseMs: this.options.leaseMs,
        owner: this.options.executorId,
        containers: this.options.containers(),
        limits: this.options.limits,
      });
      this.prefetched.push(...jobs);
      if (!this.host.isRunning()) return;
      this.startPrefetched();
      if (jobs.length === want) this.fetchAgain = true;
      else if (jobs.length === 0 || this.host.runningCount() === 0) await this.sleepUntilNextDue(now);
      else this.setWakeTimer(this.options.pollIntervalMs);
    } while (this.fetchAgain);
  } catch (error) {
    this.host.reportError(error);
    this.setWakeTimer(this.options.pollIntervalMs);
  } finally {
    this.fetching = false;
  }
}

/** Replaces this executor's claim loop by the prototype (TypeScript `private` is compile-time only). */
export function useRefillPump(executor: Executor): void {
  (executor as unknown as { fetcher: { fetchAndStart: () => Promise<void> } }).fetcher.fetchAndStart =
    refillPump;
}
