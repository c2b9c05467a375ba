/**
 * Experiment behind the HTTP finding of docs/benchmarks.md: what one SqliteJobStore.schedule() transaction
 * costs by the number of jobs in it (WAL, synchronous=NORMAL, the store's indexes).
 *
 *   node --import tsx bench/experiments/sqlite-commit.ts
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MESSAGE_READY, type NewJob } from '../../src/core/index.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';

const TOTAL = 20_000;
const path = join(tmpdir(), 'kjobs-bench-commit.db');
const job = (): NewJob => ({
  command: 'noop',
  businessKey: null,
  containerId: null,
  processInstanceId: null,
  owner: null,
  priority: 5,
  retries: 3,
  scheduledAt: Date.now(),
  message: MESSAGE_READY,
  requestData: { i: 1 },
});
for (const batch of [1, 10, 100, 1000]) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const store = new SqliteJobStore({ path });
  await store.migrate();
  const started = performance.now();
  for (let i = 0; i < TOTAL; i += batch) await store.schedule(Array.from({ length: batch }, job));
  const ms = performance.now() - started;
  console.log(
    `${String(batch).padStart(4)} jobs a transaction: ${Math.round((TOTAL * 1000) / ms)} jobs/s, ` +
      `${Math.round((ms * 1000) / (TOTAL / batch))} µs a transaction`,
  );
  await store.close();
}
for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
