/**
 * Unique jobs, one rule for every store: a unique job (request data `unique`) is refused while another job with its
 * business key is active (QUEUED, RUNNING, RETRYING), unless it replaces or debounces a waiting one; two unique jobs
 * of one key in a batch are refused; a unique job requeued is a new active job of its key, refused the same way.
 * The stores only run the SQL (lock the keys for their transaction where others could write at once, read the
 * active jobs of keys, replace a waiting job's data), driven through a generator as dependency-release.ts is.
 */
import {
  ACTIVE_STATUSES,
  DuplicateJobError,
  isUnique,
  ValidationError,
  type DataMap,
  type JobStatus,
  type NewJob,
} from '../core/index.js';
import { drive, driveAsync } from './rule-driver.js';

/** An active job of a key. */
export interface ActiveJob {
  businessKey: string;
  id: number;
  status: JobStatus;
}

export type UniqueStep =
  /** The active jobs of these keys (the first of each, by id), the keys locked until the transaction ends. */
  | { op: 'active'; keys: readonly string[] }
  /** Replaces a waiting job's request data (and with `scheduledAt`, its start); answers whether it was waiting. */
  | { op: 'replace'; id: number; requestData: DataMap; scheduledAt: number | null };

/** The statuses of a job that waits to start: what replace and debounce update. */
const WAITING: readonly JobStatus[] = ['QUEUED', 'RETRYING'];

/**
 * The rule for a batch of new jobs: answers, per job, the id of the waiting job it replaced (its id is the answer
 * for that job, nothing is inserted), or undefined (insert it). Throws DuplicateJobError or ValidationError.
 */
export function* resolveDuplicates(
  jobs: readonly NewJob[],
): Generator<UniqueStep, (number | undefined)[], unknown> {
  const keys = jobs.filter((job) => job.unique && job.businessKey !== null).map((job) => job.businessKey!);
  if (keys.length === 0) return jobs.map(() => undefined);
  const active = new Map(
    ((yield { op: 'active', keys: [...new Set(keys)] }) as ActiveJob[]).map((job) => [job.businessKey, job]),
  );
  const seen = new Set<string>();
  const replaced: (number | undefined)[] = [];
  for (const job of jobs) {
    if (!job.unique || job.businessKey === null) {
      replaced.push(undefined);
      continue;
    }
    if (seen.has(job.businessKey)) {
      throw new ValidationError(`Two unique jobs with business key "${job.businessKey}" in one batch`);
    }
    seen.add(job.businessKey);
    const existing = active.get(job.businessKey);
    if (!existing) {
      replaced.push(undefined);
      continue;
    }
    // Replace or debounce a waiting job (a claim may take it meanwhile: then it is RUNNING, and refused).
    const waiting = job.onDuplicate !== undefined && WAITING.includes(existing.status);
    const done =
      waiting &&
      ((yield {
        op: 'replace',
        id: existing.id,
        requestData: job.requestData,
        scheduledAt: job.onDuplicate === 'debounce' ? job.scheduledAt : null,
      }) as boolean);
    if (!done) throw new DuplicateJobError(job.businessKey, existing.id);
    replaced.push(existing.id);
  }
  return replaced;
}

/** A job about to be requeued, as the stores read it. */
export interface RequeueCandidate {
  id: number;
  status: JobStatus;
  businessKey: string | null;
  requestData: DataMap | undefined;
}

/**
 * The rule for requeues: a job that is not active, and whose data asks for uniqueness, becomes an active job of its
 * key; it is refused while another job of its key is active (or another of these comes before it). Answers the
 * refused ones with their error, by id.
 */
export function* refuseDuplicateRequeues(
  candidates: readonly RequeueCandidate[],
): Generator<UniqueStep, Map<number, DuplicateJobError>, unknown> {
  const keyOf = (candidate: RequeueCandidate) =>
    ACTIVE_STATUSES.includes(candidate.status) ? null : uniqueKeyOf(candidate);
  const keys = [...new Set(candidates.map(keyOf).filter((key): key is string => key !== null))];
  const refused = new Map<number, DuplicateJobError>();
  if (keys.length === 0) return refused;
  const active = new Map(
    ((yield { op: 'active', keys }) as ActiveJob[]).map((job) => [job.businessKey, job.id]),
  );
  for (const candidate of candidates) {
    const key = keyOf(candidate);
    if (key === null) continue;
    const existing = active.get(key);
    if (existing !== undefined && existing !== candidate.id) {
      refused.set(candidate.id, new DuplicateJobError(key, existing));
      continue;
    }
    active.set(key, candidate.id);
  }
  return refused;
}

/** The business key of a job whose data asks for uniqueness, or null (data that no longer reads: not unique). */
export function uniqueKeyOf(job: {
  businessKey: string | null;
  requestData: DataMap | undefined;
}): string | null {
  if (job.businessKey === null || job.requestData === undefined) return null;
  try {
    return isUnique(job.requestData) ? job.businessKey : null;
  } catch {
    return null;
  }
}

/** The SQL a synchronous store runs for the unique rule (inside its write transaction). */
export interface UniqueOperations {
  active(keys: readonly string[]): ActiveJob[];
  replace(id: number, requestData: DataMap, scheduledAt: number | null): boolean;
}

/** As UniqueOperations, for an asynchronous store. */
export interface AsyncUniqueOperations {
  active(keys: readonly string[]): Promise<ActiveJob[]>;
  replace(id: number, requestData: DataMap, scheduledAt: number | null): Promise<boolean>;
}

/** Runs a unique rule with synchronous operations. */
export function runUnique<T>(operations: UniqueOperations, rule: Generator<UniqueStep, T, unknown>): T {
  return drive(rule, (step) => perform(operations, step));
}

/** Runs a unique rule with asynchronous operations. */
export function runUniqueAsync<T>(
  operations: AsyncUniqueOperations,
  rule: Generator<UniqueStep, T, unknown>,
): Promise<T> {
  return driveAsync(rule, (step) => perform(operations, step));
}

function perform(operations: UniqueOperations | AsyncUniqueOperations, step: UniqueStep): unknown {
  return step.op === 'active'
    ? operations.active(step.keys)
    : operations.replace(step.id, step.requestData, step.scheduledAt);
}
