/**
 * Experiment for the HTTP scenario (not kjobs code; kjobs has had its own group commit since 390e15f, so this is
 * no longer part of the default run; `node --import tsx bench/http-server.ts kjobs <store> coalesce` still runs
 * it): group commit of schedule() calls. Calls that arrive while
 * the previous write is in flight, or within the same event-loop turn, are written as one store.schedule()
 * (one transaction, one NOTIFY); each caller gets its own ids. A group that fails is retried call by call, so
 * one bad call fails alone. Jobs with `unique` keys are written on their own, as before.
 */
import type { NewJob } from '../src/core/index.js';
import type { JobStore } from '../src/store/job-store.js';

interface Waiting {
  jobs: readonly NewJob[];
  resolve: (ids: number[]) => void;
  reject: (error: unknown) => void;
}

export function coalesceSchedules(store: JobStore): void {
  const schedule = store.schedule.bind(store);
  let waiting: Waiting[] = [];
  let writing = false;

  const write = async () => {
    if (writing || waiting.length === 0) return;
    writing = true;
    const group = waiting;
    waiting = [];
    try {
      const ids = await schedule(group.flatMap((call) => call.jobs));
      let from = 0;
      for (const call of group) call.resolve(ids.slice(from, (from += call.jobs.length)));
    } catch (error) {
      if (group.length === 1) group[0]!.reject(error);
      else for (const call of group) await schedule(call.jobs).then(call.resolve, call.reject);
    } finally {
      writing = false;
      if (waiting.length > 0) setImmediate(() => void write());
    }
  };

  store.schedule = (jobs) => {
    if (jobs.some((job) => job.unique)) return schedule(jobs);
    return new Promise<number[]>((resolve, reject) => {
      waiting.push({ jobs, resolve, reject });
      if (waiting.length === 1 && !writing) setImmediate(() => void write());
    });
  };
}
