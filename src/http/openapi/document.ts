/**
 * The OpenAPI 3.1 document of the whole API, built from the schemas of the routes as Fastify registers them (an
 * onRoute hook), so that it cannot drift from the routes: a route without a schema still appears, marked
 * undocumented, and a test requires every route to carry one.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { KJOBS_VERSION } from '../../version.js';
import { COMPONENT_SCHEMAS, ROUTE_SCHEMAS, type JsonSchema } from './schemas.js';

/** Where the document is served. */
const OPENAPI_PATH = '/kie-server/services/rest/openapi.json';

/** Route-schema keys that are not JSON Schemas but OpenAPI operation fields. */
const OPERATION_FIELDS = ['operationId', 'summary', 'description', 'tags', 'security', 'deprecated'] as const;

interface CollectedRoute {
  method: string;
  url: string;
  schema: JsonSchema | undefined;
}

/** `/jobs/:jobId` as OpenAPI writes it, `/jobs/{jobId}`; no trailing slash (the router ignores it). */
export function openApiPath(url: string): string {
  const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function parameters(where: 'path' | 'query', schema: unknown): JsonSchema[] {
  const object = schema as { properties?: Record<string, JsonSchema>; required?: string[] } | undefined;
  return Object.entries(object?.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string };
    return {
      name,
      in: where,
      required: where === 'path' || (object?.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(where === 'query' && (property as { type?: string }).type === 'array'
        ? { style: 'form', explode: true }
        : {}),
    };
  });
}

function responses(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const answers = schema as Record<string, Record<string, unknown>> | undefined;
  if (!answers) return { default: { description: 'Not documented' } };
  return Object.fromEntries(
    Object.entries(answers).map(([status, answer]) => {
      if ('content' in answer || !('type' in answer || '$ref' in answer || 'anyOf' in answer))
        return [status, { description: 'Answer', ...answer }];
      // A bare schema: JSON.
      return [status, { description: 'Answer', content: { 'application/json': { schema: answer } } }];
    }),
  );
}

function operation(route: CollectedRoute): Record<string, unknown> {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema)
    return { summary: 'Not documented', responses: { default: { description: 'Not documented' } } };
  const op: Record<string, unknown> = {};
  for (const field of OPERATION_FIELDS) if (schema[field] !== undefined) op[field] = schema[field];
  const params = [...parameters('path', schema.params), ...parameters('query', schema.querystring)];
  if (params.length > 0) op.parameters = params;
  const body = schema.body as Record<string, unknown> | undefined;
  if (body) {
    op.requestBody = {
      required: true,
      content: 'content' in body ? body.content : { 'application/json': { schema: body } },
    };
  }
  op.responses = responses(schema.response as Record<string, unknown> | undefined);
  return op;
}

/** Collects routes as they are registered and builds the document from them. */
export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];
  private document: Record<string, unknown> | undefined;

  /** An onRoute hook: add it before the routes are registered. */
  readonly onRoute = (route: RouteOptions): void => {
    const schema = route.schema as JsonSchema | undefined;
    if (schema?.hide === true) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // HEAD answers exist for every GET; OpenAPI lists the GET.
      if (method === 'HEAD') continue;
      this.routes.push({ method: method.toLowerCase(), url: route.url, schema });
    }
    this.document = undefined;
  };

  /** The registered routes (method and OpenAPI path), for tests. */
  get registered(): { method: string; path: string }[] {
    return this.routes.map((route) => ({ method: route.method, path: openApiPath(route.url) }));
  }

  /** The document (built once, after the routes are registered). */
  build(): Record<string, unknown> {
    if (this.document) return this.document;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.routes) {
      const path = openApiPath(route.url);
      const item = (paths[path] ??= {});
      if (!item[route.method]) item[route.method] = operation(route);
    }
    this.document = {
      openapi: '3.1.0',
      info: {
        title: 'kjobs',
        version: KJOBS_VERSION,
        description:
          "KIE Server's (jBPM) Asynchronous jobs REST API, and kjobs' extensions. Every KIE operation answers " +
          'JSON or JAXB XML: chosen by Accept, then Content-Type, then X-KIE-ContentType (JSON or JAXB); XML ' +
          'when nothing is said. Errors are text/plain, the message in double quotes.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
      paths,
      components: {
        schemas: COMPONENT_SCHEMAS,
        securitySchemes: {
          basicAuth: {
            type: 'http',
            scheme: 'basic',
            description: 'Needed when users are configured (--user); role kie-server or user',
          },
        },
      },
    };
    return this.document;
  }
}

/** `GET /kie-server/services/rest/openapi.json`: the document, without authentication. */
export function openApiRoute(app: FastifyInstance, collector: OpenApiCollector): void {
  app.get(OPENAPI_PATH, { schema: ROUTE_SCHEMAS.openapi }, async (_request, reply) =>
    reply
      .code(200)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(collector.build())),
  );
}
