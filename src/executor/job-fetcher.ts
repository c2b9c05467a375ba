import type { Cancel, ClaimedJob, Clock } from '../core/index.js';
import type { ConcurrencyLimits, LimitReport } from '../store/job-store.js';
import type { JobSource } from './job-source.js';

/** With prefetch 'auto', jobs are prefetched while runs average less than this. */
const AUTO_PREFETCH_BELOW_MS = 20;
/** With prefetch 'auto', how much work (in run time) to hold prefetched, and at most how many jobs. */
const AUTO_PREFETCH_WORK_MS = 100;
const AUTO_PREFETCH_MAX = 200;

export interface FetcherOptions {
  concurrency: number;
  prefetch: number | 'auto';
  pollIntervalMs: number;
  leaseMs: number;
  clock: Clock;
  executorId?: string;
  containers: () => readonly string[];
  limits?: ConcurrencyLimits;
}

/** What the fetcher needs of its executor. */
export interface FetcherHost {
  readonly workerId: string;
  /** False once the executor stops: nothing more is claimed or started. */
  isRunning(): boolean;
  runningCount(): number;
  /** Starts a claimed job in a free slot. */
  startJob(job: ClaimedJob): void;
  reportError(error: unknown): void;
  /** What the limits did in a claim (metrics). Optional. */
  reportLimits?(report: LimitReport): void;
}

/**
 * Claims due jobs for free slots and holds a few more claimed (prefetched) so that a finishing job's slot is
 * refilled without a round trip to the store; sleeps until the next job is due, or something wakes it.
 */
export class JobFetcher {
  /** Claimed jobs waiting for a free slot (RUNNING under this worker's lease). */
  private prefetched: ClaimedJob[] = [];
  /** Moving average of run durations, for prefetch 'auto'; starts high so nothing is prefetched blindly. */
  private averageRunMs = Infinity;
  private fetchScheduled = false;
  /** The claim loop in flight, if any. */
  private fetching: Promise<void> | undefined;
  private fetchAgain = false;
  private cancelWake: Cancel | undefined;
  private wakeAt = Infinity;
  /** Ends a claim that waits (a long poll) when the executor stops. */
  private stopping = new AbortController();

  constructor(
    private readonly store: JobSource,
    private readonly host: FetcherHost,
    private readonly options: FetcherOptions,
  ) {}

  /** Resolves once no claim is in flight (the jobs of one land among the prefetched ones). */
  async idle(): Promise<void> {
    while (this.fetching) await this.fetching;
  }

  /** Ids of the prefetched jobs, whose leases are renewed with the running ones. */
  prefetchedIds(): number[] {
    return this.prefetched.map((job) => job.id);
  }

  /** Forgets prefetched jobs this worker no longer holds. */
  dropPrefetched(jobIds: readonly number[]): void {
    if (jobIds.length > 0) this.prefetched = this.prefetched.filter((job) => !jobIds.includes(job.id));
  }

  /** Takes the prefetched jobs away (to give them back on stop). */
  takePrefetched(): ClaimedJob[] {
    return this.prefetched.splice(0);
  }

  /** Counts a finished run's duration into the average that steers prefetch 'auto'. */
  addRunDuration(ms: number): void {
    this.averageRunMs = this.averageRunMs === Infinity ? ms : this.averageRunMs * 0.9 + ms * 0.1;
  }

  /** Claims again once this turn of the event loop is over, so slots freed together are claimed together. */
  fetchSoon(): void {
    // setImmediate, not a 0 ms timer: Node runs those no sooner than 1 ms later, a third of an idle start.
    if (!this.host.isRunning() || this.fetchScheduled) return;
    this.fetchScheduled = true;
    setImmediate(() => {
      this.fetchScheduled = false;
      void this.fetchAndStart();
    });
  }

  stop(): void {
    this.stopping.abort();
    this.stopping = new AbortController(); // for claims after a later start
    this.cancelWake?.();
    this.cancelWake = undefined;
  }

  /**
   * Starts prefetched jobs in free slots, claims what is missing (free slots plus the prefetch), and sets the
   * timer for the next due job.
   */
  private fetchAndStart(): Promise<void> {
    if (this.fetching) {
      this.fetchAgain = true;
      return this.fetching;
    }
    this.fetching = this.claimAndStart().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async claimAndStart(): Promise<void> {
    try {
      do {
        this.fetchAgain = false;
        if (!this.host.isRunning()) return;
        this.startPrefetched();
        const free = this.options.concurrency - this.host.runningCount();
        const target = this.prefetchTarget();
        // With every slot busy, claim only once the prefetched jobs are down to half, then fill them up whole:
        // claims then bring many jobs at once, instead of topping up the few that just started.
        if (free <= 0 && this.prefetched.length > target / 2) return; // a finishing job fetches again
        const want = free + target - this.prefetched.length;
        if (want <= 0) return;
        const now = this.options.clock.now();
        // Kept and acted on once the claim is over (the store calls back inside its transaction).
        let report: LimitReport | undefined;
        const jobs = await this.store.claim({
          workerId: this.host.workerId,
          limit: want,
          now,
          leaseMs: this.options.leaseMs,
          owner: this.options.executorId,
          containers: this.options.containers(),
          limits: this.options.limits,
          onLimits: (limits) => (report = limits),
          signal: this.stopping.signal,
        });
        if (report) this.afterLimits(report);
        this.prefetched.push(...jobs);
        if (!this.host.isRunning()) return; // stop() gives them back
        this.startPrefetched();
        if (jobs.length === want) this.fetchAgain = true;
        else if (jobs.length === 0 || this.host.runningCount() === 0) await this.sleepUntilNextDue(now);
        // Else jobs are running and their ends claim again; the poll timer covers jobs due meanwhile.
        else this.setWakeTimer(this.options.pollIntervalMs);
      } while (this.fetchAgain);
    } catch (error) {
      this.host.reportError(error);
      this.setWakeTimer(this.options.pollIntervalMs);
    }
  }

  /** A job held back by a rate limit is due but waits for its window: nothing else would wake us then. */
  private afterLimits(report: LimitReport): void {
    if (report.rateOpensAt !== null) {
      this.setWakeTimer(Math.max(report.rateOpensAt - this.options.clock.now(), 0));
    }
    try {
      this.host.reportLimits?.(report);
    } catch (error) {
      this.host.reportError(error);
    }
  }

  private startPrefetched(): void {
    while (this.host.runningCount() < this.options.concurrency && this.prefetched.length > 0) {
      this.host.startJob(this.prefetched.shift()!);
    }
  }

  /**
   * How many jobs to hold claimed beyond the free slots. With 'auto', only while recent runs are short: long
   * jobs would hold the prefetched ones back from other workers.
   */
  private prefetchTarget(): number {
    const prefetch = this.options.prefetch;
    if (prefetch !== 'auto') return prefetch;
    if (!(this.averageRunMs < AUTO_PREFETCH_BELOW_MS)) return 0;
    // About AUTO_PREFETCH_WORK_MS of work: no-op jobs fill it to the cap, 10 ms jobs to ten per slot.
    const perSlot = AUTO_PREFETCH_WORK_MS / Math.max(this.averageRunMs, 0.5);
    const { concurrency } = this.options;
    return Math.min(AUTO_PREFETCH_MAX, Math.max(concurrency, Math.round(concurrency * perSlot)));
  }

  /**
   * Sleeps until the next job due after this claim, at most the poll interval. Jobs already due that the claim
   * left behind are not this executor's to take (owned by another, of a container it does not serve, held back
   * by a limit): they must not shorten the sleep, or one of them would make it claim again and again. What frees
   * them (a finishing job, a schedule, NOTIFY) wakes the executor, and the poll interval bounds the rest.
   */
  private async sleepUntilNextDue(now: number): Promise<void> {
    // How long until the next job is due, on the store's clock (PostgreSQL's own: the same for every node).
    const wait = await this.store.nextDueIn(now);
    const poll = this.options.pollIntervalMs;
    this.setWakeTimer(wait === null ? poll : Math.min(Math.max(wait, 0), poll));
  }

  private setWakeTimer(delay: number): void {
    const at = this.options.clock.now() + delay;
    if (this.cancelWake && at >= this.wakeAt) return;
    this.cancelWake?.();
    this.wakeAt = at;
    // Keeps the process alive: a worker without HTTP waits on it for its next job.
    this.cancelWake = this.options.clock.after(
      delay,
      () => {
        this.cancelWake = undefined;
        this.wakeAt = Infinity;
        void this.fetchAndStart();
      },
      { keepAlive: true },
    );
  }
}
