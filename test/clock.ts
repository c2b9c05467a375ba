/**
 * A clock the test moves: `now()` stands still until `advance(ms)`, which fires the timers that fall due in order,
 * letting the promises each one starts settle before the next. Give it to kjobs (`clock`), the executor or a
 * service instead of waiting for real time to pass.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Cancel, Clock } from '../src/core/clock.js';

interface Pending {
  at: number;
  order: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Set<Pending>();
  private order = 0;

  constructor(start = Date.UTC(2026, 11, 7, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): Cancel {
    const timer = { at: this.time + Math.max(0, ms), order: this.order++, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (those they set too), each at its time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = [...this.timers]
        .filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise chains (and the I/O they wait for, a few turns of the event loop) go on. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await nextTurn();
}
