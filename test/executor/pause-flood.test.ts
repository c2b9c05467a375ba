/**
 * Issue 27, finding 4: pausing arbitrary names halted every claim on SQLite (one SQL parameter per paused name:
 * past 32,766, "too many SQL variables"). Claims now leave paused names out with an anti-join, however many rows
 * the paused table holds (a database left so by the previous release included); only known names can be paused,
 * at most MAX_PAUSED; a bulk request naming a status 40,000 times is one condition.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MAX_PAUSED } from '../../src/kjobs.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { startKjobs, tempFolder } from '../helpers.js';
import { newJob } from '../store/contract.js';

describe('pause floods', () => {
  it('SQLite: 40,000 paused rows (the old way in) hold no claim back, with or without limits', async () => {
    const store = new SqliteJobStore({ path: join(tempFolder(), 'paused.db') });
    await store.migrate();
    try {
      const insert = store.db.prepare("INSERT INTO paused (kind, name, paused_at) VALUES ('command', ?, 0)");
      store.db.transaction(() => {
        for (let n = 0; n < 40_000; n++) insert.run(`junk.Command${n}`);
      })();
      await store.pause({ kind: 'command', name: 'real.Paused' }, Date.now());
      const [free, held] = await store.schedule([
        newJob({ command: 'real.Free' }),
        newJob({ command: 'real.Paused' }),
      ]);
      const claimed = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        claimed.map((job) => job.id),
        [free],
      );
      const [alsoFree] = await store.schedule([newJob({ command: 'real.Free' })]);
      const limited = await store.claim({
        workerId: 'w',
        limit: 10,
        now: Date.now(),
        leaseMs: 60_000,
        limits: { commands: { 'real.Free': 5 } },
      });
      assert.deepEqual(
        limited.map((job) => job.id),
        [alsoFree],
        'with limits too',
      );
      assert.equal((await store.get(held!))?.status, 'QUEUED');
    } finally {
      await store.close();
    }
  });

  it(`pauses at most ${MAX_PAUSED} names; a bulk cancel naming one status 40,000 times is one condition`, async () => {
    const commands = Object.fromEntries(
      Array.from({ length: MAX_PAUSED + 1 }, (_, n) => [`flood.Command${n}`, () => ({})]),
    );
    const kjobs = await startKjobs({ executor: false, commands });
    for (let n = 0; n < MAX_PAUSED; n++) await kjobs.pause({ kind: 'command', name: `flood.Command${n}` });
    await kjobs.pause({ kind: 'command', name: 'flood.Command0' }); // again: nothing new
    await assert.rejects(kjobs.pause({ kind: 'command', name: `flood.Command${MAX_PAUSED}` }), {
      name: 'ValidationError',
      message: new RegExp(`${MAX_PAUSED} commands and containers are paused, the most there may be`),
    });
    await kjobs.schedule({ command: 'flood.Command1', scheduledAt: Date.now() + 60_000 });
    const result = await kjobs.bulkCancel({
      status: Array.from({ length: 40_000 }, () => 'QUEUED'),
      command: 'flood.Command1',
    });
    assert.equal(result.changed.length, 1);
  });
});
