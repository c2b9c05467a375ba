/**
 * Where the claim starts reading jobs_due, per priority, while a long transaction holds VACUUM back.
 *
 * Each claim leaves the index entries of the jobs it took behind it. Normally VACUUM removes them and scans mark
 * them dead as they pass; while a transaction that might still see those rows stays open (a report, a stuck
 * session, `pg_dump`), neither can happen, and a claim from the start of the index walks all of them, every time:
 * the dead-tuple spiral of PostgreSQL queues. So when a claim is slow, the store asks where the live jobs of each
 * priority begin (migration 006: claim_positions, itself as slow as one such claim), and claims from there
 * (claim_jobs_from) until it looks again: the walk is then bounded by the jobs claimed since the last look, not by
 * how long the transaction has been open.
 *
 * The price: a job placed before a position after it was found (a requeue keeps its scheduled time; children
 * released by their parents' end; a job scheduled with a past date; a job given back) waits until the next look,
 * at most `maxLookMs`. This store's own requeues move the position back at once (rewind). Without a slow claim
 * nothing changes: claims read from the start, as always.
 */
export interface ClaimPosition {
  priority: number;
  scheduledAt: number;
  id: number;
}

export interface ClaimPositionsOptions {
  /** A claim slower than this (ms, as the caller saw it) makes the store look for positions. */
  slowClaimMs: number;
  /** Positions are used while looking for them took at least this long in the server (ms). */
  slowLookMs: number;
  /** Positions are looked for again after this many times the last look's time... */
  lookEvery: number;
  /** ... but not sooner than this (ms) ... */
  minLookMs: number;
  /** ... nor later. */
  maxLookMs: number;
  /** Claims wait for every look, not only the first (tests: each claim from fresh positions). */
  waitForLooks: boolean;
}

export const CLAIM_POSITIONS_DEFAULTS: ClaimPositionsOptions = {
  slowClaimMs: 10,
  slowLookMs: 3,
  lookEvery: 20,
  minLookMs: 500,
  maxLookMs: 5000,
  waitForLooks: false,
};

export class ClaimPositions {
  private positions: ClaimPosition[] | undefined;
  private lookAgainAt = 0;
  /** A look is due (positions in use and out of date, or a slow claim): the next claim looks first. */
  private lookDue = false;
  /**
   * While a look runs: the rewinds and forgets meanwhile, applied again to what it finds (it reads a snapshot taken
   * as it started, which may not show a job requeued since).
   */
  private sinceLook: Array<ClaimPosition | 'forget'> | undefined;

  constructor(private readonly options: ClaimPositionsOptions = CLAIM_POSITIONS_DEFAULTS) {}

  /** Whether claims wait for a look (the first, or every one with waitForLooks). */
  waitsForLook(): boolean {
    return this.options.waitForLooks || this.positions === undefined;
  }

  /** Whether a claim should look for positions (none is looking). */
  shouldLook(now: number): boolean {
    if (this.sinceLook) return false;
    return this.lookDue || (this.positions !== undefined && now >= this.lookAgainAt);
  }

  /** A look starts: what changes until it is found() is kept to be applied to what it finds. */
  looking(): void {
    this.sinceLook = [];
  }

  /** A look failed: the next claim may look again. */
  lookFailed(): void {
    this.sinceLook = undefined;
  }

  /** The positions to claim from, or undefined: claim from the start of the index. */
  current(): readonly ClaimPosition[] | undefined {
    return this.positions;
  }

  /** A claim from the start of the index took `ms`: a slow one makes the next claim look for positions. */
  claimedFromStart(ms: number): void {
    if (ms >= this.options.slowClaimMs) this.lookDue = true;
  }

  /**
   * What a look found, and how long it took the server: used while looking is slow, dropped otherwise. Answers
   * whether claims now start from positions where they did not (`started`), or the other way round (`ended`).
   */
  found(positions: readonly ClaimPosition[], tookMs: number, now: number): 'started' | 'ended' | undefined {
    this.lookDue = false;
    const meanwhile = this.sinceLook ?? [];
    this.sinceLook = undefined;
    const before = this.positions !== undefined;
    if (tookMs < this.options.slowLookMs) {
      this.positions = undefined; // the start of the index is cheap to read again: claim from it
      return before ? 'ended' : undefined;
    }
    this.positions = positions.map((p) => ({ ...p })).sort((a, b) => b.priority - a.priority);
    const { lookEvery, minLookMs, maxLookMs } = this.options;
    this.lookAgainAt = now + Math.min(maxLookMs, Math.max(minLookMs, lookEvery * tookMs));
    for (const change of meanwhile) {
      if (change === 'forget') this.forget();
      else this.rewind(change.priority, change.scheduledAt, change.id);
    }
    return before ? undefined : 'started';
  }

  /** A job of `priority` became due at (scheduledAt, id): claims of that priority start there at the latest. */
  rewind(priority: number, scheduledAt: number, id: number): void {
    this.sinceLook?.push({ priority, scheduledAt, id });
    const position = this.positions?.find((p) => p.priority === priority);
    if (!position) {
      // A priority outside the positions (the store holds 0 to 9): only a claim from the start finds it.
      if (this.positions) this.forget();
      return;
    }
    if (scheduledAt < position.scheduledAt || (scheduledAt === position.scheduledAt && id < position.id)) {
      position.scheduledAt = scheduledAt;
      position.id = id;
    }
  }

  /** Many jobs moved at once: claim from the start again (and look again if that is slow). */
  forget(): void {
    this.sinceLook?.push('forget');
    this.positions = undefined;
  }
}
