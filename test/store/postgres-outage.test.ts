/**
 * PostgreSQL stops and starts again under a running kjobs node, on a server of this test's own (privatePostgres), so
 * no other test running meanwhile is disturbed.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { StoreUnavailableError } from '../../src/core/index.js';
import { createKjobs } from '../../src/kjobs.js';
import { eventually } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP, privatePostgres } from './postgres-helpers.js';

it(
  'a node survives PostgreSQL going away: 503-style errors at once while down, then it carries on',
  { skip: POSTGRES_SKIP, timeout: 90_000 },
  async (t) => {
    const server = await privatePostgres(t);
    if (!server) return;
    const store = await openTestStore({
      connectionString: server.url,
      poolSize: 4,
      connectionTimeoutMs: 1000,
    });
    const other = await openTestStore({ connectionString: server.url, schema: store.schema, poolSize: 2 });
    const kjobs = await createKjobs({
      store,
      executor: { concurrency: 5, leaseMs: 2000, pollIntervalMs: 200 },
      commands: { slow: async () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 300)) },
    });
    const errors: Error[] = [];
    kjobs.executor!.on('error', (error) => errors.push(error));
    await kjobs.start();
    let wakes = 0;
    const unsubscribe = await store.subscribe(() => wakes++);
    try {
      const before = await kjobs.scheduleMany(Array.from({ length: 20 }, () => ({ command: 'slow' })));
      await eventually(
        () => kjobs.countByStatus(),
        (counts) => counts.RUNNING > 0,
      );

      await server.stop();
      const started = Date.now();
      await assert.rejects(kjobs.get(before[0]!), StoreUnavailableError);
      await assert.rejects(kjobs.schedule({ command: 'slow' }), StoreUnavailableError);
      await assert.rejects(kjobs.countByStatus(), StoreUnavailableError);
      assert.ok(Date.now() - started < 3000, `failed fast (${Date.now() - started} ms)`);
      // Jobs finish meanwhile; their outcomes wait in the executor, which keeps trying.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(errors.length > 0, 'the executor reported the lost database');

      await server.start();
      const after = await eventually(
        () =>
          kjobs.scheduleMany(Array.from({ length: 5 }, () => ({ command: 'slow' }))).catch(() => undefined),
        (ids) => ids !== undefined,
        10_000,
      );
      const counts = await eventually(
        () => kjobs.countByStatus(),
        (c) => c.DONE === before.length + after!.length,
        20_000,
      );
      assert.equal(counts.RUNNING + counts.QUEUED + counts.RETRYING + counts.ERROR, 0);
      // The listener reconnected: a job scheduled by another node wakes this one again.
      const wakesBefore = wakes;
      await other.schedule([
        {
          command: 'slow',
          businessKey: null,
          containerId: null,
          processInstanceId: null,
          owner: null,
          priority: 5,
          retries: 3,
          scheduledAt: Date.now(),
          message: 'Ready to execute',
          requestData: {},
        },
      ]);
      await eventually(
        () => wakes,
        (n) => n > wakesBefore,
        10_000,
      );
    } finally {
      await server.start();
      await unsubscribe();
      await kjobs.stop(1000);
      await other.close().catch(() => undefined);
      await store.close();
    }
  },
);
