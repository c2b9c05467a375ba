/** `GET .../server`: KieServerInfo in a ServiceResponse. KIE's Java client reads it on connect and needs `BPM`. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { codecFor } from '../formats/codec.js';
import type { KieServerInfo } from '../formats/model.js';
import { formatIsoDate, jsonDatesFor, type JsonDatesSetting } from '../formats/dates.js';
import { negotiationOf } from '../hooks.js';
import { ROUTE_SCHEMAS } from '../openapi/schemas.js';

export interface ServerInfoOptions {
  id: string;
  name: string;
  version: string;
  /** This server's public base URL (`.../kie-server/services/rest/server`); default: derived from the request. */
  location?: string | undefined;
  /** When the server started, epoch milliseconds. */
  startedAt: number;
  jsonDates: JsonDatesSetting;
}

/** Capabilities kjobs offers: the server itself, and the jBPM jobs API (KIE's `BPM` capability). */
export const CAPABILITIES = ['KieServer', 'BPM'];

export function serverInfo(options: ServerInfoOptions, location: string): KieServerInfo {
  return {
    id: options.id,
    version: options.version,
    name: options.name,
    location,
    capabilities: [...CAPABILITIES],
    messages: [
      {
        severity: 'INFO',
        timestamp: options.startedAt,
        content: [
          `Server KieServerInfo{serverId='${options.id}', version='${options.version}', name='${options.name}', ` +
            `location='${location}', capabilities=[${CAPABILITIES.join(', ')}]}started successfully at ` +
            formatIsoDate(options.startedAt),
        ],
      },
    ],
    mode: 'PRODUCTION',
  };
}

function locationOf(request: FastifyRequest, basePath: string): string {
  return `${request.protocol}://${request.host}${basePath}`;
}

export async function serverInfoRoutes(
  app: FastifyInstance,
  options: ServerInfoOptions & { basePath: string },
) {
  app.get('/', { schema: ROUTE_SCHEMAS.getServerInfo }, async (request, reply) => {
    const codec = codecFor(
      negotiationOf(request),
      jsonDatesFor(options.jsonDates, request.headers['user-agent']),
    );
    const info = serverInfo(options, options.location ?? locationOf(request, options.basePath));
    return reply.code(200).header('content-type', codec.mediaType).send(codec.serverInfo(info));
  });
}
