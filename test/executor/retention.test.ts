// Retention: finished jobs older than the period are deleted in batches, on both stores; active and recent jobs stay.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { RetentionSweeper } from '../../src/executor/retention.js';
import { createKjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';

const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

const stores: [string, () => Promise<JobStore>, string | false][] = [
  ['SQLite', async () => new SqliteJobStore({ path: join(tempFolder(), 'retention.db') }), false],
  ['PostgreSQL', () => openTestStore({ clock: 'caller' }), POSTGRES_SKIP],
];

for (const [name, open, skip] of stores) {
  describe(`retention (${name})`, { skip }, () => {
    const opened: JobStore[] = [];
    after(async () => {
      for (const store of opened) await store.close();
    });

    it('deletes finished jobs older than the period, batch by batch; keeps recent and active ones', async () => {
      const store = await open();
      opened.push(store);
      await store.migrate();
      const now = Date.now();
      const job = (command: string) => ({
        command,
        businessKey: null,
        containerId: null,
        processInstanceId: null,
        owner: null,
        priority: 5,
        retries: 0,
        scheduledAt: now + DAY,
        message: 'Ready to execute',
        requestData: {},
      });
      const old = await store.schedule(Array.from({ length: 5 }, () => job('old')));
      const [recent, active] = await store.schedule([job('recent'), job('active')]);
      // Cancelled 10 days ago (cancel records its `now` as the finish time), and one an hour ago.
      for (const id of old) await store.cancel(id, now - 10 * DAY);
      await store.cancel(recent!, now - 3_600_000);

      const sweeper = new RetentionSweeper(store, { retentionMs: 7 * DAY, batchSize: 2, logger });
      assert.equal(await sweeper.sweep(), 2, 'not started: one batch of 2');
      // Started, a sweep goes on batch by batch until nothing is past retention.
      const swept = sweeper.task.whenRun();
      sweeper.start();
      await swept;
      await sweeper.stop();
      assert.equal((await Promise.all(old.map((id) => store.get(id)))).filter(Boolean).length, 0);
      assert.equal((await store.get(recent!))?.status, 'CANCELLED');
      assert.equal((await store.get(active!))?.status, 'QUEUED');
    });
  });
}

describe('retention through the library option', () => {
  it('a started kjobs with retentionMs sweeps; without it, nothing is deleted', async () => {
    const folder = tempFolder();
    const kept = await createKjobs({ store: join(folder, 'kept.db'), executor: false });
    const swept = await createKjobs({ store: join(folder, 'swept.db'), executor: false, retentionMs: DAY });
    for (const kjobs of [kept, swept]) {
      const id = await kjobs.schedule({ command: 'org.jbpm.executor.commands.PrintOutCommand' });
      await kjobs.store.cancel(id, Date.now() - 2 * DAY);
      await kjobs.start();
    }
    await eventually(
      async () => (await swept.countByStatus()).CANCELLED,
      (left) => left === 0,
    );
    assert.equal((await kept.countByStatus()).CANCELLED, 1);
    await kept.stop();
    await swept.stop();
  });
});
