/**
 * Throughput of the PostgreSQL store, in the terms of /work/shared/PERFORMANCE.md: enqueue in batches of 1,000,
 * claims and completions by batch size, then one kjobs executor running no-op jobs, and schedule-to-start latency
 * on an idle worker. Each part uses its own throwaway schema.
 *
 *   node --import tsx bench/postgres.ts [postgres://...]   (default: the test database on 127.0.0.1)
 */
import pg from 'pg';
import { MESSAGE_READY, type NewJob } from '../src/core/index.js';
import { createKjobs } from '../src/kjobs.js';
import { PostgresJobStore } from '../src/store/postgres/postgres-store.js';

const url =
  process.argv[2] ?? process.env.KJOBS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = 20_000;

function job(): NewJob {
  return {
    command: 'noop',
    businessKey: null,
    containerId: null,
    processInstanceId: null,
    owner: null,
    priority: 5,
    retries: 3,
    scheduledAt: Date.now(),
    message: MESSAGE_READY,
    requestData: {},
  };
}

async function withStore<T>(work: (store: PostgresJobStore) => Promise<T>): Promise<T> {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
  const store = new PostgresJobStore({ connectionString: url, schema, poolSize: 10 });
  await store.migrate();
  try {
    return await work(store);
  } finally {
    await store.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

const perSecond = (count: number, startedAt: number) =>
  Math.round(count / ((performance.now() - startedAt) / 1000));

async function storeOperations(): Promise<void> {
  await withStore(async (store) => {
    let t = performance.now();
    for (let i = 0; i < JOBS; i += 1000) await store.schedule(Array.from({ length: 1000 }, job));
    console.log(`enqueue: ${perSecond(JOBS, t)} jobs/s (batches of 1,000)`);
    for (const batch of [10, 100]) {
      const ids: number[] = [];
      t = performance.now();
      while (ids.length < JOBS / 2) {
        const claimed = await store.claim({ workerId: 'w', limit: batch, now: Date.now(), leaseMs: 30_000 });
        if (claimed.length === 0) break;
        ids.push(...claimed.map((claimedJob) => claimedJob.id));
      }
      const claims = perSecond(ids.length, t);
      t = performance.now();
      for (let i = 0; i < ids.length; i += batch) {
        await store.complete(
          ids.slice(i, i + batch).map((jobId) => ({
            kind: 'succeed' as const,
            jobId,
            workerId: 'w',
            now: Date.now(),
            responseData: {},
          })),
        );
      }
      console.log(`batches of ${batch}: claim ${claims} jobs/s, complete ${perSecond(ids.length, t)} jobs/s`);
    }
  });
}

async function executor(concurrency: number): Promise<void> {
  await withStore(async (store) => {
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const kjobs = await createKjobs({
      store,
      executor: { concurrency },
      commands: { noop: () => undefined },
    });
    kjobs.executor!.on('completed', () => ++done === JOBS && finish());
    await kjobs.start();
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < JOBS; i += 1000) {
      await kjobs.scheduleMany(Array.from({ length: 1000 }, () => ({ command: 'noop' })));
    }
    await finished;
    const rate = perSecond(JOBS, t);
    const used = process.cpuUsage(cpu);
    const cpuPerThousand = Math.round((used.user + used.system) / 1000 / (JOBS / 1000));
    const latencies: number[] = [];
    kjobs.executor!.on('started', (started) => latencies.push(Date.now() - started.createdAt));
    for (let i = 0; i < 200; i++) {
      await kjobs.schedule({ command: 'noop' });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
    console.log(
      `executor, concurrency ${concurrency}: ${rate} jobs/s, ${cpuPerThousand} CPU ms per 1k jobs (kjobs process); ` +
        `idle schedule-to-start p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`,
    );
    await kjobs.stop();
  });
}

await storeOperations();
await executor(10);
await executor(50);
