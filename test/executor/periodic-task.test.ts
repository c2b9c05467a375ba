// The start/stop base of the periodic services, on a ManualClock: runs one at a time, each `delay` after the last
// ended, runNow coalescing with a run in progress, stop waiting for it; no real time passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeriodicTask } from '../../src/executor/periodic-task.js';
import { ManualClock } from '../clock.js';

describe('PeriodicTask', () => {
  it('runs at once, then each delay after the previous run ended; stop waits for a run in progress', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    let finish: (() => void) | undefined;
    const task = new PeriodicTask(
      async () => {
        startedAt.push(clock.now());
        if (startedAt.length === 2) await new Promise<void>((resolve) => (finish = resolve));
      },
      { clock, delay: () => 1000 },
    );
    task.start();
    await clock.advance(0);
    assert.deepEqual(startedAt, [clock.now()]);
    const t0 = startedAt[0]!;
    await clock.advance(999);
    assert.equal(startedAt.length, 1, 'not before the delay');
    await clock.advance(1);
    assert.deepEqual(startedAt, [t0, t0 + 1000]);
    // The second run takes 5 s: the next one is counted from its end.
    await clock.advance(5000);
    finish!();
    await clock.advance(999);
    assert.equal(startedAt.length, 2);
    await clock.advance(1);
    assert.deepEqual(startedAt, [t0, t0 + 1000, t0 + 7000]);
    await task.stop();
    await clock.advance(10_000);
    assert.equal(startedAt.length, 3, 'stopped: no more runs');
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  it('runNow runs at once; asked during a run, it runs once more right after, however often asked', async () => {
    const clock = new ManualClock();
    let runs = 0;
    let finish: (() => void) | undefined;
    const task = new PeriodicTask(
      async () => {
        runs++;
        if (runs === 1) await new Promise<void>((resolve) => (finish = resolve));
      },
      { clock, delay: () => 60_000 },
    );
    task.start();
    await clock.advance(0);
    const asked = [task.runNow(), task.runNow(), task.runNow()];
    finish!();
    await Promise.all(asked);
    assert.equal(runs, 2, 'the run in progress, and one more');
    assert.equal(task.runs, 2);
    await task.runNow();
    assert.equal(runs, 3);
    await task.stop();
  });

  it('asks for its delay after each run (backoff)', async () => {
    const clock = new ManualClock();
    const startedAt: number[] = [];
    const task = new PeriodicTask(async () => void startedAt.push(clock.now()), {
      clock,
      delay: () => 100 * startedAt.length,
    });
    task.start();
    await clock.advance(600);
    const t0 = startedAt[0]!;
    assert.deepEqual(
      startedAt.map((at) => at - t0),
      [0, 100, 300, 600],
    );
    await task.stop();
  });
});
