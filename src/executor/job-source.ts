/**
 * What an executor needs of where its jobs come from: claim due jobs, write their outcomes, keep their leases. A
 * JobStore is one (the executor then also rescues the jobs of dead workers); a kjobs server reached over the worker
 * protocol is another (remote/http-job-source.ts: the server rescues, the worker only runs).
 */
import type { Job } from '../core/index.js';
import type { DependencyOptions, JobStore } from '../store/job-store.js';

/** A parent of a job, as its command sees it (`ctx.parents`). */
export type ParentSummary = Pick<Job, 'id' | 'command' | 'status' | 'responseData'>;

/** The rescue of lost workers' jobs: only where the executor reaches the store itself. */
export type RescueSource = Pick<
  JobStore,
  'findExpiredLeases' | 'runningWorkers' | 'expireLeasesOf' | 'holdWorkerLock' | 'isWorkerGone'
>;

export type JobSource = Pick<
  JobStore,
  'claim' | 'complete' | 'setProgress' | 'renewLeases' | 'nextDueIn' | 'subscribe'
> & {
  /** The job's status as the source knows it (the executor asks why a job it held was taken away). */
  get(id: number): Promise<Pick<Job, 'status'> | undefined>;
  /** The job's parents, with their response data when asked. */
  dependencies(id: number, options?: DependencyOptions): Promise<{ parents: ParentSummary[] }>;
} & Partial<RescueSource>;

/** Whether the executor rescues the jobs of lost workers from this source itself. */
export function rescuesHere(source: JobSource): source is JobSource & RescueSource {
  return (
    source.findExpiredLeases !== undefined &&
    source.runningWorkers !== undefined &&
    source.expireLeasesOf !== undefined &&
    source.holdWorkerLock !== undefined &&
    source.isWorkerGone !== undefined
  );
}
