/**
 * The worker protocol over HTTP (docs/workers.md), under `.../server/kjobs/workers/`: claim with a long poll,
 * heartbeat, progress, complete, fail, release. JSON only, behind the API's authentication: users with an API role
 * may serve every remote container; users with the role `worker` only the containers they are granted
 * (--worker-grant), and nothing else of the API. The jobs' side is remote/worker-service.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataMap } from '../../core/index.js';
import { toProgressReport } from '../../executor/progress-reporter.js';
import type { Kjobs } from '../../kjobs.js';
import {
  MAX_CLAIM,
  MAX_WAIT_MS,
  ResponseTooLargeError,
  type RemoteJob,
} from '../../remote/worker-service.js';
import { API_ROLES, WORKER_ROLE } from '../auth.js';
import { HttpError } from '../errors.js';
import { negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS as SCHEMAS } from '../openapi/schemas.js';
import { parseJobId } from '../params.js';

export interface WorkerRouteOptions {
  kjobs: Kjobs;
  /** The remote containers each user with the role `worker` may serve (--worker-grant). */
  workerGrants?: Readonly<Record<string, readonly string[]>>;
}

type Request = FastifyRequest<{ Params: Record<string, string> }>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const WORKER_NAME = /^[A-Za-z0-9._:-]{1,100}$/;
/** Jobs one heartbeat may name. */
const MAX_HEARTBEAT_JOBS = 1000;

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/** The JSON object of a request's body, or a 400 saying what is wrong. */
function bodyOf(request: FastifyRequest): Record<string, unknown> {
  if (negotiationOf(request).format !== 'json' || !/json/i.test(request.headers['content-type'] ?? '')) {
    throw new HttpError(415, 'The worker protocol reads JSON only: send Content-Type: application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(typeof request.body === 'string' ? request.body : '');
  } catch (error) {
    throw new HttpError(400, `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'The body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function stringOf(body: Record<string, unknown>, key: string, required: true): string;
function stringOf(body: Record<string, unknown>, key: string, required?: false): string | undefined;
function stringOf(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(400, `"${key}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new HttpError(400, `"${key}" must be a string`);
  return value;
}

function integerOf(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, `"${key}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function stringsOf(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string' && item)
  ) {
    throw new HttpError(400, `"${key}" must be a non-empty list of names`);
  }
  return value as string[];
}

function workerNameOf(body: Record<string, unknown>): string {
  const worker = stringOf(body, 'worker', true);
  if (!WORKER_NAME.test(worker)) {
    throw new HttpError(400, '"worker" must be 1 to 100 letters, digits, ".", "_", "-" or ":"');
  }
  return worker;
}

/** `session`: a worker process's own random id, letters, digits and "-" (8 to 64). */
function sessionOf(body: Record<string, unknown>): string | undefined {
  const session = stringOf(body, 'session');
  if (session !== undefined && !/^[A-Za-z0-9-]{8,64}$/.test(session)) {
    throw new HttpError(400, '"session" must be 8 to 64 letters, digits or "-"');
  }
  return session;
}

/** `nextRun`: an ISO-8601 date, epoch milliseconds, or null. */
function dateOf(body: Record<string, unknown>, key: string): number | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new HttpError(400, `"${key}" must be an ISO-8601 date or null`);
  return ms;
}

function wireJob(job: RemoteJob) {
  return {
    ...job,
    scheduledAt: iso(job.scheduledAt),
    leaseExpiresAt: iso(job.leaseExpiresAt),
  };
}

export async function workerRoutes(app: FastifyInstance, { kjobs, workerGrants = {} }: WorkerRouteOptions) {
  const { workers, registry } = kjobs;

  /** The remote containers the request's user may serve. */
  function allowedContainers(request: FastifyRequest): string[] {
    const remote = registry.remoteContainerIds();
    const user = request.kjobsUser;
    if (!user || API_ROLES.some((role) => user.roles.has(role))) return remote; // no users: loopback only
    if (user.roles.has(WORKER_ROLE)) return remote.filter((id) => workerGrants[user.name]?.includes(id));
    return [];
  }

  /** Refuses a worker user that is not granted the job's container (its lease alone is not enough). */
  async function checkJobContainer(request: FastifyRequest, id: number): Promise<void> {
    const user = request.kjobsUser;
    if (!user || API_ROLES.some((role) => user.roles.has(role))) return;
    const job = await kjobs.get(id);
    if (job.containerId === null || !allowedContainers(request).includes(job.containerId)) {
      throw new HttpError(403, `User ${user.name} may not serve the container of job ${id}`);
    }
  }

  app.get('/kjobs/workers', { schema: SCHEMAS.workerInfo }, async (request, reply) =>
    sendJson(reply, {
      heartbeatMs: workers.heartbeatMs,
      containers: allowedContainers(request).map((id) => ({
        id,
        commands: registry.container(id)?.commands ?? [],
      })),
    }),
  );

  app.post('/kjobs/workers/claim', { schema: SCHEMAS.workerClaim }, async (request, reply) => {
    const body = bodyOf(request);
    const worker = workerNameOf(body);
    const allowed = allowedContainers(request);
    const asked = stringsOf(body, 'containers');
    for (const id of asked ?? []) {
      if (!registry.isRemote(id)) {
        throw new HttpError(
          404,
          `No remote container ${id} here (--remote-container ${id}=PATTERN declares one)`,
        );
      }
      if (!allowed.includes(id)) {
        throw new HttpError(
          403,
          `User ${request.kjobsUser?.name} may not serve container ${id} (--worker-grant)`,
        );
      }
    }
    const containers = asked ?? allowed;
    if (containers.length === 0) {
      throw new HttpError(
        403,
        allowed.length === 0 && registry.remoteContainerIds().length === 0
          ? 'This server has no remote container: declare one with --remote-container ID=PATTERN'
          : `User ${request.kjobsUser?.name} may serve no remote container (--worker-grant)`,
      );
    }
    const commands = stringsOf(body, 'commands');
    const session = sessionOf(body);
    const max = integerOf(body, 'max', 1, MAX_CLAIM, 1);
    const waitMs = integerOf(body, 'waitMs', 0, MAX_WAIT_MS, 0);
    // The worker gone before the answer: stop waiting; jobs claimed for an answer it never got go back.
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const jobs = await workers.claim({
      worker,
      ...(session ? { session } : {}),
      containers,
      ...(commands ? { commands } : {}),
      max,
      waitMs,
      signal: gone.signal,
    });
    if (gone.signal.aborted) {
      if (jobs.length > 0) await workers.giveBack(jobs);
      return reply;
    }
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished && jobs.length > 0) void workers.giveBack(jobs).catch(() => undefined);
    });
    return sendJson(reply, { heartbeatMs: workers.heartbeatMs, jobs: jobs.map(wireJob) });
  });

  app.post('/kjobs/workers/leave', { schema: SCHEMAS.workerLeave }, async (request, reply) => {
    const body = bodyOf(request);
    const worker = workerNameOf(body);
    const session = sessionOf(body);
    if (!session) throw new HttpError(400, '"session" is required: the session the worker claimed under');
    return sendJson(reply, { released: await workers.leave(worker, session) });
  });

  app.post('/kjobs/workers/heartbeat', { schema: SCHEMAS.workerHeartbeat }, async (request, reply) => {
    const body = bodyOf(request);
    const jobs = body.jobs;
    if (!Array.isArray(jobs) || jobs.length > MAX_HEARTBEAT_JOBS) {
      throw new HttpError(400, `"jobs" must be a list of at most ${MAX_HEARTBEAT_JOBS} {"id", "lease"}`);
    }
    const held = jobs.map((job: unknown) => {
      const entry = job as { id?: unknown; lease?: unknown };
      if (typeof entry !== 'object' || entry === null || !Number.isSafeInteger(entry.id)) {
        throw new HttpError(400, 'each job of "jobs" needs "id" (a job id) and "lease"');
      }
      if (typeof entry.lease !== 'string')
        throw new HttpError(400, `job ${String(entry.id)} needs its "lease"`);
      return { id: entry.id as number, lease: entry.lease };
    });
    const answers = await workers.heartbeat(held);
    return sendJson(reply, {
      jobs: answers.map((answer) => ({ ...answer, leaseExpiresAt: iso(answer.leaseExpiresAt) })),
    });
  });

  app.post(
    '/kjobs/workers/jobs/:jobId/progress',
    { schema: SCHEMAS.workerProgress },
    async (request: Request, reply) => {
      const id = parseJobId(request.params.jobId ?? '');
      const body = bodyOf(request);
      const lease = stringOf(body, 'lease', true);
      await checkJobContainer(request, id);
      let report;
      try {
        const data = body.data as DataMap | undefined;
        report =
          typeof body.value === 'number' ? toProgressReport(body.value, data) : toProgressReport(data ?? {});
      } catch (error) {
        throw new HttpError(400, (error as Error).message);
      }
      if (!(await workers.progress(id, lease, report))) throw leaseLost(id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/kjobs/workers/jobs/:jobId/complete',
    { schema: SCHEMAS.workerComplete },
    async (request: Request, reply) => {
      const id = parseJobId(request.params.jobId ?? '');
      const body = bodyOf(request);
      const lease = stringOf(body, 'lease', true);
      const data = body.responseData ?? {};
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new HttpError(400, '"responseData" must be a JSON object');
      }
      await checkJobContainer(request, id);
      let written: boolean;
      try {
        written = await workers.complete(id, lease, data as DataMap, dateOf(body, 'nextRun'));
      } catch (error) {
        if (error instanceof ResponseTooLargeError) throw new HttpError(413, error.message);
        throw error;
      }
      if (!written) throw leaseLost(id);
      return sendJson(reply, { status: 'DONE' });
    },
  );

  app.post(
    '/kjobs/workers/jobs/:jobId/fail',
    { schema: SCHEMAS.workerFail },
    async (request: Request, reply) => {
      const id = parseJobId(request.params.jobId ?? '');
      const body = bodyOf(request);
      const lease = stringOf(body, 'lease', true);
      const retry = body.retry;
      if (retry !== undefined && typeof retry !== 'boolean')
        throw new HttpError(400, '"retry" must be true or false');
      await checkJobContainer(request, id);
      const status = await workers.fail(
        id,
        lease,
        { message: stringOf(body, 'message') ?? null, stacktrace: stringOf(body, 'stacktrace') ?? null },
        retry !== false,
        dateOf(body, 'nextRun'),
      );
      if (status === null) throw leaseLost(id);
      return sendJson(reply, { status });
    },
  );

  app.post(
    '/kjobs/workers/jobs/:jobId/release',
    { schema: SCHEMAS.workerRelease },
    async (request: Request, reply) => {
      const id = parseJobId(request.params.jobId ?? '');
      const lease = stringOf(bodyOf(request), 'lease', true);
      await checkJobContainer(request, id);
      if (!(await workers.release(id, lease))) throw leaseLost(id);
      return reply.code(204).send();
    },
  );
}

function leaseLost(id: number): HttpError {
  return new HttpError(
    409,
    `Job ${id} is not held under this lease any more (cancelled, requeued, or rescued after the lease ran out): ` +
      'drop it',
  );
}
