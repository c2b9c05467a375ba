import type { Job } from './job.js';

/** What happens to a job after a failed attempt. */
export interface FailureOutcome {
  status: 'RETRYING' | 'ERROR';
  retries: number;
  scheduledAt: number;
}

/**
 * KIE's retry rule: with retries left, the job is RETRYING, one retry fewer, due after the delay of this retry
 * (delay n is element n-1 of retryDelay, the last repeating; negative or none means at once); otherwise ERROR.
 * `retry: false` (an unrecoverable failure) ends it ERROR at once.
 */
export function afterFailure(
  job: Pick<Job, 'retries' | 'executions' | 'scheduledAt'>,
  retryDelays: readonly number[],
  now: number,
  { retry = true }: { retry?: boolean } = {},
): FailureOutcome {
  if (job.retries <= 0) return { status: 'ERROR', retries: 0, scheduledAt: job.scheduledAt };
  // Failed without retry (a kjobs extension): ERROR now, the retries left kept for an operator's requeue.
  if (!retry) return { status: 'ERROR', retries: job.retries, scheduledAt: job.scheduledAt };
  const delay = retryDelayFor(job.executions, retryDelays);
  return { status: 'RETRYING', retries: job.retries - 1, scheduledAt: delay > 0 ? now + delay : now };
}

/** The delay before the retry that follows run number `executions` (1-based). */
export function retryDelayFor(executions: number, retryDelays: readonly number[]): number {
  if (retryDelays.length === 0) return 0;
  const index = Math.min(Math.max(executions - 1, 0), retryDelays.length - 1);
  return retryDelays[index] ?? 0;
}
