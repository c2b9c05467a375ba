/** kjobs as a library, on PostgreSQL or SQLite: scheduleMany/schedule and the built-in executor. */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { useRefillPump } from '../experiments/refill-pump.js';
import { dropSchema } from './postgres-admin.js';
import { POSTGRES_URL, type BenchSystem, type Payload } from './system.js';

const SCHEMA = 'bench_kjobs';
const REFILL_PREFETCH = 190;
export const SQLITE_DIR = join(tmpdir(), 'kjobs-bench');

function openStore(backend: 'postgres' | 'sqlite'): JobStore {
  if (backend === 'postgres') return new PostgresJobStore({ connectionString: POSTGRES_URL, schema: SCHEMA });
  return new SqliteJobStore({ path: join(SQLITE_DIR, 'queue.db') });
}

/**
 * `experiment: 'refill'` runs the executor with the claim-refill prototype of bench/experiments/refill-pump.ts
 * and a prefetch of 190: a measured proposal, not kjobs as shipped.
 */
export function kjobsSystem(backend: 'postgres' | 'sqlite', experiment?: 'refill'): BenchSystem {
  let kjobs: Kjobs | undefined;
  // kjobs leaves a store it was handed open: the adapter closes it.
  const shut = async () => {
    const running = kjobs;
    kjobs = undefined;
    await running?.stop();
    await running?.store.close();
  };
  let onStart: (payload: Payload) => void = () => undefined;

  const open = async (withExecutor: boolean, concurrency = 10) => {
    await shut();
    kjobs = await createKjobs({
      store: openStore(backend),
      executor: withExecutor ? { concurrency, ...(experiment ? { prefetch: REFILL_PREFETCH } : {}) } : false,
      commands: { noop: ({ data }) => void onStart(data as unknown as Payload) },
    });
    if (experiment && kjobs.executor) useRefillPump(kjobs.executor);
    return kjobs;
  };
  const current = () => kjobs ?? open(false);

  return {
    name: (backend === 'postgres' ? 'kjobs-pg' : 'kjobs-sqlite') + (experiment ? '-refill' : ''),
    backend,
    settings:
      (backend === 'postgres'
        ? `PostgresJobStore (pool 10, schema ${SCHEMA}), executor defaults`
        : 'SqliteJobStore (WAL, synchronous=NORMAL, file in tmpdir), executor defaults') +
      (experiment ? `; experiment: claim-refill prototype, prefetch ${REFILL_PREFETCH}` : ''),
    async reset() {
      await shut();
      if (backend === 'postgres') await dropSchema(SCHEMA);
      else {
        rmSync(SQLITE_DIR, { recursive: true, force: true });
        mkdirSync(SQLITE_DIR, { recursive: true });
      }
      await open(false);
    },
    async enqueueMany(payloads) {
      await (await current()).scheduleMany(payloads.map((data) => ({ command: 'noop', data: { ...data } })));
    },
    async enqueueOne(payload) {
      await (await current()).schedule({ command: 'noop', data: { ...payload } });
    },
    async startWorker(concurrency, handler) {
      onStart = handler;
      await (await open(true, concurrency)).start();
    },
    async stopWorker() {
      await shut();
    },
    async close() {
      await shut();
    },
  };
}
