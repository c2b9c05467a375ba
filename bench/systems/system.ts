/**
 * The one interface every queue under test implements, so the harness (bench/run.ts) reads the same for all.
 * A job's payload carries its index; the handler is a no-op that reports the index the moment it starts.
 */
export interface Payload {
  i: number;
}

export type Backend = 'postgres' | 'sqlite' | 'redis';

export interface BenchSystem {
  /** Short name in the table, e.g. `kjobs-pg`. */
  readonly name: string;
  readonly backend: Backend;
  /** Versions and settings, recorded with the results. */
  readonly settings: string;
  /** Drops everything the system stored and prepares an empty queue (called before each scenario). */
  reset(): Promise<void>;
  /** Enqueues one batch in as few round trips as the system allows. */
  enqueueMany(payloads: readonly Payload[]): Promise<void>;
  /** Enqueues one job, the way an application schedules a single job. */
  enqueueOne(payload: Payload): Promise<void>;
  /** Starts one worker process's worth of workers at this concurrency; `onStart` runs as each handler starts. */
  startWorker(concurrency: number, onStart: (payload: Payload) => void): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ??
  process.env.KJOBS_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
