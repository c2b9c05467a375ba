import type { JobEvent } from './states.js';
import type { JobStatus } from './job.js';

/** Base class of every error kjobs reports to its callers. */
export class KjobsError extends Error {
  override name = 'KjobsError';
}

/** No job has the given id. */
export class JobNotFoundError extends KjobsError {
  override name = 'JobNotFoundError';
  constructor(readonly jobId: number) {
    super(`Request with id: ${jobId} doesn't exist`);
  }
}

/** The job exists but its status does not allow the operation. */
export class InvalidStateError extends KjobsError {
  override name = 'InvalidStateError';
  constructor(
    readonly jobId: number,
    readonly event: JobEvent,
    readonly status: JobStatus,
  ) {
    super(invalidStateMessage(jobId, event, status));
  }
}

function invalidStateMessage(jobId: number, event: JobEvent, status: JobStatus): string {
  switch (event) {
    case 'updateData':
      // KIE's own wording (ExecutorImpl.updateRequestData).
      return `Request data can't be updated when request is in status ${status}`;
    case 'cancel':
      return `Job ${jobId} cannot be cancelled: it is ${status} (only QUEUED, RETRYING and ERROR jobs can be)`;
    case 'cancelEvenRunning':
      return `Job ${jobId} cannot be cancelled: it is ${status} (it has ended already)`;
    case 'requeue':
      return `Job ${jobId} cannot be requeued: it is ${status} (DONE and CANCELLED jobs cannot be)`;
    default:
      return `Job ${jobId} is ${status}: ${event} is not allowed`;
  }
}

/** A command or container that nothing on this node knows (pausing one is refused: it could never run). */
export class UnknownFlowTargetError extends KjobsError {
  override name = 'UnknownFlowTargetError';
  constructor(
    readonly kind: 'command' | 'container',
    readonly target: string,
  ) {
    super(
      kind === 'command'
        ? `No command ${target} is known here: only the commands of this kjobs' containers (and the built-ins) ` +
            'can be paused'
        : `No container found for id ${target}: only loaded containers can be paused`,
    );
  }
}

/** A unique job was refused: another job with its business key is QUEUED, RUNNING or RETRYING. */
export class DuplicateJobError extends KjobsError {
  override name = 'DuplicateJobError';
  constructor(
    readonly businessKey: string,
    readonly existingJobId: number,
  ) {
    super(`A job with business key "${businessKey}" is already active: job ${existingJobId}`);
  }
}

/** Input that cannot be accepted: a bad field, time expression, status, page... */
export class ValidationError extends KjobsError {
  override name = 'ValidationError';
}

/** A bulk action selected more jobs than the bulk limit allows: nothing was changed. */
export class TooManyJobsError extends ValidationError {
  override name = 'TooManyJobsError';
  constructor(
    readonly limit: number,
    readonly what: string,
  ) {
    super(
      `${what} more than ${limit} jobs, the bulk limit (--bulk-limit, KJOBS_BULK_LIMIT): nothing was changed; ` +
        'narrow the selection or raise the limit',
    );
  }
}

/** The command (or its container) is not known to this kjobs. */
export class UnknownCommandError extends ValidationError {
  override name = 'UnknownCommandError';
}

/** The store cannot be reached right now (the database is down); try again later. */
export class StoreUnavailableError extends KjobsError {
  override name = 'StoreUnavailableError';
}
