/**
 * Scenarios 1-3, the same for every system: bulk scheduling, processing a backlog, and idle start latency.
 * Timing stays in this process; each system's handler reports the moment it starts.
 */
import type { BenchSystem, Payload } from '../systems/system.js';
import { rate, sleep, summarize } from '../stats.js';

const payloads = (from: number, count: number): Payload[] =>
  Array.from({ length: count }, (_, k) => ({ i: from + k }));

/** 1. Schedules `total` jobs in batches of `batch`; jobs/s. */
export async function bulkScheduling(system: BenchSystem, total: number, batch: number) {
  await system.reset();
  const started = performance.now();
  for (let i = 0; i < total; i += batch) await system.enqueueMany(payloads(i, Math.min(batch, total - i)));
  const ms = performance.now() - started;
  return { jobsPerSecond: rate(total, ms), ms: Math.round(ms), total, batch };
}

/** 2. Queues `total` jobs, then one worker at `concurrency` runs them all; jobs/s and this process's CPU. */
export async function processing(system: BenchSystem, total: number, concurrency: number, timeoutMs: number) {
  await system.reset();
  for (let i = 0; i < total; i += 1000) await system.enqueueMany(payloads(i, Math.min(1000, total - i)));
  let seen = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const cpu = process.cpuUsage();
  const started = performance.now();
  await system.startWorker(concurrency, () => {
    if (++seen === total) finish();
  });
  const outcome = await Promise.race([finished.then(() => 'done'), sleep(timeoutMs).then(() => 'timeout')]);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await system.stopWorker();
  return {
    jobsPerSecond: rate(seen, ms),
    ms: Math.round(ms),
    processed: seen,
    total,
    concurrency,
    timedOut: outcome === 'timeout',
    cpuMsPer1k: Math.round((used.user + used.system) / 1000 / (seen / 1000)),
  };
}

/**
 * 3. With idle workers, schedules `count` jobs one at a time, `gapMs` apart (open loop: the next one does not
 * wait for the previous to start), and records schedule-call-to-handler-start for each; ms.
 */
export async function latency(system: BenchSystem, count: number, gapMs: number, concurrency: number) {
  await system.reset();
  const scheduledAt = new Map<number, number>();
  const samples: number[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await system.startWorker(concurrency, ({ i }) => {
    const at = scheduledAt.get(i);
    if (at !== undefined) samples.push(performance.now() - at);
    if (samples.length === count) finish();
  });
  await sleep(1000); // let the workers settle into their idle wait (LISTEN, blocking pop, poll)
  for (let i = 0; i < count; i++) {
    scheduledAt.set(i, performance.now());
    await system.enqueueOne({ i });
    await sleep(gapMs);
  }
  await Promise.race([finished, sleep(5000)]);
  await system.stopWorker();
  return { ...summarize(samples), count, gapMs };
}
