/**
 * The console's charts and job timeline, from stored numbers and times: pure functions, no I/O.
 */
import type { Job, JobStatus } from './job.js';

/** One point of a chart: jobs finished in the bucket, and jobs waiting (null: never sampled in it). */
export interface StatsPoint {
  /** Start of the bucket, epoch ms. */
  at: number;
  done: number;
  error: number;
  waiting: number | null;
}

/** The two ranges of the charts: the last hour by minute, the last 24 hours by hour. */
export const STATS_RANGES = {
  hour: { bucketMs: 60_000, buckets: 60 },
  day: { bucketMs: 3_600_000, buckets: 24 },
} as const;
export type StatsRange = keyof typeof STATS_RANGES;

/** The buckets of a range ending with the one that holds `now`. */
export function statsWindow(range: StatsRange, now: number): { from: number; to: number; bucketMs: number } {
  const { bucketMs, buckets } = STATS_RANGES[range];
  const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  return { from: to - buckets * bucketMs, to, bucketMs };
}

/**
 * Minute rows into the range's buckets: finished counts add up; waiting is the highest sample of the bucket (for
 * a minute, its last sample).
 */
export function statsPoints(
  range: StatsRange,
  now: number,
  minutes: readonly { minute: number; done: number; error: number; waiting: number | null }[],
): StatsPoint[] {
  const { from, bucketMs } = statsWindow(range, now);
  const points: StatsPoint[] = Array.from({ length: STATS_RANGES[range].buckets }, (_, i) => ({
    at: from + i * bucketMs,
    done: 0,
    error: 0,
    waiting: null,
  }));
  for (const row of minutes) {
    const point = points[Math.floor((row.minute - from) / bucketMs)];
    if (!point) continue;
    point.done += Number(row.done);
    point.error += Number(row.error);
    if (row.waiting !== null) point.waiting = Math.max(point.waiting ?? 0, Number(row.waiting));
  }
  return points;
}

/** One entry of a job's timeline. */
export type TimelineEntry =
  | {
      kind: 'scheduled';
      at: number;
      /** The first due time, while known (until the first run). */ dueAt: number | null;
    }
  | {
      kind: 'attempt';
      attempt: number;
      startedAt: number | null;
      endedAt: number | null;
      durationMs: number | null;
      outcome: 'DONE' | 'failed' | 'running';
      error: string | null;
      at: number;
    }
  | { kind: 'cancel' | 'requeue'; at: number; fromStatus: JobStatus }
  | { kind: 'due'; at: number };

/**
 * A job's timeline from its stored times: created (with its first due time when later), each failed attempt (its
 * error record: start and end), the last run (running, or DONE), the operator's cancels and requeues, and the next
 * run when one is due. `job` must carry its errors.
 */
export function jobTimeline(
  job: Job,
  actions: readonly { kind: 'cancel' | 'requeue'; at: number; fromStatus: JobStatus }[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const attempts: Extract<TimelineEntry, { kind: 'attempt' }>[] = [];
  for (const error of job.errors ?? []) {
    const startedAt = error.startedAt ?? null;
    attempts.push({
      kind: 'attempt',
      attempt: 0,
      startedAt,
      endedAt: error.date,
      durationMs: startedAt === null ? null : Math.max(0, error.date - startedAt),
      outcome: 'failed',
      error: error.message,
      at: startedAt ?? error.date,
    });
  }
  const lastFailedStart = attempts.at(-1)?.startedAt ?? null;
  if (
    job.startedAt !== null &&
    (job.status === 'RUNNING' || job.status === 'DONE') &&
    job.startedAt !== lastFailedStart
  ) {
    const endedAt = job.status === 'DONE' ? job.finishedAt : null;
    attempts.push({
      kind: 'attempt',
      attempt: 0,
      startedAt: job.startedAt,
      endedAt,
      durationMs: endedAt === null ? null : Math.max(0, endedAt - job.startedAt),
      outcome: job.status === 'DONE' ? 'DONE' : 'running',
      error: null,
      at: job.startedAt,
    });
  }
  attempts.sort((a, b) => a.at - b.at).forEach((attempt, i) => (attempt.attempt = i + 1));
  entries.push({
    kind: 'scheduled',
    at: job.createdAt,
    dueAt: job.executions === 0 ? job.scheduledAt : null,
  });
  entries.push(...attempts);
  for (const action of actions) entries.push({ ...action });
  if ((job.status === 'QUEUED' || job.status === 'RETRYING') && job.executions > 0) {
    entries.push({ kind: 'due', at: job.scheduledAt });
  }
  // Stable by time; the creation stays first.
  // An operator's action and the run it leads to may share a millisecond: the action comes first.
  const rank = (entry: TimelineEntry) => (entry.kind === 'cancel' || entry.kind === 'requeue' ? 0 : 1);
  return [entries[0]!, ...entries.slice(1).sort((a, b) => a.at - b.at || rank(a) - rank(b))];
}
