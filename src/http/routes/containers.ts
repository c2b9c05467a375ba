/**
 * `GET .../server/containers` and `.../server/containers/{containerId}`: the containers kjobs has loaded, as KIE
 * Server lists its KIE containers (KieContainerResourceList / KieContainerResource in a ServiceResponse). Each is
 * STARTED; the commands it offers come in a kjobs extension field KIE clients ignore.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContainerInfo } from '../../commands/registry.js';
import type { Kjobs } from '../../kjobs.js';
import { HttpError } from '../errors.js';
import { codecFor } from '../formats/codec.js';
import type { KieContainerResource } from '../formats/model.js';
import { jsonDatesFor, type JsonDatesSetting } from '../formats/dates.js';
import { negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS } from '../openapi/schemas.js';

export interface ContainerRoutesOptions {
  kjobs: Kjobs;
  jsonDates: JsonDatesSetting;
}

/** A loaded container as KIE shows one; its message says what it offers, as KIE's says which kjar it runs. */
export function toContainerResource(info: ContainerInfo): KieContainerResource {
  const offers = info.commands.length > 0 ? `commands ${info.commands.join(', ')}` : 'no commands';
  return {
    containerId: info.id,
    status: 'STARTED',
    messages: [
      {
        severity: 'INFO',
        timestamp: info.createdAt,
        content: [`Container ${info.id} successfully created with ${offers}.`],
      },
    ],
    commands: info.commands,
  };
}

export async function containerRoutes(app: FastifyInstance, { kjobs, jsonDates }: ContainerRoutesOptions) {
  const codecOf = (request: FastifyRequest) =>
    codecFor(negotiationOf(request), jsonDatesFor(jsonDates, request.headers['user-agent']));

  app.get('/containers', { schema: ROUTE_SCHEMAS.listContainers }, async (request, reply) => {
    const codec = codecOf(request);
    const containers = kjobs.registry
      .allContainerIds()
      .map((id) => kjobs.registry.container(id))
      .filter((info): info is ContainerInfo => info !== undefined)
      .map(toContainerResource);
    return reply.code(200).header('content-type', codec.mediaType).send(codec.containerList(containers));
  });

  app.get(
    '/containers/:containerId',
    { schema: ROUTE_SCHEMAS.getContainer },
    async (request: FastifyRequest<{ Params: { containerId: string } }>, reply) => {
      const codec = codecOf(request);
      const id = request.params.containerId;
      const info = kjobs.registry.container(id);
      // KIE answers 200 with a FAILURE ServiceResponse; kjobs says 404, with KIE's words.
      if (!info) throw new HttpError(404, `Container ${id} is not instantiated.`);
      return reply
        .code(200)
        .header('content-type', codec.mediaType)
        .send(codec.container(toContainerResource(info)));
    },
  );
}
