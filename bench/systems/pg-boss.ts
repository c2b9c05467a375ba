/**
 * pg-boss 10 on the same PostgreSQL, in its own schema. Fastest documented settings: `insert` for batches,
 * `work` with a batchSize and the shortest polling interval it accepts (0.5 s; pg-boss has no LISTEN/NOTIFY),
 * maintenance and scheduling off. Concurrency N: N workers (`work` calls), each
 * fetching batches of 100 and running them one after another (so at most N handlers run at once). A pg-boss
 * worker always waits the polling interval between fetches, so the batch size sets its throughput.
 */
import PgBoss from 'pg-boss';
import { dropSchema } from './postgres-admin.js';
import { POSTGRES_URL, type BenchSystem, type Payload } from './system.js';

const SCHEMA = 'bench_pgboss';
const QUEUE = 'noop';
const BATCH = 100;

export function pgBossSystem(): BenchSystem {
  let boss: PgBoss | undefined;

  const stop = async () => {
    await boss?.stop({ graceful: false, close: true, wait: true, timeout: 2000 });
    boss = undefined;
  };

  return {
    name: 'pg-boss',
    backend: 'postgres',
    settings: `pg-boss 10.4.2, schema ${SCHEMA}, insert() for batches, work({ batchSize: 100, pollingIntervalSeconds: 0.5 }) x concurrency, supervise/schedule off`,
    async reset() {
      await stop();
      await dropSchema(SCHEMA);
      boss = new PgBoss({
        connectionString: POSTGRES_URL,
        schema: SCHEMA,
        max: 12,
        supervise: false,
        schedule: false,
      });
      boss.on('error', () => undefined);
      await boss.start();
      await boss.createQueue(QUEUE);
    },
    async enqueueMany(payloads) {
      await boss!.insert(payloads.map((data) => ({ name: QUEUE, data })));
    },
    async enqueueOne(payload) {
      await boss!.send(QUEUE, payload);
    },
    async startWorker(concurrency, onStart) {
      for (let i = 0; i < concurrency; i++) {
        await boss!.work<Payload>(QUEUE, { batchSize: BATCH, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          for (const job of jobs) onStart(job.data);
        });
      }
    },
    async stopWorker() {
      await boss?.offWork(QUEUE);
    },
    close: stop,
  };
}
