/** Health endpoints for orchestrators, outside the KIE API and without authentication. */
import type { FastifyInstance } from 'fastify';
import type { Kjobs } from '../../kjobs.js';
import { ROUTE_SCHEMAS } from '../openapi/schemas.js';

const READY_TIMEOUT_MS = 2000;

/** Whether the store answers a primary-key read within the time; the failure (for the log) when not. */
export async function probeStore(kjobs: Kjobs): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      kjobs.store.get(0),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, { kjobs }: { kjobs: Kjobs }) {
  // The process is up and serving HTTP.
  app.get('/healthz', { schema: ROUTE_SCHEMAS.health }, async (_request, reply) =>
    reply.code(200).send({ status: 'UP' }),
  );

  // The store answers: a primary-key read, bounded in time.
  app.get('/readyz', { schema: ROUTE_SCHEMAS.ready }, async (request, reply) => {
    // Listening comes first (a node answers at once); ready once its jobs' services have started.
    if (kjobs.state === 'created') {
      return reply.code(503).send({ status: 'NOT_READY', reason: 'kjobs is starting' });
    }
    const probe = await probeStore(kjobs);
    if (probe.ok) return reply.code(200).send({ status: 'READY' });
    // The details (a database address, a driver message) go to the log only: this endpoint needs no credentials.
    request.log.warn({ err: probe.error }, 'readiness check failed');
    return reply.code(503).send({ status: 'NOT_READY', reason: 'the job store does not answer' });
  });
}
