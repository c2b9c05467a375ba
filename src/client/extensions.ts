/**
 * Models and readers of kjobs' console extensions (`/server/kjobs/...`: statistics, breakdown, timeline, bulk
 * actions). Not in KIE Server. JSON only; times come as ISO-8601 strings and are read as Dates.
 */
import type { JobStatus } from './models.js';

/** One point of a chart: jobs finished in the bucket, jobs waiting (highest sample; null: not sampled). */
export interface JobStatsPoint {
  at: Date;
  done: number;
  error: number;
  waiting: number | null;
}

/** Jobs finished and waiting over the last hour (by minute) or day (by hour). */
export interface JobStats {
  range: 'hour' | 'day';
  bucketMs: number;
  from: Date;
  to: Date;
  points: JobStatsPoint[];
}

/** A row of the breakdown by command or container. */
export interface JobBreakdownRow {
  key: string | null;
  counts: Record<JobStatus, number>;
  runs: number;
  failures: number;
  failureRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface JobBreakdown {
  by: 'command' | 'container';
  since: Date;
  rows: JobBreakdownRow[];
}

/** An entry of a job's timeline. */
export interface JobTimelineEntry {
  kind: 'scheduled' | 'attempt' | 'cancel' | 'requeue' | 'due';
  at: Date;
  /** scheduled: the first due time, while known. */
  dueAt?: Date | null;
  /** attempt: its number from 1, start, end, duration, outcome and error message. */
  attempt?: number;
  startedAt?: Date | null;
  endedAt?: Date | null;
  durationMs?: number | null;
  outcome?: 'DONE' | 'failed' | 'running';
  error?: string | null;
  /** cancel, requeue: the status the job was in. */
  fromStatus?: JobStatus;
}

/** A job's stored times and its timeline. */
export interface JobTimeline {
  id: number;
  status: JobStatus;
  command: string;
  executions: number;
  createdAt: Date;
  scheduledAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  timeline: JobTimelineEntry[];
}

/** The jobs of a bulk action: ids, or a filter (default status: ERROR to requeue, QUEUED to cancel). */
export type BulkSelection =
  | { ids: readonly number[] }
  | {
      status?: JobStatus | readonly JobStatus[];
      businessKey?: string;
      command?: string;
      containerId?: string;
      processInstanceId?: number;
    };

/** What a bulk action did. */
export interface BulkResult {
  matched: number;
  changed: number[];
  refused: { id: number; status: JobStatus | null; reason: string }[];
}

const DATE_KEYS = new Set([
  'at',
  'from',
  'to',
  'since',
  'dueAt',
  'startedAt',
  'endedAt',
  'createdAt',
  'scheduledAt',
  'finishedAt',
]);

/** The JSON answer with its ISO times as Dates (at any depth). */
export function withDates<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((item) => withDates(item)) as T;
  if (typeof value !== 'object' || value === null) return value as T;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      DATE_KEYS.has(key) && typeof item === 'string' ? new Date(item) : withDates(item),
    ]),
  ) as T;
}
