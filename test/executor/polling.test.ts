/**
 * The executor's sleep between claims: a due job it cannot take (another executor's, a container it does not
 * serve, held back by a limit) must not make it claim more often than the poll interval, and must not delay the
 * jobs it can take.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { openStore } from '../../src/store/open-store.js';
import { eventually, tempFolder } from '../helpers.js';

const POLL_MS = 300;
const WATCH_MS = 1500;

/** A started kjobs on a real SQLite store whose claims are counted. */
async function countingKjobs(options: KjobsOptions): Promise<{ kjobs: Kjobs; claims: () => number }> {
  const store: JobStore = await openStore(join(tempFolder(), 'polling.db'));
  let claims = 0;
  const claim = store.claim.bind(store);
  store.claim = (query) => {
    claims++;
    return claim(query);
  };
  const kjobs = await createKjobs({ store, ...options });
  await kjobs.start();
  after(async () => {
    await kjobs.stop(100);
    await store.close();
  });
  return { kjobs, claims: () => claims };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Claims made while watching, against what the poll interval allows (plus a few for wake-ups). */
async function claimsWhileIdle(claims: () => number): Promise<number> {
  await sleep(200); // let start-up claims settle
  const before = claims();
  await sleep(WATCH_MS);
  return claims() - before;
}

const MOST_CLAIMS = Math.ceil(WATCH_MS / POLL_MS) + 3;

describe('executor: polling', () => {
  it('a due job owned by another executor does not make it claim faster than the poll interval', async () => {
    const { kjobs, claims } = await countingKjobs({
      commands: { work: () => undefined },
      executor: { pollIntervalMs: POLL_MS },
    });
    const id = await kjobs.schedule({ command: 'work', data: { owner: 'another-node' } });
    const made = await claimsWhileIdle(claims);
    assert.ok(made <= MOST_CLAIMS, `${made} claims in ${WATCH_MS} ms with a poll interval of ${POLL_MS} ms`);
    assert.equal((await kjobs.get(id)).status, 'QUEUED');
  });

  it('a due job held back by a concurrency limit does not either', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    after(() => release());
    const { kjobs, claims } = await countingKjobs({
      commands: { slow: () => held },
      executor: { pollIntervalMs: POLL_MS, limits: { commands: { slow: 1 } } },
    });
    const first = await kjobs.schedule({ command: 'slow' });
    await eventually(
      () => kjobs.get(first),
      (job) => job.status === 'RUNNING',
    );
    const second = await kjobs.schedule({ command: 'slow' });
    const made = await claimsWhileIdle(claims);
    assert.ok(made <= MOST_CLAIMS, `${made} claims in ${WATCH_MS} ms with a poll interval of ${POLL_MS} ms`);
    assert.equal((await kjobs.get(second)).status, 'QUEUED');
    // When the running one ends, the held-back one starts without waiting for a poll.
    release();
    await eventually(
      () => kjobs.get(second),
      (job) => job.status === 'DONE',
    );
  });

  it('a job of its own due soon still starts on time next to a due job it cannot take', async () => {
    const started: number[] = [];
    const { kjobs } = await countingKjobs({
      commands: { work: () => void started.push(Date.now()) },
      executor: { pollIntervalMs: 10_000 },
    });
    await kjobs.schedule({ command: 'work', data: { owner: 'another-node' } });
    await sleep(100);
    const due = Date.now() + 300;
    const id = await kjobs.schedule({ command: 'work', scheduledAt: due });
    const job = await kjobs.waitFor(id, { timeoutMs: 5_000, pollMs: 20 });
    assert.equal(job.status, 'DONE');
    // Started when due, not at the next poll 10 s later.
    assert.ok(started[0]! >= due && started[0]! < due + 3_000, `started ${started[0]! - due} ms after due`);
  });

  it('a job held back by a rate limit starts when the window opens, without polling meanwhile', async () => {
    const { kjobs, claims } = await countingKjobs({
      commands: { ping: () => undefined },
      executor: {
        pollIntervalMs: 60_000,
        limits: { rates: { commands: { ping: { starts: 1, periodMs: 1_000 } } } },
      },
    });
    const before = claims();
    const ids = await kjobs.scheduleMany([{ command: 'ping' }, { command: 'ping' }, { command: 'ping' }]);
    // With a 60 s poll interval, only the window's wake-up can start the second and third within the timeout.
    for (const id of ids)
      assert.equal((await kjobs.waitFor(id, { timeoutMs: 15_000, pollMs: 20 })).status, 'DONE');
    const starts = await Promise.all(ids.map(async (id) => (await kjobs.get(id)).startedAt!));
    starts.sort((a, b) => a - b);
    assert.ok(
      starts[1]! - starts[0]! >= 1_000 && starts[2]! - starts[1]! >= 1_000,
      `starts ${starts.join(', ')}`,
    );
    const made = claims() - before;
    assert.ok(made <= 12, `${made} claims for three jobs two windows apart`);
  });
});
