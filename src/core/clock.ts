/**
 * Where a node reads the time. The system clock by default; tests inject one that is off by minutes to show that
 * a node's clock error cannot rescue live jobs or start jobs early on PostgreSQL (which decides on its own clock).
 */
export interface Clock {
  /** Epoch milliseconds, as Date.now(). */
  now(): number;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock `offsetMs` ahead of the machine's (behind when negative). */
export function offsetClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs };
}
