/**
 * Prototype (bench only, not kjobs code): the executor's claim loop, changed to refill its local queue in large
 * claims. With no free slot it claims only once the prefetched jobs are down to half, then fills the queue whole
 * (Graphile Worker's localQueue idea), so one claim round trip brings many jobs. Installed on one executor
 * instance by `useRefillPump`; see docs/benchmarks.md.
 */
import type { ClaimedJob } from '../../src/core/index.js';
import type { Executor } from '../../src/executor/executor.js';
import type { ClaimOptions, JobStore } from '../../src/store/job-store.js';

/** The executor's private fields the prototype reads (TypeScript `private` is compile-time only). */
interface Internals {
  pumping: boolean;
  pumpAgain: boolean;
  state: string;
  options: {
    concurrency: number;
    leaseMs: number;
    pollIntervalMs: number;
    executorId?: string;
    containers?: readonly string[];
    limits?: ClaimOptions['limits'];
  };
  running: Map<number, unknown>;
  prefetched: ClaimedJob[];
  workerId: string;
  store: JobStore;
  registry: { containerIds(): readonly string[] | undefined };
  startPrefetched(): void;
  prefetchTarget(): number;
  sleepUntilNextDue(now: number): Promise<void>;
  setWakeTimer(delay: number): void;
  emitError(error: unknown): void;
}

/** As the executor's pump, but with no free slot it claims only when the prefetch is down to half. */
export async function refillPump(this: Internals): Promise<void> {
  if (this.pumping) {
    this.pumpAgain = true;
    return;
  }
  this.pumping = true;
  try {
    do {
      this.pumpAgain = false;
      if (this.state !== 'running') return;
      this.startPrefetched();
      const free = this.options.concurrency - this.running.size;
      const target = this.prefetchTarget();
      if (free === 0 && this.prefetched.length > target / 2) return; // the change: wait until it runs low
      const want = free + target - this.prefetched.length;
      if (want <= 0) return;
      const now = Date.now();
      const jobs = await this.store.claim({
        workerId: this.workerId,
        limit: want,
        now,
        leaseMs: this.options.leaseMs,
        owner: this.options.executorId,
        containers: this.options.containers ?? this.registry.containerIds(),
        limits: this.options.limits,
      });
      this.prefetched.push(...jobs);
      if (this.state !== 'running') return;
      this.startPrefetched();
      if (jobs.length === want) this.pumpAgain = true;
      else if (jobs.length === 0 || this.running.size === 0) await this.sleepUntilNextDue(now);
      else this.setWakeTimer(this.options.pollIntervalMs);
    } while (this.pumpAgain);
  } catch (error) {
    this.emitError(error);
    this.setWakeTimer(this.options.pollIntervalMs);
  } finally {
    this.pumping = false;
  }
}

/** Replaces this executor's claim loop by the prototype (TypeScript `private` is compile-time only). */
export function useRefillPump(executor: Executor): void {
  (executor as unknown as { pump: () => Promise<void> }).pump = refillPump;
}
