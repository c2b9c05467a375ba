/** Progress (issue 18), part of the store contract: run by runStoreContract against SQLite and PostgreSQL. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobStore } from '../../src/store/job-store.js';
import { newJob } from './contract.js';

export function progressCases(store: () => JobStore): void {
  describe('progress', () => {
    it('stores the latest progress of a RUNNING job for its worker only, and get answers it', async () => {
      const [id] = await store().schedule([newJob({ scheduledAt: 1 })]);
      assert.equal((await store().get(id!))?.progress, null, 'none before any report');
      const [claimed] = await store().claim({ workerId: 'w1', limit: 1, now: Date.now(), leaseMs: 60_000 });
      assert.equal(claimed?.id, id);
      assert.equal(await store().setProgress(id!, 'w1', { value: 10 }, 1000), true);
      assert.equal(await store().setProgress(id!, 'w1', { value: 40, data: { rows: 120 } }, 2000), true);
      assert.equal(
        await store().setProgress(id!, 'other', { value: 99 }, 3000),
        false,
        'another worker: refused',
      );
      assert.deepEqual((await store().get(id!))?.progress, { value: 40, data: { rows: 120 }, at: 2000 });
      assert.deepEqual((await store().get(id!, { withData: true }))?.progress, {
        value: 40,
        data: { rows: 120 },
        at: 2000,
      });
      await store().complete([
        { kind: 'succeed', jobId: id!, workerId: 'w1', now: Date.now(), responseData: {} },
      ]);
      assert.equal(await store().setProgress(id!, 'w1', { value: 100 }, 4000), false, 'not RUNNING: refused');
      assert.deepEqual(
        (await store().get(id!))?.progress,
        { value: 40, data: { rows: 120 }, at: 2000 },
        'kept',
      );
    });
  });
}
