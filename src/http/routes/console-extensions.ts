/**
 * kjobs extensions for the console, under `.../server/kjobs/`: statistics for charts, the breakdown by command or
 * container, a job's timeline, and bulk cancel and requeue. JSON only (KIE has no such operations, so no XML form);
 * times are ISO-8601 strings. They sit behind the API's authentication: a `viewer` may read, not act.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BulkJobSelection, Kjobs } from '../../kjobs.js';
import type { BulkResult } from '../../store/job-store.js';
import { HttpError } from '../errors.js';
import { negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS as SCHEMAS } from '../openapi/schemas.js';
import { parseJobId } from '../params.js';

type Request = FastifyRequest<{
  Params: Record<string, string>;
  Querystring: Record<string, string | string[] | undefined>;
}>;

export interface ConsoleExtensionOptions {
  kjobs: Kjobs;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/** These routes speak JSON only: an Accept or body in XML is refused as KIE refuses formats it lacks. */
function requireJson(request: FastifyRequest): void {
  if (negotiationOf(request).format === 'json') return;
  const accept = request.headers.accept ?? '';
  if (request.method === 'GET' && accept && !/json|\*\/\*/.test(accept)) {
    throw new HttpError(406, 'This kjobs extension answers JSON only: send Accept: application/json');
  }
  const type = request.headers['content-type'];
  if (request.method !== 'GET' && !/json/i.test(type ?? '')) {
    throw new HttpError(415, 'This kjobs extension reads JSON only: send Content-Type: application/json');
  }
}

function readSelection(request: FastifyRequest): BulkJobSelection {
  const text = typeof request.body === 'string' ? request.body : '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'The body must be a JSON object: {"ids": [...]} or a filter');
  }
  const known = ['ids', 'status', 'businessKey', 'command', 'containerId', 'processInstanceId'];
  const unknown = Object.keys(body).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `Unknown key ${unknown.join(', ')}: use ${known.join(', ')}`);
  }
  const selection = body as Record<string, unknown>;
  if ('ids' in selection) {
    if (Object.keys(selection).length > 1) throw new HttpError(400, 'Give "ids" or a filter, not both');
    const ids = selection.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
      throw new HttpError(400, '"ids" must be a non-empty list of job ids (whole numbers)');
    }
    return { ids: ids as number[] };
  }
  for (const key of ['businessKey', 'command', 'containerId'] as const) {
    if (key in selection && typeof selection[key] !== 'string')
      throw new HttpError(400, `"${key}" must be a string`);
  }
  if ('processInstanceId' in selection && !Number.isSafeInteger(selection.processInstanceId)) {
    throw new HttpError(400, '"processInstanceId" must be a whole number');
  }
  const status = selection.status;
  if (
    status !== undefined &&
    typeof status !== 'string' &&
    !(Array.isArray(status) && status.every((s) => typeof s === 'string'))
  ) {
    throw new HttpError(400, '"status" must be a status or a list of statuses');
  }
  return selection as BulkJobSelection;
}

export async function consoleExtensionRoutes(
  app: FastifyInstance,
  { kjobs }: ConsoleExtensionOptions,
): Promise<void> {
  app.addHook('onRequest', async (request) => requireJson(request));

  app.get('/kjobs/stats', { schema: SCHEMAS.jobStats }, async (request: Request, reply) => {
    const stats = await kjobs.stats(one(request.query.range) ?? 'hour');
    return sendJson(reply, {
      range: stats.range,
      bucketMs: stats.bucketMs,
      from: iso(stats.from),
      to: iso(stats.to),
      points: stats.points.map((point) => ({ ...point, at: iso(point.at) })),
    });
  });

  app.get('/kjobs/stats/breakdown', { schema: SCHEMAS.jobBreakdown }, async (request: Request, reply) => {
    const by = one(request.query.by) ?? 'command';
    const now = kjobs.now();
    const rows = await kjobs.breakdown(by, now);
    return sendJson(reply, { by, since: iso(now - 3_600_000), rows });
  });

  app.get('/kjobs/jobs/:jobId/timeline', { schema: SCHEMAS.jobTimeline }, async (request: Request, reply) => {
    const { job, timeline } = await kjobs.timeline(parseJobId(request.params.jobId ?? ''));
    return sendJson(reply, {
      id: job.id,
      status: job.status,
      command: job.command,
      executions: job.executions,
      createdAt: iso(job.createdAt),
      scheduledAt: iso(job.scheduledAt),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      timeline: timeline.map((entry) => {
        const out: Record<string, unknown> = { ...entry, at: iso(entry.at) };
        for (const key of ['dueAt', 'startedAt', 'endedAt'] as const) {
          if (key in entry) out[key] = iso((entry as unknown as Record<string, number | null>)[key] ?? null);
        }
        return out;
      }),
    });
  });

  // Cancel of one job, a RUNNING one too (KIE's DELETE keeps refusing those with 409).
  app.post('/kjobs/jobs/:jobId/cancel', { schema: SCHEMAS.cancelJob }, async (request: Request, reply) => {
    const id = parseJobId(request.params.jobId ?? '');
    const before = await kjobs.get(id);
    const job = await kjobs.cancel(id, { evenRunning: true });
    return sendJson(reply, { id: job.id, status: job.status, previousStatus: before.status });
  });

  const answer = ({ matched, changed, refused }: BulkResult) => ({ matched, changed, refused });
  app.post('/kjobs/jobs/requeue', { schema: SCHEMAS.bulkRequeue }, async (request, reply) =>
    sendJson(reply, answer(await kjobs.bulkRequeue(readSelection(request)))),
  );

  app.post('/kjobs/jobs/cancel', { schema: SCHEMAS.bulkCancel }, async (request, reply) =>
    sendJson(reply, answer(await kjobs.bulkCancel(readSelection(request)))),
  );
}
