/**
 * Experiment for issue 18 (dependencies): do jobs waiting for a parent slow down claims? 5,000 due jobs are claimed
 * 50 at a time, with no waiting children and with WAITING (default 20,000) children of one parent, at priority 9
 * (they would be claimed first if the claim saw them); then the parent ends and releases them all in one
 * transaction. On SQLite and PostgreSQL.
 *
 *   node --import tsx bench/experiments/waiting-children.ts      (WAITING=20000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewJob } from '../../src/core/index.js';
import type { JobStore } from '../../src/store/job-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { dropSchema } from '../systems/postgres-admin.js';
import { POSTGRES_URL } from '../systems/system.js';

const WAITING = Number(process.env.WAITING ?? 20_000);
const SCHEMA = 'bench_waiting';

const job = (overrides: Partial<NewJob> = {}): NewJob => ({
  command: 'bench.Noop',
  businessKey: null,
  containerId: null,
  processInstanceId: null,
  owner: null,
  priority: 5,
  retries: 0,
  scheduledAt: Date.now() - 1,
  message: 'Ready to execute',
  requestData: {},
  ...overrides,
});

async function measure(name: string, store: JobStore, waiting: number): Promise<void> {
  const [parent] = await store.schedule([job({ scheduledAt: Date.now() + 3_600_000 })]);
  for (let i = 0; i < waiting; i += 1000) {
    await store.schedule(
      Array.from({ length: Math.min(1000, waiting - i) }, () => job({ dependsOn: [parent!], priority: 9 })),
    );
  }
  for (let i = 0; i < 5; i++) await store.schedule(Array.from({ length: 1000 }, () => job()));
  const start = process.hrtime.bigint();
  let claims = 0;
  while ((await store.claim({ workerId: 'w', limit: 50, now: Date.now(), leaseMs: 60_000 })).length > 0)
    claims++;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(
    `${name}, ${waiting} waiting: ${claims} claims of 50, ${(ms / claims).toFixed(2)} ms per claim`,
  );
  if (waiting === 0) return;
  await store.claim({ workerId: 'w', limit: 1, now: Date.now() + 3_700_000, leaseMs: 60_000 });
  const t = process.hrtime.bigint();
  await store.complete([
    { kind: 'succeed', jobId: parent!, workerId: 'w', now: Date.now(), responseData: {} },
  ]);
  console.log(
    `${name}: the parent's end released ${waiting} children in ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms`,
  );
}

const folder = mkdtempSync(join(tmpdir(), 'kjobs-waiting-'));
for (const waiting of [0, WAITING]) {
  const sqlite = new SqliteJobStore({ path: join(folder, `waiting-${waiting}.db`) });
  await sqlite.migrate();
  await measure('SQLite', sqlite, waiting);
  await sqlite.close();
}
rmSync(folder, { recursive: true, force: true });
for (const waiting of [0, WAITING]) {
  await dropSchema(SCHEMA);
  const postgres = new PostgresJobStore({ connectionString: POSTGRES_URL, schema: SCHEMA });
  await postgres.migrate();
  await measure('PostgreSQL', postgres, waiting);
  await postgres.close();
}
await dropSchema(SCHEMA);
