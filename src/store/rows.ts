import type { DataMap, Job, JobError, JobStatus } from '../core/index.js';

/** Every column but the data blobs, for lists. */
export const SUMMARY_COLUMNS = `id, status, command, business_key, container_id, process_instance_id, owner, message,
  priority, retries, executions, scheduled_at, created_at, started_at, finished_at, worker_id, lease_expires_at,
  waiting_for, progress, progress_at`;

/** The columns a list can filter on (a ListFilter's `by`); status is matched by every list. */
export const LIST_COLUMN = {
  status: null,
  businessKey: 'business_key',
  command: 'command',
  container: 'container_id',
  processInstance: 'process_instance_id',
} as const;

/** A jobs table row as both stores select it; `Data` is how the store returns the data columns. */
export interface JobRow<Data> {
  id: number;
  status: JobStatus;
  command: string;
  business_key: string | null;
  container_id: string | null;
  process_instance_id: number | null;
  owner: string | null;
  message: string;
  priority: number;
  retries: number;
  executions: number;
  scheduled_at: number;
  request_data?: Data;
  response_data?: Data | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  worker_id: string | null;
  lease_expires_at: number | null;
  waiting_for?: number;
  /** 1 or true once the job has children (SQLite answers 1, PostgreSQL true). */
  has_children?: number | boolean;
  progress?: Data | null;
  progress_at?: number | null;
  trace_parent?: string | null;
}

/** A job_errors table row. */
export interface ErrorRow {
  id: number;
  job_id: number;
  message: string | null;
  stacktrace: string | null;
  error_date: number;
  started_at?: number | null;
}

/** A row as a Job; the data columns (selected only with data) are read with `readData`. */
export function toJob<Data>(row: JobRow<Data>, readData: (data: Data) => DataMap): Job {
  const job: Job = {
    id: row.id,
    status: row.status,
    businessKey: row.business_key,
    message: row.message,
    retries: row.retries,
    executions: row.executions,
    command: row.command,
    scheduledAt: row.scheduled_at,
    priority: row.priority,
    containerId: row.container_id,
    processInstanceId: row.process_instance_id,
    owner: row.owner,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    workerId: row.worker_id,
    leaseExpiresAt: row.lease_expires_at,
  };
  if (row.waiting_for !== undefined) job.waitingFor = row.waiting_for;
  if (row.trace_parent !== undefined) job.traceParent = row.trace_parent;
  if (row.progress !== undefined) {
    job.progress =
      row.progress === null ? null : { ...(readData(row.progress) as object), at: row.progress_at ?? 0 };
  }
  if (row.request_data !== undefined) {
    job.requestData = readData(row.request_data);
    job.responseData = row.response_data ? readData(row.response_data) : null;
  }
  return job;
}

export function toJobError(row: ErrorRow): JobError {
  return {
    id: row.id,
    jobId: row.job_id,
    message: row.message,
    stacktrace: row.stacktrace,
    date: row.error_date,
    startedAt: row.started_at ?? null,
  };
}

/** The order claims answer in: priority, then due time, then id. */
export function claimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || a.scheduledAt - b.scheduledAt || a.id - b.id;
}
