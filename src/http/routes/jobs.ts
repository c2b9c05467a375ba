/** The ten operations of KIE Server's "Asynchronous jobs" API, under `.../server/jobs`. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { context } from '@opentelemetry/api';
import type { Job } from '../../core/index.js';
import { contextFromHeaders } from '../../observability/tracing.js';
import type { Kjobs, ListOptions } from '../../kjobs.js';
import { codecFor, type Codec } from '../formats/codec.js';
import { jsonDatesFor, type JsonDatesSetting } from '../formats/dates.js';
import { toRequestInfoInstance } from '../formats/model.js';
import { negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS as SCHEMAS } from '../openapi/schemas.js';
import {
  parseContainerId,
  parseFlag,
  parseJobId,
  parseListParams,
  parseProcessInstanceId,
} from '../params.js';

type Query = Record<string, string | string[] | undefined>;
type Request = FastifyRequest<{ Params: Record<string, string>; Querystring: Query }>;

export interface JobRoutesOptions {
  kjobs: Kjobs;
  jsonDates: JsonDatesSetting;
}

function bodyOf(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

function send(reply: FastifyReply, status: number, codec: Codec, body: string): FastifyReply {
  return reply.code(status).header('content-type', codec.mediaType).send(body);
}

export async function jobRoutes(app: FastifyInstance, { kjobs, jsonDates }: JobRoutesOptions): Promise<void> {
  const codecOf = (request: FastifyRequest) =>
    codecFor(negotiationOf(request), jsonDatesFor(jsonDates, request.headers['user-agent']));

  const list =
    (query: (request: Request, options: ListOptions) => Promise<Job[]>) =>
    async (request: Request, reply: FastifyReply) => {
      const codec = codecOf(request);
      const jobs = await query(request, parseListParams(request.query));
      // Written in chunks: a page of 10,000 jobs takes 50 to 200 ms to write, which would stall every other
      // request (and /healthz) meanwhile.
      const body = await codec.requestInfoListInChunks(jobs.map((job) => toRequestInfoInstance(job)));
      return send(reply, 200, codec, body);
    };

  // scheduleRequest: 201 and the new id.
  app.post('/jobs', { schema: SCHEMAS.scheduleRequest }, async (request: Request, reply) => {
    const codec = codecOf(request);
    const containerId = parseContainerId(request.query.containerId);
    const job = codec.readJobRequest(bodyOf(request));
    // The request's W3C traceparent (if any) is the parent of the schedule's span, and so of the job's runs.
    const id = await context.with(contextFromHeaders(request.headers), () =>
      kjobs.schedule({ ...job, containerId: containerId ?? null }),
    );
    return send(reply, 201, codec, codec.scheduledId(id));
  });

  // A batch (kjobs extension): every job or none, 201 and the ids in order; containerId applies to all.
  app.post('/jobs/batch', { schema: SCHEMAS.scheduleRequests }, async (request: Request, reply) => {
    const codec = codecOf(request);
    const containerId = parseContainerId(request.query.containerId) ?? null;
    const jobs = codec.readJobRequestList(bodyOf(request));
    const ids = await context.with(contextFromHeaders(request.headers), () =>
      kjobs.scheduleMany(jobs.map((job) => ({ ...job, containerId }))),
    );
    return send(reply, 201, codec, codec.scheduledIds(ids));
  });

  // getRequestsByStatus: QUEUED by default, newest first.
  app.get(
    '/jobs',
    { schema: SCHEMAS.getRequestsByStatus },
    list((_request, options) => kjobs.listByStatus(options)),
  );
  // getRequestsByBusinessKey: all statuses by default.
  app.get(
    '/jobs/keys/:key',
    { schema: SCHEMAS.getRequestsByBusinessKey },
    list((request, options) => kjobs.listByBusinessKey(request.params.key ?? '', options)),
  );
  // getRequestsByCommand: all statuses by default.
  app.get(
    '/jobs/commands/:cmd',
    { schema: SCHEMAS.getRequestsByCommand },
    list((request, options) => kjobs.listByCommand(request.params.cmd ?? '', options)),
  );
  // getRequestsByContainer: QUEUED by default.
  app.get(
    '/jobs/containers/:containerId',
    { schema: SCHEMAS.getRequestsByContainer },
    list((request, options) => kjobs.listByContainer(request.params.containerId ?? '', options)),
  );
  // getRequestsByProcessInstance: QUEUED by default.
  app.get(
    '/jobs/processes/instances/:processInstanceId',
    { schema: SCHEMAS.getRequestsByProcessInstance },
    list((request, options) =>
      kjobs.listByProcessInstance(parseProcessInstanceId(request.params.processInstanceId ?? ''), options),
    ),
  );

  // getRequestById: errors and data only when asked for. containerId is accepted and ignored.
  app.get('/jobs/:jobId', { schema: SCHEMAS.getRequestById }, async (request: Request, reply) => {
    const codec = codecOf(request);
    const id = parseJobId(request.params.jobId ?? '');
    const withErrors = parseFlag(request.query.withErrors);
    const withData = parseFlag(request.query.withData);
    const job = await kjobs.get(id, { withErrors, withData });
    return send(reply, 200, codec, codec.requestInfo(toRequestInfoInstance(job, { withData, withErrors })));
  });

  // A job's parents and children (kjobs extension, JSON only).
  app.get(
    '/jobs/:jobId/dependencies',
    { schema: SCHEMAS.getJobDependencies },
    async (request: Request, reply) => {
      const id = parseJobId(request.params.jobId ?? '');
      const [job, links] = await Promise.all([kjobs.get(id), kjobs.dependencies(id)]);
      const link = (linked: Job) => ({
        id: linked.id,
        status: linked.status,
        command: linked.command,
        waiting: linked.status === 'QUEUED' && (linked.waitingFor ?? 0) > 0,
      });
      return reply.code(200).send({
        id,
        waitingFor: job.waitingFor ?? 0,
        parents: links.parents.map(link),
        children: links.children.map(link),
      });
    },
  );

  // A job's latest progress (kjobs extension, JSON only).
  app.get('/jobs/:jobId/progress', { schema: SCHEMAS.getJobProgress }, async (request: Request, reply) => {
    const job = await kjobs.get(parseJobId(request.params.jobId ?? ''));
    const progress = job.progress ?? null;
    return reply.code(200).send({
      id: job.id,
      status: job.status,
      value: progress?.value ?? null,
      data: progress?.data ?? null,
      updatedAt: progress ? new Date(progress.at).toISOString() : null,
    });
  });

  // cancelRequest: 204; 404 for an unknown job, 409 for a job that cannot be cancelled.
  app.delete('/jobs/:jobId', { schema: SCHEMAS.cancelRequest }, async (request: Request, reply) => {
    codecOf(request);
    await kjobs.cancel(parseJobId(request.params.jobId ?? ''));
    return reply.code(204).send();
  });

  // requeueRequest: 201 with an empty body; 404 unknown, 409 DONE or CANCELLED. The body, if any, is ignored.
  app.put('/jobs/:jobId', { schema: SCHEMAS.requeueRequest }, async (request: Request, reply) => {
    codecOf(request);
    await kjobs.requeue(parseJobId(request.params.jobId ?? ''));
    return reply.code(201).send();
  });

  // updateRequestData: 201 with an empty body; KIE's 400 for RUNNING, DONE and CANCELLED jobs.
  app.post('/jobs/:jobId/data', { schema: SCHEMAS.updateRequestData }, async (request: Request, reply) => {
    const codec = codecOf(request);
    const id = parseJobId(request.params.jobId ?? '');
    const containerId = parseContainerId(request.query.containerId);
    const data = codec.readDataMap(bodyOf(request));
    await kjobs.updateData(id, data, { containerId });
    return reply.code(201).send();
  });
}
