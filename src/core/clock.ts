/**
 * Where kjobs reads the time and sets its timers: the system clock by default. Everything that waits (the executor's
 * polls and wake-ups, leases, retries of writes, the periodic services) goes through a Clock, so tests can move time
 * themselves (test/clock.ts) instead of sleeping, and a node's clock can be put off by minutes to show that on
 * PostgreSQL the database's clock decides.
 */

/** Cancels a timer set with Clock.after; calling it again, or after the timer fired, does nothing. */
export type Cancel = () => void;

export interface TimerOptions {
  /** Keep the process alive while the timer waits (the executor's next claim); default false (housekeeping). */
  keepAlive?: boolean;
}

export interface Clock {
  /** Epoch milliseconds, as Date.now(). */
  now(): number;
  /** Calls `fn` once `ms` milliseconds have passed on this clock. */
  after(ms: number, fn: () => void, options?: TimerOptions): Cancel;
}

/** Timers of Node.js: what the system clock and clocks derived from it use. */
function nodeTimer(ms: number, fn: () => void, options: TimerOptions = {}): Cancel {
  const timer = setTimeout(fn, Math.max(0, ms));
  if (!options.keepAlive) timer.unref();
  return () => clearTimeout(timer);
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now(), after: nodeTimer };

/** A clock `offsetMs` ahead of the machine's (behind when negative); its timers run at the machine's pace. */
export function offsetClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs, after: nodeTimer };
}

/** Resolves once `ms` have passed on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve, { keepAlive: true }));
}

/**
 * A deadline on `clock`: `reached` resolves when `ms` have passed, `passed()` says whether they have. Its timer keeps
 * the process alive (someone waits for it): `cancel()` it once the wait is over.
 */
export function deadline(
  clock: Clock,
  ms: number,
): { reached: Promise<void>; passed(): boolean; cancel: Cancel } {
  let done = false;
  let resolve: () => void = () => undefined;
  const reached = new Promise<void>((settle) => (resolve = settle));
  const cancel = clock.after(
    ms,
    () => {
      done = true;
      resolve();
    },
    { keepAlive: true },
  );
  return { reached, passed: () => done, cancel };
}
