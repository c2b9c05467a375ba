/**
 * The worker protocol's messages as the client sees them (docs/workers.md): what a remote worker sends and gets
 * under `.../server/kjobs/workers/`. Dates are Date objects; request and response data are left as sent.
 */
import type { DataMap, JobStatus } from './models.js';

/** What the server tells a worker before it claims. */
export interface WorkerServerInfo {
  /** Renew held jobs' leases at least this often (a lease lasts 1.5 of it). */
  heartbeatMs: number;
  /** The remote containers this user may serve, each with the command patterns of `--remote-container`. */
  containers: { id: string; commands: string[] }[];
}

/** A claim: which jobs, how many, and how long to wait for one. */
export interface WorkerClaim {
  /** The worker's name, shown as the jobs' worker: letters, digits, `.`, `_`, `-`, `:` (at most 100). */
  worker: string;
  /**
   * This worker process's own random id (8 to 64 letters, digits, `-`): leases carry it, and `leaveWorkers` gives back
   * what is still held under it (a claim whose answer the worker stopped waiting for).
   */
  session?: string;
  /** Remote containers to serve; default every one this user may serve. */
  containers?: readonly string[];
  /** Only commands matching these patterns (`*`: any run of characters). */
  commands?: readonly string[];
  /** At most this many jobs (1 to 100; default 1). */
  max?: number;
  /** Wait up to this long for a due job (0 to 60,000 ms; default 0: answer at once). */
  waitMs?: number;
}

/** A claimed job: RUNNING under `lease` until the worker ends it, or the lease runs out. */
export interface WorkerJob {
  id: number;
  command: string;
  containerId: string | null;
  businessKey: string | null;
  processInstanceId: number | null;
  /** This attempt, from 1. */
  attempt: number;
  /** Retries left after this attempt. */
  retries: number;
  scheduledAt: Date;
  requestData: DataMap;
  /** Names the holder of the job in every call about it. */
  lease: string;
  leaseExpiresAt: Date;
  /** The jobs it depends on (`dependsOn`), with their response data. */
  parents: { id: number; command: string; status: JobStatus; responseData: DataMap | null }[];
}

/** A heartbeat's answer about one job. */
export interface WorkerHeartbeat {
  id: number;
  /** False: the job is no longer this worker's (cancelled, requeued or rescued): stop it, report nothing. */
  held: boolean;
  cancelled: boolean;
  leaseExpiresAt: Date | null;
}

/** The end of a failed attempt. */
export interface WorkerFailure {
  message: string | null;
  stacktrace?: string | null;
  /** False: ERROR now, whatever retries are left. Default true (KIE's retry rule). */
  retry?: boolean;
  /** A recurring job's next run (KIE's Reoccurring), when the job ends ERROR. */
  nextRun?: Date | null;
}

/** What a claim answer carries, dates as the server writes them. */
export interface WireWorkerJob extends Omit<WorkerJob, 'scheduledAt' | 'leaseExpiresAt'> {
  scheduledAt: string;
  leaseExpiresAt: string;
}

export function workerJobOf(wire: WireWorkerJob): WorkerJob {
  return { ...wire, scheduledAt: new Date(wire.scheduledAt), leaseExpiresAt: new Date(wire.leaseExpiresAt) };
}
