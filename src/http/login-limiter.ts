/**
 * Rate limiting of failed logins: a key (the HTTP layer uses client address and user name) that gave wrong
 * credentials too often within a window is answered 429 (with `Retry-After`) on every request that needs
 * credentials, right or wrong, until its oldest failure leaves the window. Only wrong credentials count: requests without credentials, successful logins and
 * logins lacking a role never do, so a client that logs in correctly is never limited by its own traffic.
 */

/** Options of the limiter; both have defaults. */
export interface LoginLimiterOptions {
  /** Failures allowed per address within the window; 0 turns the limiter off. Default 10. */
  maxFailures?: number;
  /** The sliding window, ms. Default 60 000. */
  windowMs?: number;
  /** Addresses remembered at most; beyond, the stalest is forgotten. Default 10 000. */
  maxAddresses?: number;
}

export class LoginLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly maxAddresses: number;
  /** Per address, the times of its recent failures, oldest first (at most maxFailures). */
  private readonly failures = new Map<string, number[]>();

  constructor(options: LoginLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  get enabled(): boolean {
    return this.maxFailures > 0;
  }

  /** Seconds the address must wait before trying again, or 0 when it may try now. */
  retryAfter(address: string, now = Date.now()): number {
    if (!this.enabled) return 0;
    const times = this.recent(address, now);
    if (times.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil(((times[0] as number) + this.windowMs - now) / 1000));
  }

  /** Records a failed login of the address; answers true when this failure makes the address limited. */
  fail(address: string, now = Date.now()): boolean {
    if (!this.enabled) return false;
    const times = this.recent(address, now);
    times.push(now);
    if (times.length > this.maxFailures) times.shift();
    // Re-inserted, so the Map's order is least recently failed first.
    this.failures.delete(address);
    this.failures.set(address, times);
    while (this.failures.size > this.maxAddresses) {
      const stalest = this.failures.keys().next().value as string;
      this.failures.delete(stalest);
    }
    return times.length >= this.maxFailures;
  }

  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address);
    if (!times) return [];
    while (times.length > 0 && (times[0] as number) <= now - this.windowMs) times.shift();
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
