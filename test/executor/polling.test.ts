/**
 * The executor's sleep between claims: a due job it cannot take (another executor's, a container it does not
 * serve, held back by a limit) must not make it claim more often than the poll interval, and must not delay the
 * jobs it can take. Time is a ManualClock the test moves: claims are counted over exact intervals, and jobs start at
 * their due time to the millisecond, with no waiting on real time.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { openStore } from '../../src/store/open-store.js';
import { ManualClock } from '../clock.js';
import { tempFolder } from '../helpers.js';

const POLL_MS = 300;

/** A started kjobs on a real SQLite store, on a ManualClock, whose claims are counted. */
async function countingKjobs(
  options: KjobsOptions,
): Promise<{ kjobs: Kjobs; clock: ManualClock; claims: () => number }> {
  const store: JobStore = await openStore(join(tempFolder(), 'polling.db'));
  let claims = 0;
  const claim = store.claim.bind(store);
  store.claim = (query) => {
    claims++;
    return claim(query);
  };
  const clock = new ManualClock();
  const kjobs = await createKjobs({ store, clock, statsIntervalMs: 0, ...options });
  await kjobs.start();
  await clock.advance(0);
  after(async () => {
    const stopped = kjobs.stop(0);
    await clock.advance(0);
    await stopped;
    await store.close();
  });
  return { kjobs, clock, claims: () => claims };
}

describe('executor: polling', () => {
  it('a due job owned by another executor does not make it claim faster than the poll interval', async () => {
    const { kjobs, clock, claims } = await countingKjobs({
      commands: { work: () => undefined },
      executor: { pollIntervalMs: POLL_MS },
    });
    const id = await kjobs.schedule({ command: 'work', data: { owner: 'another-node' } });
    await clock.advance(0);
    const before = claims();
    await clock.advance(10 * POLL_MS);
    assert.equal(claims() - before, 10, 'one claim a poll interval');
    assert.equal((await kjobs.get(id)).status, 'QUEUED');
  });

  it('a due job held back by a concurrency limit does not either; it starts as soon as the slot frees', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    after(() => release());
    const { kjobs, clock, claims } = await countingKjobs({
      commands: { slow: () => held },
      executor: { pollIntervalMs: POLL_MS, limits: { commands: { slow: 1 } } },
    });
    const first = await kjobs.schedule({ command: 'slow' });
    await clock.advance(0);
    assert.equal((await kjobs.get(first)).status, 'RUNNING');
    const second = await kjobs.schedule({ command: 'slow' });
    await clock.advance(0);
    const before = claims();
    await clock.advance(10 * POLL_MS);
    assert.equal(claims() - before, 10, 'one claim a poll interval');
    assert.equal((await kjobs.get(second)).status, 'QUEUED');
    // When the running one ends, the held-back one starts without waiting for a poll: no time passes.
    release();
    await clock.advance(0);
    assert.equal((await kjobs.get(second)).status, 'DONE');
  });

  it('a job of its own due soon starts when due next to a due job it cannot take', async () => {
    const started: number[] = [];
    const { kjobs, clock } = await countingKjobs({
      commands: { work: () => void started.push(clock.now()) },
      executor: { pollIntervalMs: 10_000 },
    });
    await kjobs.schedule({ command: 'work', data: { owner: 'another-node' } });
    await clock.advance(100);
    const due = clock.now() + 300;
    const id = await kjobs.schedule({ command: 'work', scheduledAt: due });
    await clock.advance(299);
    assert.equal((await kjobs.get(id)).status, 'QUEUED', 'not before it is due');
    await clock.advance(1);
    assert.equal((await kjobs.get(id)).status, 'DONE');
    assert.deepEqual(started, [due], 'started when due, not at the next poll 10 s later');
  });

  it('a job held back by a rate limit starts when the window opens, without polling meanwhile', async () => {
    const { kjobs, clock, claims } = await countingKjobs({
      commands: { ping: () => undefined },
      executor: {
        pollIntervalMs: 60_000,
        limits: { rates: { commands: { ping: { starts: 1, periodMs: 1_000 } } } },
      },
    });
    const before = claims();
    const ids = await kjobs.scheduleMany([{ command: 'ping' }, { command: 'ping' }, { command: 'ping' }]);
    await clock.advance(0);
    const statuses = async () => Promise.all(ids.map(async (id) => (await kjobs.get(id)).status));
    assert.deepEqual(await statuses(), ['DONE', 'QUEUED', 'QUEUED']);
    await clock.advance(1_000);
    assert.deepEqual(await statuses(), ['DONE', 'DONE', 'QUEUED'], 'the second when the window opens');
    await clock.advance(1_000);
    assert.deepEqual(await statuses(), ['DONE', 'DONE', 'DONE']);
    const starts = await Promise.all(
      ids.map(async (id) => (await kjobs.get(id)).startedAt! - ids.length * 0),
    );
    assert.deepEqual(
      starts.map((start) => start - starts[0]!),
      [0, 1_000, 2_000],
      'each a window after the one before',
    );
    const made = claims() - before;
    assert.ok(made <= 9, `${made} claims for three jobs two windows apart (the poll interval is 60 s)`);
  });
});
