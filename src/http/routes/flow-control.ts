/**
 * Flow control (kjobs extensions, issue 17), beside KIE's jobs: pause and resume a command or a container on
 * every node of the store, and list what is paused.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kjobs } from '../../kjobs.js';
import { ROUTE_SCHEMAS as SCHEMAS } from '../openapi/schemas.js';

export interface FlowControlRoutesOptions {
  kjobs: Kjobs;
}

type CommandRequest = FastifyRequest<{ Params: { cmd: string } }>;
type ContainerRequest = FastifyRequest<{ Params: { containerId: string } }>;

export async function flowControlRoutes(app: FastifyInstance, { kjobs }: FlowControlRoutesOptions) {
  app.post(
    '/jobs/commands/:cmd/pause',
    { schema: SCHEMAS.pauseCommand },
    async (request: CommandRequest, reply) => {
      await kjobs.pause({ kind: 'command', name: request.params.cmd });
      return reply.code(204).send();
    },
  );
  app.post(
    '/jobs/commands/:cmd/resume',
    { schema: SCHEMAS.resumeCommand },
    async (request: CommandRequest, reply) => {
      await kjobs.resume({ kind: 'command', name: request.params.cmd });
      return reply.code(204).send();
    },
  );
  app.post(
    '/jobs/containers/:containerId/pause',
    { schema: SCHEMAS.pauseContainer },
    async (request: ContainerRequest, reply) => {
      await kjobs.pause({ kind: 'container', name: request.params.containerId });
      return reply.code(204).send();
    },
  );
  app.post(
    '/jobs/containers/:containerId/resume',
    { schema: SCHEMAS.resumeContainer },
    async (request: ContainerRequest, reply) => {
      await kjobs.resume({ kind: 'container', name: request.params.containerId });
      return reply.code(204).send();
    },
  );
  app.get('/jobs/paused', { schema: SCHEMAS.listPaused }, async (_request, reply) => {
    const paused = (await kjobs.listPaused()).map((target) => ({
      kind: target.kind,
      name: target.name,
      pausedAt: new Date(target.pausedAt).toISOString(),
    }));
    return reply.code(200).header('content-type', 'application/json').send(JSON.stringify({ paused }));
  });
}
