/** KieJobsClient: the ten operations of KIE Server's "Asynchronous jobs" API over fetch, and its container list. */
import { ApiError, ConnectionError } from './errors.js';
import {
  containerFromServiceJson,
  containerListFromJson,
  requestInfoFromJson,
  requestInfoListFromJson,
  scheduledIdFromJson,
  scheduledIdsFromJson,
  writeDataMapJson,
  writeJobRequestJson,
  writeJobRequestListJson,
} from './json.js';
import {
  withDates,
  type BulkResult,
  type BulkSelection,
  type JobBreakdown,
  type JobStats,
  type JobTimeline,
} from './extensions.js';
import {
  workerJobOf,
  type WireWorkerJob,
  type WorkerClaim,
  type WorkerFailure,
  type WorkerHeartbeat,
  type WorkerJob,
  type WorkerServerInfo,
} from './worker-protocol.js';
import type {
  DataMap,
  JobDependencies,
  JobProgress,
  JobRequestInstance,
  JobStatus,
  KieContainerResource,
  RequestInfoInstance,
  RequestInfoInstanceList,
} from './models.js';
import {
  containerFromServiceXml,
  containerListFromXml,
  parseXml,
  requestInfoFromXml,
  requestInfoListFromXml,
  scheduledIdFromXml,
  scheduledIdsFromXml,
  writeDataMapXml,
  writeJobRequestListXml,
  writeJobRequestXml,
} from './xml.js';

/** A paused command or container (kjobs extension). */
export interface PausedTarget {
  kind: 'command' | 'container';
  /** The command name or container id. */
  name: string;
  /** When it was paused. */
  pausedAt: Date;
}

/** The wire format: JSON, or KIE's JAXB XML (the default of KIE's own Java client). */
export type WireFormat = 'json' | 'xml';

/** The `fetch` function the client calls; the global one by default. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** How to reach the server. Only `baseUrl` is required. */
export interface KieJobsClientOptions {
  /**
   * The REST root: `http://localhost:8080/kie-server/services/rest` (KIE Server, kjobs), or `.../rest` on KIE's
   * Spring Boot starter. The client adds `/server/jobs...`; a URL already ending in `/server` works too.
   */
  baseUrl: string;
  /** User for HTTP basic authentication. */
  user?: string;
  /** Password for HTTP basic authentication. */
  password?: string;
  /** Wire format, default `json`. Answers are read in whatever format the server chose. */
  format?: WireFormat;
  /** Milliseconds an operation may take before it fails with a `ConnectionError` (`timedOut`). Default none. */
  timeoutMs?: number;
  /** Headers sent with every request (e.g. `Authorization: Bearer ...` instead of user and password). */
  headers?: Record<string, string>;
  /**
   * The fetch to use (a test double, a proxy-aware fetch...); default `globalThis.fetch`. On Node.js, for a server
   * whose certificate comes from a private CA: `fetchWithCa({ ca })` from `kjobs/client/node` (or start Node with
   * `NODE_EXTRA_CA_CERTS=ca.pem`).
   */
  fetch?: FetchFunction;
}

/** Options every operation takes. */
export interface CallOptions {
  /** Aborts the request (together with the client's timeout). */
  signal?: AbortSignal;
}

/** Options of `getRequestById`. */
export interface GetRequestOptions extends CallOptions {
  /** Load the job's errors (`requestErrors`). Default false. */
  withErrors?: boolean;
  /** Load the job's request and response data. Default false. */
  withData?: boolean;
}

/** A page of a list: `page` from 0 (default 0), `pageSize` (default 10). */
export interface PageOptions extends CallOptions {
  /** The page, from 0. */
  page?: number;
  /** Jobs per page (server default 10). */
  pageSize?: number;
}

/** Options of the lists by business key, command, container and process instance. */
export interface ListOptions extends PageOptions {
  /**
   * Statuses to include. When absent, KIE's defaults: all statuses by business key and by command, QUEUED only
   * by container and by process instance.
   */
  status?: readonly JobStatus[] | JobStatus;
}

/** Options of `scheduleRequest`, `scheduleRequests` and `updateRequestData`. */
export interface ContainerOptions extends CallOptions {
  /** The container (KIE deployment) the job belongs to. */
  containerId?: string;
}

const MEDIA_TYPES: Record<WireFormat, string> = { json: 'application/json', xml: 'application/xml' };
const KIE_CONTENT_TYPES: Record<WireFormat, string> = { json: 'JSON', xml: 'JAXB' };

/** Base64 of UTF-8 text, with browser and Node globals only. */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function jobIdOf(jobId: number): string {
  if (!Number.isSafeInteger(jobId) || jobId < 0) throw new TypeError(`Not a job id: ${String(jobId)}`);
  return String(jobId);
}

/**
 * A path segment. `.` and `..` cannot be sent (URL parsers resolve them, even percent-encoded, and the request
 * would reach another resource), so they are refused.
 */
function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} must be a non-empty string`);
  if (value === '.' || value === '..') throw new TypeError(`${what} "${value}" cannot be sent in a URL path`);
  return encodeURIComponent(value);
}

/** An AbortSignal that fires when either does (AbortSignal.any is too recent for some browsers). */
function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length <= 1) return present[0];
  const controller = new AbortController();
  for (const signal of present) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below `.../server/jobs`, or below `.../server` when `server` is set. */
  path: string;
  server?: boolean;
  query?: [string, string][];
  body?: string;
  signal?: AbortSignal | undefined;
  /** A kjobs extension that speaks JSON only, whatever the client's format. */
  json?: boolean;
}

/**
 * A client of KIE Server's jobs API (`/server/jobs`), for kjobs and for KIE Server itself. It runs wherever `fetch`
 * does: Node.js 20+, browsers, Deno, Bun.
 *
 * ```ts
 * import { KieJobsClient } from 'kjobs/client';
 * const client = new KieJobsClient({ baseUrl: 'http://localhost:8080/kie-server/services/rest', user: 'kie', password: 'secret' });
 * const id = await client.scheduleRequest({ jobCommand: 'org.jbpm.executor.commands.PrintOutCommand', requestData: { businessKey: 'k1' } });
 * const job = await client.getRequestById(id, { withData: true });
 * ```
 *
 * Errors: `ApiError` when the server answers with an error status (`status`, `body`, `headers`), `ConnectionError`
 * when it cannot be reached or the timeout runs out, `TypeError` for arguments that are not valid.
 */
export class KieJobsClient {
  /** The URL of the server resource, `.../server`. */
  readonly serverUrl: string;
  /** The URL of the jobs resource, `.../server/jobs`. */
  readonly jobsUrl: string;
  /** The wire format requests use. */
  readonly format: WireFormat;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number | undefined;
  private readonly fetchFunction: FetchFunction;

  /** Creates a client; nothing is sent until an operation is called. */
  constructor(options: KieJobsClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    if (!/^https?:\/\//i.test(base))
      throw new TypeError(`baseUrl must be an http(s) URL: ${options.baseUrl}`);
    this.serverUrl = /\/server$/.test(base) ? base : `${base}/server`;
    this.jobsUrl = `${this.serverUrl}/jobs`;
    this.format = options.format ?? 'json';
    if (this.format !== 'json' && this.format !== 'xml') {
      throw new TypeError(`format must be json or xml, not ${String(this.format)}`);
    }
    this.timeoutMs = options.timeoutMs;
    const mediaType = MEDIA_TYPES[this.format];
    this.headers = {
      accept: mediaType,
      'x-kie-contenttype': KIE_CONTENT_TYPES[this.format],
      ...(options.user !== undefined
        ? { authorization: `Basic ${base64(`${options.user}:${options.password ?? ''}`)}` }
        : {}),
      ...Object.fromEntries(
        Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
      ),
    };
    const custom = options.fetch;
    // Called as a plain function: browsers refuse a fetch called as a method of another object.
    this.fetchFunction = custom ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Cancels a QUEUED, RETRYING or ERROR job (`DELETE /server/jobs/{jobId}`; 204). */
  async cancelRequest(jobId: number, options: CallOptions = {}): Promise<void> {
    await this.send({ method: 'DELETE', path: `/${jobIdOf(jobId)}`, signal: options.signal });
  }

  /** One job (`GET /server/jobs/{jobId}`), with its errors and data when asked for. */
  async getRequestById(jobId: number, options: GetRequestOptions = {}): Promise<RequestInfoInstance> {
    const query: [string, string][] = [
      ['withErrors', String(options.withErrors ?? false)],
      ['withData', String(options.withData ?? false)],
    ];
    const response = await this.send({
      method: 'GET',
      path: `/${jobIdOf(jobId)}`,
      query,
      signal: options.signal,
    });
    return this.read(response, requestInfoFromJson, (root) => requestInfoFromXml(root));
  }

  /**
   * A job's latest progress, as its command reported it with `ctx.progress` (kjobs extension:
   * `GET /server/jobs/{jobId}/progress`). KIE Server answers 404.
   */
  async getJobProgress(jobId: number, options: CallOptions = {}): Promise<JobProgress> {
    const response = await this.send({
      method: 'GET',
      path: `/${jobIdOf(jobId)}/progress`,
      signal: options.signal,
      json: true,
    });
    return this.read(
      response,
      (value) => {
        const body = value as Omit<JobProgress, 'updatedAt'> & { updatedAt: string | null };
        return { ...body, updatedAt: body.updatedAt === null ? null : new Date(body.updatedAt) };
      },
      () => {
        throw new Error('expected JSON');
      },
    );
  }

  /**
   * A job's parents (request data `dependsOn`) and children (kjobs extension:
   * `GET /server/jobs/{jobId}/dependencies`). KIE Server answers 404.
   */
  async getJobDependencies(jobId: number, options: CallOptions = {}): Promise<JobDependencies> {
    const response = await this.send({
      method: 'GET',
      path: `/${jobIdOf(jobId)}/dependencies`,
      signal: options.signal,
      json: true,
    });
    return this.read(
      response,
      (value) => value as JobDependencies,
      () => {
        throw new Error('expected JSON');
      },
    );
  }

  /** Jobs with a business key (`GET /server/jobs/keys/{key}`); all statuses unless `status` is given. */
  async getRequestsByBusinessKey(key: string, options: ListOptions = {}): Promise<RequestInfoInstanceList> {
    return this.list(`/keys/${segment(key, 'key')}`, options);
  }

  /** Jobs of a command (`GET /server/jobs/commands/{cmd}`); all statuses unless `status` is given. */
  async getRequestsByCommand(cmd: string, options: ListOptions = {}): Promise<RequestInfoInstanceList> {
    return this.list(`/commands/${segment(cmd, 'cmd')}`, options);
  }

  /** Jobs of a container (`GET /server/jobs/containers/{id}`); QUEUED only unless `status` is given. */
  async getRequestsByContainer(id: string, options: ListOptions = {}): Promise<RequestInfoInstanceList> {
    return this.list(`/containers/${segment(id, 'id')}`, options);
  }

  /**
   * Jobs of a process instance (`GET /server/jobs/processes/instances/{pInstanceId}`); QUEUED only unless `status`
   * is given.
   */
  async getRequestsByProcessInstance(
    pInstanceId: number,
    options: ListOptions = {},
  ): Promise<RequestInfoInstanceList> {
    return this.list(`/processes/instances/${jobIdOf(pInstanceId)}`, options);
  }

  /**
   * Jobs in the given statuses (`GET /server/jobs?status=...`), newest first. An empty list or undefined means the
   * server's default, QUEUED.
   */
  async getRequestsByStatus(
    status: readonly JobStatus[] | JobStatus | undefined,
    options: PageOptions = {},
  ): Promise<RequestInfoInstanceList> {
    return this.list('', { ...options, ...(status !== undefined ? { status } : {}) });
  }

  /**
   * The containers the server has (`GET /server/containers`): on kjobs, the loaded container modules, each
   * STARTED, with the commands it offers.
   */
  async listContainers(options: CallOptions = {}): Promise<KieContainerResource[]> {
    const response = await this.send({
      method: 'GET',
      path: '/containers',
      server: true,
      signal: options.signal,
    });
    return this.read(response, containerListFromJson, containerListFromXml);
  }

  /** One container (`GET /server/containers/{id}`); an ApiError 404 when kjobs has no such container. */
  async getContainer(id: string, options: CallOptions = {}): Promise<KieContainerResource> {
    const response = await this.send({
      method: 'GET',
      path: `/containers/${segment(id, 'id')}`,
      server: true,
      signal: options.signal,
    });
    return this.read(response, containerFromServiceJson, containerFromServiceXml);
  }

  /** Puts a job that is not DONE or CANCELLED back to QUEUED (`PUT /server/jobs/{jobId}`; 201). */
  async requeueRequest(jobId: number, options: CallOptions = {}): Promise<void> {
    await this.send({ method: 'PUT', path: `/${jobIdOf(jobId)}`, body: '', signal: options.signal });
  }

  /** Schedules a job (`POST /server/jobs`; 201) and answers its id. */
  async scheduleRequest(body: JobRequestInstance, options: ContainerOptions = {}): Promise<number> {
    if (typeof body?.jobCommand !== 'string' || body.jobCommand === '') {
      throw new TypeError('scheduleRequest needs a jobCommand');
    }
    const text = this.format === 'xml' ? writeJobRequestXml(body) : writeJobRequestJson(body);
    const response = await this.send({
      method: 'POST',
      path: '',
      query: options.containerId !== undefined ? [['containerId', options.containerId]] : [],
      body: text,
      signal: options.signal,
    });
    return this.read(response, scheduledIdFromJson, scheduledIdFromXml);
  }

  /**
   * Schedules several jobs atomically (`POST /server/jobs/batch`, a kjobs extension, not in KIE Server; 201): all
   * or none. Answers their ids in request order. `containerId` applies to every job. A refused request makes an
   * ApiError 400 naming its index from 0 (`Job request 2: ...`); a unique job whose business key is taken, 409.
   */
  async scheduleRequests(
    batch: readonly JobRequestInstance[],
    options: ContainerOptions = {},
  ): Promise<number[]> {
    if (!Array.isArray(batch)) throw new TypeError('scheduleRequests needs an array of job requests');
    batch.forEach((body, index) => {
      if (typeof body?.jobCommand !== 'string' || body.jobCommand === '') {
        throw new TypeError(`scheduleRequests: job request ${index} needs a jobCommand`);
      }
    });
    const response = await this.send({
      method: 'POST',
      path: '/batch',
      query: options.containerId !== undefined ? [['containerId', options.containerId]] : [],
      body: this.format === 'xml' ? writeJobRequestListXml(batch) : writeJobRequestListJson(batch),
      signal: options.signal,
    });
    return this.read(response, scheduledIdsFromJson, scheduledIdsFromXml);
  }

  /** Merges keys into the data of a QUEUED, RETRYING or ERROR job (`POST /server/jobs/{jobId}/data`; 201). */
  async updateRequestData(jobId: number, body: DataMap, options: ContainerOptions = {}): Promise<void> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TypeError('updateRequestData needs a map of data');
    }
    await this.send({
      method: 'POST',
      path: `/${jobIdOf(jobId)}/data`,
      query: options.containerId !== undefined ? [['containerId', options.containerId]] : [],
      body: this.format === 'xml' ? writeDataMapXml(body) : writeDataMapJson(body),
      signal: options.signal,
    });
  }

  /**
   * Jobs finished (DONE, ERROR) and waiting (QUEUED + RETRYING) over the last hour by minute (60 points) or the
   * last 24 hours by hour (24 points): `GET /server/kjobs/stats`, a kjobs extension.
   */
  async getJobStats(range: 'hour' | 'day' = 'hour', options: CallOptions = {}): Promise<JobStats> {
    return this.extension('GET', '/kjobs/stats', [['range', range]], undefined, options);
  }

  /**
   * Jobs by command or container: counts per status, runs of the last hour, failure rate, p50/p95 run duration
   * (`GET /server/kjobs/stats/breakdown`, a kjobs extension).
   */
  async getJobBreakdown(
    by: 'command' | 'container' = 'command',
    options: CallOptions = {},
  ): Promise<JobBreakdown> {
    return this.extension('GET', '/kjobs/stats/breakdown', [['by', by]], undefined, options);
  }

  /**
   * A job's stored times (created, started, finished) and timeline: scheduled, each attempt, cancels and requeues
   * (`GET /server/kjobs/jobs/{jobId}/timeline`, a kjobs extension).
   */
  async getJobTimeline(jobId: number, options: CallOptions = {}): Promise<JobTimeline> {
    return this.extension('GET', `/kjobs/jobs/${jobIdOf(jobId)}/timeline`, [], undefined, options);
  }

  /**
   * Requeues many jobs in one call (`POST /server/kjobs/jobs/requeue`, a kjobs extension): by ids, or the ERROR
   * jobs of a filter. Jobs that cannot be requeued are in `refused`; more than the server's bulk limit: ApiError 400.
   */
  async requeueJobs(selection: BulkSelection, options: CallOptions = {}): Promise<BulkResult> {
    return this.extension('POST', '/kjobs/jobs/requeue', [], selection, options);
  }

  /**
   * Cancels many jobs in one call (`POST /server/kjobs/jobs/cancel`, a kjobs extension): by ids, or the QUEUED
   * jobs of a filter. Jobs that cannot be cancelled are in `refused`; more than the bulk limit: ApiError 400.
   */
  async cancelJobs(selection: BulkSelection, options: CallOptions = {}): Promise<BulkResult> {
    return this.extension('POST', '/kjobs/jobs/cancel', [], selection, options);
  }

  /**
   * Cancels a job, a RUNNING one too (`POST /server/kjobs/jobs/{id}/cancel`, a kjobs extension: KIE's DELETE refuses
   * RUNNING jobs with 409): its command's signal fires and its outcome is not written. A DONE or CANCELLED job:
   * ApiError 409.
   */
  async cancelJob(
    jobId: number,
    options: CallOptions = {},
  ): Promise<{ id: number; status: 'CANCELLED'; previousStatus: string }> {
    return this.extension('POST', `/kjobs/jobs/${jobIdOf(jobId)}/cancel`, [], {}, options);
  }

  /**
   * The worker protocol (docs/workers.md), for a worker of the server's remote containers: the heartbeat to keep
   * and the containers this user may serve (`GET /server/kjobs/workers`).
   */
  async workerInfo(options: CallOptions = {}): Promise<WorkerServerInfo> {
    return (await this.protocol('GET', '', undefined, options)) as WorkerServerInfo;
  }

  /**
   * Claims due jobs of remote containers (`POST /server/kjobs/workers/claim`): answers as soon as one is due, or
   * with none after `waitMs` (a long poll: give the client a timeout longer than that, or none). Each job is
   * RUNNING under its lease until completed, failed or released, or until its lease runs out without a heartbeat.
   */
  async claimJobs(claim: WorkerClaim, options: CallOptions = {}): Promise<WorkerJob[]> {
    const answer = (await this.protocol('POST', '/claim', claim, options)) as { jobs: WireWorkerJob[] };
    return answer.jobs.map(workerJobOf);
  }

  /**
   * A worker process leaves (`POST /server/kjobs/workers/leave`), last in its graceful stop: the jobs still held
   * under its session go back QUEUED, unrun; answers how many.
   */
  async leaveWorkers(worker: string, session: string, options: CallOptions = {}): Promise<number> {
    const answer = (await this.protocol('POST', '/leave', { worker, session }, options)) as {
      released: number;
    };
    return answer.released;
  }

  /**
   * Renews the leases of held jobs (`POST /server/kjobs/workers/heartbeat`); says of each whether it is still held,
   * and whether it was cancelled (stop it).
   */
  async heartbeat(
    jobs: readonly { id: number; lease: string }[],
    options: CallOptions = {},
  ): Promise<WorkerHeartbeat[]> {
    const answer = (await this.protocol('POST', '/heartbeat', { jobs }, options)) as {
      jobs: (Omit<WorkerHeartbeat, 'leaseExpiresAt'> & { leaseExpiresAt: string | null })[];
    };
    return answer.jobs.map((job) => ({
      ...job,
      leaseExpiresAt: job.leaseExpiresAt === null ? null : new Date(job.leaseExpiresAt),
    }));
  }

  /** Reports a held job's progress (`POST .../workers/jobs/{id}/progress`); a lost lease: ApiError 409. */
  async reportProgress(
    jobId: number,
    lease: string,
    progress: { value?: number; data?: DataMap },
    options: CallOptions = {},
  ): Promise<void> {
    await this.protocol('POST', `/jobs/${jobIdOf(jobId)}/progress`, { lease, ...progress }, options);
  }

  /**
   * Ends a held job's attempt DONE (`POST .../workers/jobs/{id}/complete`), with its response data and, for a
   * recurring job, its next run. A lost lease: ApiError 409 (nothing written); data past the server's limit: 413.
   */
  async completeJob(
    jobId: number,
    lease: string,
    result: { responseData?: DataMap; nextRun?: Date | null } = {},
    options: CallOptions = {},
  ): Promise<void> {
    await this.protocol(
      'POST',
      `/jobs/${jobIdOf(jobId)}/complete`,
      { lease, responseData: result.responseData ?? {}, nextRun: result.nextRun ?? null },
      options,
    );
  }

  /**
   * Ends a held job's attempt failed (`POST .../workers/jobs/{id}/fail`): RETRYING or ERROR by KIE's retry rule, or
   * ERROR at once with `retry: false`; answers which. A lost lease: ApiError 409 (nothing written).
   */
  async failJob(
    jobId: number,
    lease: string,
    failure: WorkerFailure,
    options: CallOptions = {},
  ): Promise<'RETRYING' | 'ERROR'> {
    const answer = (await this.protocol(
      'POST',
      `/jobs/${jobIdOf(jobId)}/fail`,
      {
        lease,
        message: failure.message,
        stacktrace: failure.stacktrace ?? null,
        retry: failure.retry ?? true,
        nextRun: failure.nextRun ?? null,
      },
      options,
    )) as { status: 'RETRYING' | 'ERROR' };
    return answer.status;
  }

  /** Gives a held job back unrun (`POST .../workers/jobs/{id}/release`): QUEUED again, the attempt not counted. */
  async releaseJob(jobId: number, lease: string, options: CallOptions = {}): Promise<void> {
    await this.protocol('POST', `/jobs/${jobIdOf(jobId)}/release`, { lease }, options);
  }

  /** A call of the worker protocol (JSON only); answers the parsed body, undefined for none (204). */
  private async protocol(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: CallOptions,
  ): Promise<unknown> {
    const response = await this.send({
      method,
      path: `/kjobs/workers${path}`,
      server: true,
      json: true,
      signal: options.signal,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.text === '') return undefined;
    try {
      return JSON.parse(response.text);
    } catch (error) {
      throw new ApiError({
        ...response,
        body: response.text,
        message: `Unreadable answer to ${response.request}: ${(error as Error).message}`,
      });
    }
  }

  private async extension<T>(
    method: 'GET' | 'POST',
    path: string,
    query: [string, string][],
    body: unknown,
    options: CallOptions,
  ): Promise<T> {
    if (method === 'POST' && (typeof body !== 'object' || body === null)) {
      throw new TypeError('a bulk action needs a selection: { ids } or a filter');
    }
    const response = await this.send({
      method,
      path,
      server: true,
      query,
      json: true,
      signal: options.signal,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    try {
      return withDates<T>(JSON.parse(response.text));
    } catch (error) {
      throw new ApiError({
        ...response,
        body: response.text,
        message: `Unreadable answer to ${response.request}: ${(error as Error).message}`,
      });
    }
  }

  /**
   * Pauses a command on every node of a kjobs server (`POST /server/jobs/commands/{cmd}/pause`, a kjobs extension,
   * not in KIE Server; 204): its running jobs finish, none starts until resumed. Kept across restarts.
   */
  async pauseCommand(command: string, options: CallOptions = {}): Promise<void> {
    await this.flowControl(`/commands/${segment(command, 'command')}/pause`, options);
  }

  /** Resumes a paused command (`POST /server/jobs/commands/{cmd}/resume`, a kjobs extension; 204). */
  async resumeCommand(command: string, options: CallOptions = {}): Promise<void> {
    await this.flowControl(`/commands/${segment(command, 'command')}/resume`, options);
  }

  /** Pauses the jobs of a container on every node (`POST /server/jobs/containers/{id}/pause`, kjobs; 204). */
  async pauseContainer(id: string, options: CallOptions = {}): Promise<void> {
    await this.flowControl(`/containers/${segment(id, 'id')}/pause`, options);
  }

  /** Resumes a paused container (`POST /server/jobs/containers/{id}/resume`, a kjobs extension; 204). */
  async resumeContainer(id: string, options: CallOptions = {}): Promise<void> {
    await this.flowControl(`/containers/${segment(id, 'id')}/resume`, options);
  }

  /** The paused commands and containers (`GET /server/jobs/paused`, a kjobs extension), by kind then name. */
  async listPaused(options: CallOptions = {}): Promise<PausedTarget[]> {
    const response = await this.send({ method: 'GET', path: '/paused', signal: options.signal });
    try {
      const body = JSON.parse(response.text) as {
        paused: { kind: PausedTarget['kind']; name: string; pausedAt: string }[];
      };
      return body.paused.map((entry) => ({
        kind: entry.kind,
        name: entry.name,
        pausedAt: new Date(entry.pausedAt),
      }));
    } catch (error) {
      throw new ApiError({
        ...response,
        body: response.text,
        message: `Unreadable answer to ${response.request}: ${(error as Error).message}`,
      });
    }
  }

  private async flowControl(path: string, options: CallOptions): Promise<void> {
    await this.send({ method: 'POST', path, body: '', signal: options.signal });
  }

  private async list(path: string, options: ListOptions): Promise<RequestInfoInstanceList> {
    const statuses =
      options.status === undefined
        ? []
        : typeof options.status === 'string'
          ? [options.status]
          : options.status;
    const query: [string, string][] = statuses.map((status) => ['status', status]);
    if (options.page !== undefined) query.push(['page', String(options.page)]);
    if (options.pageSize !== undefined) query.push(['pageSize', String(options.pageSize)]);
    const response = await this.send({ method: 'GET', path, query, signal: options.signal });
    return this.read(response, requestInfoListFromJson, requestInfoListFromXml);
  }

  /** Sends a request; answers the response (its body read) when the status is 2xx, throws otherwise. */
  private async send(
    call: Call,
  ): Promise<{ status: number; headers: Headers; text: string; request: string }> {
    const search = new URLSearchParams(call.query ?? []).toString();
    const url = `${call.server ? this.serverUrl : this.jobsUrl}${call.path}${search ? `?${search}` : ''}`;
    const request = `${call.method} ${url}`;
    const headers: Record<string, string> = { ...this.headers };
    const format = call.json ? 'json' : this.format;
    if (call.json) {
      headers.accept = MEDIA_TYPES.json;
      headers['x-kie-contenttype'] = KIE_CONTENT_TYPES.json;
    }
    if (call.body !== undefined) headers['content-type'] = MEDIA_TYPES[format];
    const timeout = this.timeoutMs !== undefined ? AbortSignal.timeout(this.timeoutMs) : undefined;
    const signal = anySignal([timeout, call.signal]);
    const init: RequestInit = { method: call.method, headers, ...(signal ? { signal } : {}) };
    if (call.body !== undefined) init.body = call.body;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFunction(url, init);
      text = await response.text();
    } catch (error) {
      const timedOut = timeout?.aborted === true;
      if (!timedOut && call.signal?.aborted) throw error; // the caller aborted: their reason stands
      const reason = timedOut
        ? `no answer within ${this.timeoutMs} ms`
        : ((error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message);
      throw new ConnectionError(`${request} failed: ${reason}`, { request, timedOut, cause: error });
    }
    if (response.status < 200 || response.status > 299) {
      throw new ApiError({ status: response.status, body: text, headers: response.headers, request });
    }
    return { status: response.status, headers: response.headers, text, request };
  }

  /** Reads a 2xx answer in the format it came in (the body tells, whatever its Content-Type says). */
  private read<T>(
    response: { status: number; headers: Headers; text: string; request: string },
    fromJson: (value: unknown) => T,
    fromXml: (root: ReturnType<typeof parseXml>) => T,
  ): T {
    try {
      const text = response.text.replace(/^\uFEFF/, '').trim();
      return text.startsWith('<') ? fromXml(parseXml(text)) : fromJson(JSON.parse(text));
    } catch (error) {
      throw new ApiError({
        ...response,
        body: response.text,
        message: `Unreadable answer to ${response.request}: ${(error as Error).message}`,
      });
    }
  }
}
