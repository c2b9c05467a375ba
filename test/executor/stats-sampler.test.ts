// The statistics sampler: its first sample counts the last day's finished jobs; later samples recount only the last
// minutes, so counts of older minutes survive the deletion of their jobs (retention); sampling failures are logged.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { MESSAGE_READY } from '../../src/core/index.js';
import { StatsSampler } from '../../src/executor/stats-sampler.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempFolder } from '../helpers.js';

const MINUTE = 60_000;
const silent = pino({ level: 'silent' });

async function finishedJob(store: SqliteJobStore, at: number, kind: 'succeed' | 'fail'): Promise<number> {
  const [id] = await store.schedule([
    {
      command: 'c',
      businessKey: null,
      containerId: null,
      processInstanceId: null,
      owner: null,
      priority: 5,
      retries: 0,
      scheduledAt: 1,
      message: MESSAGE_READY,
      requestData: {},
    },
  ]);
  await store.claim({ workerId: 'w', limit: 1, now: at - 100, leaseMs: 60_000 });
  await store.complete([
    kind === 'succeed'
      ? { kind, jobId: id!, workerId: 'w', now: at, responseData: {} }
      : {
          kind,
          jobId: id!,
          workerId: 'w',
          now: at,
          error: { message: 'x', stacktrace: null },
          retries: 0,
          scheduledAt: at,
        },
  ]);
  return id!;
}

describe('statistics sampler', () => {
  it('counts the last day at its first sample, then keeps old minutes when their jobs are deleted', async () => {
    const store = new SqliteJobStore({ path: join(tempFolder(), 'jobs.db') });
    await store.migrate();
    try {
      const now = Date.now();
      const earlier = Math.floor((now - 30 * MINUTE) / MINUTE) * MINUTE + 1000;
      const yesterday = now - 30 * 60 * MINUTE; // 30 hours ago: outside the first sample's day
      await finishedJob(store, earlier, 'succeed');
      await finishedJob(store, earlier + 2000, 'fail');
      await finishedJob(store, yesterday, 'succeed');
      const sampler = new StatsSampler(store, { logger: silent });
      await sampler.sample(now);
      const firstMinute = Math.floor(earlier / MINUTE) * MINUTE;
      assert.deepEqual(
        await store
          .readStats(now - 40 * 60 * MINUTE, now + MINUTE)
          .then((rows) => rows.filter((r) => r.done + r.error > 0)),
        [{ minute: firstMinute, done: 1, error: 1, waiting: null }],
      );
      // Retention deletes the jobs: the next sample recounts the last minutes only, the old minute keeps its numbers.
      await store.deleteFinished({ olderThan: now, statuses: [] });
      await sampler.sample(now + 10_000);
      assert.deepEqual(await store.readStats(firstMinute, firstMinute + MINUTE), [
        { minute: firstMinute, done: 1, error: 1, waiting: null },
      ]);
      const current = await store.readStats(Math.floor(now / MINUTE) * MINUTE, now + MINUTE);
      assert.equal(current[0]?.waiting, 0, 'the current minute has its waiting sample');
    } finally {
      await store.close();
    }
  });

  it('logs a failed sample and does not throw', async () => {
    const store = new SqliteJobStore({ path: join(tempFolder(), 'jobs.db') });
    await store.migrate();
    await store.close();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    await new StatsSampler(store, { logger }).sample();
    assert.match(warnings.join(''), /statistics: sampling failed/);
  });
});
