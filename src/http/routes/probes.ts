/**
 * KIE Server's probes, as KieServerRestImpl answers them, for OpenShift/Kubernetes probes set up for KIE Server.
 * Like KIE's web.xml (7.x), they need no credentials.
 *
 * - `GET /server/readycheck`: 200 with an empty body once the server is fully started, else 503.
 * - `GET /server/healthcheck`: 200 when no check reports an ERROR, else 503; empty bodies, or with
 *   `?report=true` the list of messages (JSON or JAXB XML), as KieServerImpl.healthCheck writes them: a header
 *   (ready or not, uptime), one message per extension (kjobs' one is jBPM's: the job store answers), a footer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kjobs } from '../../kjobs.js';
import { codecFor } from '../formats/codec.js';
import type { KieMessage } from '../formats/model.js';
import { jsonDatesFor, type JsonDatesSetting } from '../formats/dates.js';
import { negotiationHook, negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS } from '../openapi/schemas.js';
import { parseFlag } from '../params.js';
import { probeStore } from './health.js';

export interface ProbeOptions {
  kjobs: Kjobs;
  serverId: string;
  /** When the server was created, epoch milliseconds (the uptime counts from it). */
  startedAt: number;
  jsonDates: JsonDatesSetting;
  /** Whether the HTTP server listens and is not closing. */
  serving(): boolean;
}

/** KIE's extension that owns jobs (its health message names it). */
const JOBS_EXTENSION = 'jBPM';

/** Durations in words as KIE writes uptime (commons-lang DurationFormatUtils.formatDurationWords). */
export function durationWords(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'day'],
    [Math.floor(seconds / 3600) % 24, 'hour'],
    [Math.floor(seconds / 60) % 60, 'minute'],
    [seconds % 60, 'second'],
  ];
  return parts.map(([count, unit]) => `${count} ${unit}${count === 1 ? '' : 's'}`).join(' ');
}

export async function probeRoutes(app: FastifyInstance, options: ProbeOptions): Promise<void> {
  const { kjobs } = options;
  const ready = () => kjobs.state === 'started' && options.serving();
  const unavailable = (reply: FastifyReply) =>
    reply.code(503).header('content-type', 'text/plain; charset=utf-8').send('');

  app.get('/readycheck', { schema: ROUTE_SCHEMAS.readycheck }, async (request, reply) => {
    if (!ready()) return unavailable(reply);
    const probe = await probeStore(kjobs);
    if (probe.ok) return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send('');
    request.log.warn({ err: probe.error }, 'readycheck: the job store does not answer');
    return unavailable(reply);
  });

  app.register(async (scope) => {
    scope.addHook('onRequest', negotiationHook);
    scope.get(
      '/healthcheck',
      { schema: ROUTE_SCHEMAS.healthcheck },
      async (
        request: FastifyRequest<{ Querystring: Record<string, string | string[] | undefined> }>,
        reply,
      ) => {
        const report = parseFlag(request.query.report);
        const start = Date.now();
        const message = (severity: KieMessage['severity'], ...content: string[]): KieMessage => ({
          severity,
          timestamp: Date.now(),
          content,
        });
        const messages: KieMessage[] = [];
        const isReady = ready();
        if (!isReady)
          messages.push(message('ERROR', `KIE Server '${options.serverId}' is not ready to serve requests`));
        if (report) {
          messages.push(
            message(
              'INFO',
              `KIE Server '${options.serverId}' is ready to serve requests ${isReady}`,
              `Server is up for ${durationWords(Date.now() - options.startedAt)}`,
            ),
          );
        }
        const probe = await probeStore(kjobs);
        if (probe.ok) {
          if (report) messages.push(message('INFO', `${JOBS_EXTENSION} is alive`));
        } else {
          // No driver details: this endpoint needs no credentials; the log has them.
          request.log.warn({ err: probe.error }, 'healthcheck: the job store does not answer');
          messages.push(message('ERROR', `${JOBS_EXTENSION} failed due to the job store does not answer`));
        }
        if (report) messages.push(message('INFO', `Health check done in ${Date.now() - start} ms`));

        const status = messages.some((each) => each.severity === 'ERROR') ? 503 : 200;
        if (!report) {
          return status === 200 ? reply.code(200).send('') : unavailable(reply);
        }
        const codec = codecFor(
          negotiationOf(request),
          jsonDatesFor(options.jsonDates, request.headers['user-agent']),
        );
        return reply.code(status).header('content-type', codec.mediaType).send(codec.messages(messages));
      },
    );
  });
}
