/**
 * BullMQ 6.7 on Redis. Fastest documented settings: addBulk for batches, a Worker at the given concurrency,
 * completed jobs removed at once (removeOnComplete), no events stream trimming beyond defaults.
 */
import { Queue, Worker } from 'bullmq';
import { REDIS_URL, type BenchSystem, type Payload } from './system.js';

const QUEUE = 'kjobs-bench';
const PREFIX = 'kjobsbench';

export function bullmqSystem(): BenchSystem {
  const url = new URL(REDIS_URL);
  // Options, not a client: BullMQ then opens and closes its own connections.
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  let worker: Worker | undefined;
  const options = { removeOnComplete: true, removeOnFail: true };

  return {
    name: 'bullmq',
    backend: 'redis',
    settings: 'bullmq 6.7.0 + ioredis, Redis defaults, addBulk for batches, removeOnComplete/removeOnFail',
    async reset() {
      await worker?.close(true);
      worker = undefined;
      await queue.obliterate({ force: true });
    },
    async enqueueMany(payloads) {
      await queue.addBulk(payloads.map((data) => ({ name: 'noop', data, opts: options })));
    },
    async enqueueOne(payload) {
      await queue.add('noop', payload, options);
    },
    async startWorker(concurrency, onStart) {
      worker = new Worker<Payload>(QUEUE, async (job) => void onStart(job.data), {
        connection,
        prefix: PREFIX,
        concurrency,
      });
      worker.on('error', () => undefined);
      await worker.waitUntilReady();
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async close() {
      await worker?.close(true);
      await queue.close();
    },
  };
}
