/**
 * Graphile Worker 0.17 on the same PostgreSQL, in its own schema. Fastest documented settings
 * (worker.graphile.org/docs/performance): a local queue (jobs fetched in batches), batched completions,
 * jobs added in bulk with addJobs; LISTEN/NOTIFY wakes idle workers.
 */
import { makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { dropSchema } from './postgres-admin.js';
import { POSTGRES_URL, type BenchSystem, type Payload } from './system.js';

const SCHEMA = 'bench_graphile';
const LOCAL_QUEUE = 50;

export function graphileWorkerSystem(): BenchSystem {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 12 });
  // Idle clients dropped by the server: the next query reconnects. Graphile also wants each client handled.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;

  return {
    name: 'graphile',
    backend: 'postgres',
    settings: `graphile-worker 0.17.3, schema ${SCHEMA}, localQueue.size ${LOCAL_QUEUE}, completeJobBatchDelay 0, failJobBatchDelay 0, addJobs for batches`,
    async reset() {
      await runner?.stop();
      runner = undefined;
      await utils?.release();
      await dropSchema(SCHEMA);
      utils = await makeWorkerUtils({ pgPool: pool, schema: SCHEMA });
      await utils.migrate();
    },
    async enqueueMany(payloads) {
      await utils!.addJobs(payloads.map((payload) => ({ identifier: 'noop', payload })));
    },
    async enqueueOne(payload) {
      await utils!.addJob('noop', payload);
    },
    async startWorker(concurrency, onStart) {
      runner = await run({
        pgPool: pool,
        concurrency,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: { noop: async (payload) => void onStart(payload as Payload) },
        preset: {
          worker: {
            schema: SCHEMA,
            localQueue: { size: LOCAL_QUEUE },
            completeJobBatchDelay: 0,
            failJobBatchDelay: 0,
          },
        },
        logger: new (await import('graphile-worker')).Logger(() => () => undefined),
      });
    },
    async stopWorker() {
      await runner?.stop();
      runner = undefined;
    },
    async close() {
      await runner?.stop();
      await utils?.release();
      await pool.end();
    },
  };
}
