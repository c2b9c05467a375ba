import type { JobStatus } from './job.js';

/**
 * The state machine, written once as data: from which statuses each event may happen, and the status it leads to.
 * Both stores build their SQL guards from it (`allowedFrom`) and check single jobs with `canApply`; a refused
 * event is an InvalidStateError, which the HTTP layer answers by event (400 for updateData as KIE, else 409).
 */
export type JobEvent =
  | 'claim' // a worker starts a run
  | 'succeed' // the command returned
  | 'retry' // the command failed and retries are left
  | 'fail' // the command failed for the last time
  | 'cancel'
  /** A kjobs extension: cancel, a RUNNING job too (its command's signal fires; KIE's own cancel refuses it). */
  | 'cancelEvenRunning'
  | 'requeue'
  | 'updateData'
  | 'release'; // a worker gives a job back unrun (graceful stop)

interface Transition {
  from: readonly JobStatus[];
  /** null: the status does not change (updateData). */
  to: JobStatus | null;
}

export const TRANSITIONS: Readonly<Record<JobEvent, Transition>> = {
  claim: { from: ['QUEUED', 'RETRYING'], to: 'RUNNING' },
  succeed: { from: ['RUNNING'], to: 'DONE' },
  retry: { from: ['RUNNING'], to: 'RETRYING' },
  fail: { from: ['RUNNING'], to: 'ERROR' },
  cancel: { from: ['QUEUED', 'RETRYING', 'ERROR'], to: 'CANCELLED' },
  cancelEvenRunning: { from: ['QUEUED', 'RETRYING', 'ERROR', 'RUNNING'], to: 'CANCELLED' },
  requeue: { from: ['QUEUED', 'RETRYING', 'RUNNING', 'ERROR'], to: 'QUEUED' },
  updateData: { from: ['QUEUED', 'RETRYING', 'ERROR'], to: null },
  release: { from: ['RUNNING'], to: 'QUEUED' },
};

/** Statuses a job is in once nothing more will happen to it by itself. */
export const FINAL_STATUSES: readonly JobStatus[] = ['DONE', 'ERROR', 'CANCELLED'];

/** Statuses of a job that is waiting or running: what unique jobs are checked against. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'RETRYING'];

/** Statuses from which `event` may happen. */
export function allowedFrom(event: JobEvent): readonly JobStatus[] {
  return TRANSITIONS[event].from;
}

/** True when `event` may happen to a job in `status`. */
export function canApply(event: JobEvent, status: JobStatus): boolean {
  return TRANSITIONS[event].from.includes(status);
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
