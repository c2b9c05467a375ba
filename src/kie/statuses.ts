/**
 * The six statuses of a KIE job (org.kie.api.executor.STATUS), in the order of a job's life: waiting, running,
 * its ends, waiting to retry, cancelled.
 */
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'RETRYING', 'CANCELLED'] as const;

/** One of the six statuses of a KIE job. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** True when `value` names one of the six statuses (exact, upper case, as KIE requires). */
export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}
