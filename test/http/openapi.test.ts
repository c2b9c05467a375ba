// The OpenAPI 3.1 document: built from the route schemas, listing every route, and true to real answers (each JSON
// answer of every operation is validated against the document's schema for its route and status).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { tempFolder } from '../helpers.js';
import { API, FAILING, FAR_FUTURE, jobJson, JSON_HEADERS, PRINT_OUT, XML_HEADERS } from './helpers.js';

// ajv-formats is CommonJS: its default export arrives as the module object under ESM interop.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

const DOC_PATH = '/kie-server/services/rest/openapi.json';
const KIE_OPERATIONS = [
  'scheduleRequest',
  'getRequestById',
  'getRequestsByStatus',
  'getRequestsByBusinessKey',
  'getRequestsByCommand',
  'getRequestsByContainer',
  'getRequestsByProcessInstance',
  'cancelRequest',
  'requeueRequest',
  'updateRequestData',
];

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
type Operation = {
  operationId?: string;
  summary?: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

interface Answer {
  status: number;
  type: string | null;
  text: string;
}

/** Routes as Fastify prints its router tree: `[method, path]` for every method of every route. */
function routesOf(app: FastifyInstance): [string, string][] {
  const routes: [string, string][] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│├└─ ]*?)(?:[├└]── )?([^│├└─ ].*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match || !match[2]) continue;
    const depth = Math.floor(line.indexOf(match[2]) / 4);
    stack.length = depth;
    stack[depth] = match[2];
    const path = stack.join('');
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) routes.push([method, path]);
  }
  return routes;
}

describe('OpenAPI document', () => {
  let kjobs: Kjobs;
  let app: FastifyInstance;
  let origin: string;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  const checked = new Set<string>();

  before(async () => {
    kjobs = await createKjobs({
      store: join(tempFolder('kjobs-openapi-'), 'jobs.db'),
      executor: { pollIntervalMs: 50 },
      containers: { acme: { 'com.acme.Greet': () => ({ greeting: 'hi' }) } },
    });
    await kjobs.start();
    app = await createServer(kjobs, { metrics: createMetrics(kjobs) });
    origin = await app.listen({ port: 0, host: '127.0.0.1' });
    const answer = await fetch(origin + DOC_PATH);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    doc = (await answer.json()) as Doc;
  });
  after(async () => {
    await app.close();
    await kjobs.stop(100);
  });

  async function call(
    method: string,
    path: string,
    options: { accept?: string; contentType?: string; body?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.accept) headers.accept = options.accept;
    if (options.contentType) headers['content-type'] = options.contentType;
    const response = await fetch(origin + path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  /** Checks an answer against the document: its status is listed, its media type too, and JSON fits the schema. */
  function check(method: string, route: string, answer: Answer): void {
    const operation = doc.paths[route]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${route} is in the document`);
    const response = operation.responses[String(answer.status)];
    assert.ok(response, `${operation.operationId}: status ${answer.status} is documented (${answer.text})`);
    checked.add(`${operation.operationId} ${answer.status}`);
    if (answer.text === '') {
      assert.equal(
        response.content,
        undefined,
        `${operation.operationId} ${answer.status} documents no body`,
      );
      return;
    }
    const mediaType = (answer.type ?? '').split(';')[0]!.trim();
    const content = response.content?.[mediaType];
    assert.ok(content, `${operation.operationId} ${answer.status}: ${mediaType} is documented`);
    if (mediaType !== 'application/json') return;
    const key = `${route} ${method} ${answer.status}`;
    let validate = validators.get(key);
    if (!validate) {
      // The schema's references (#/components/schemas/...) resolve against the document's components.
      validate = ajv.compile({
        ...(content.schema as object),
        components: doc.components,
      });
      validators.set(key, validate);
    }
    const body: unknown = JSON.parse(answer.text);
    assert.ok(
      validate(body),
      `${operation.operationId} ${answer.status} does not fit the document: ${ajv.errorsText(validate.errors)}\n${answer.text}`,
    );
  }

  const JOBS = `${API}/jobs`;
  const P = (path: string) => `${API}${path}`;

  it('is OpenAPI 3.1 with the ten KIE operations and the extensions, each operation named once', () => {
    assert.equal(doc.openapi, '3.1.0');
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    const ids = operations.map((operation) => operation.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const id of [
      ...KIE_OPERATIONS,
      'getServerInfo',
      'scheduleRequests',
      'health',
      'ready',
      'metrics',
      'kieMetrics',
      'readycheck',
      'healthcheck',
      'listContainers',
      'getContainer',
      'openapi',
    ]) {
      assert.ok(ids.includes(id), `${id} is documented`);
    }
    for (const operation of operations) {
      assert.ok(operation.operationId, `every operation is documented (${operation.summary})`);
      assert.ok(Object.keys(operation.responses).some((status) => status.startsWith('2')));
    }
    // Every reference resolves.
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const name = ref.slice(ref.lastIndexOf('/') + 1, -1);
      assert.ok(doc.components.schemas[name], `${name} is defined`);
    }
    // Path parameters are listed for every {name} of a path.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
        for (const operation of Object.values(item)) {
          assert.ok(
            operation.parameters?.some(
              (parameter) => parameter.in === 'path' && `{${parameter.name}}` === name,
            ),
            `${operation.operationId}: path parameter ${name}`,
          );
        }
      }
    }
  });

  it('lists every registered route (the console, hidden on purpose, aside)', () => {
    const routes = routesOf(app);
    assert.ok(routes.length >= 15, JSON.stringify(routes));
    for (const [method, path] of routes) {
      if (method === 'HEAD') continue;
      if (path === '/' || path.startsWith('/console')) continue;
      const documented = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/(.)\/$/, '$1');
      assert.ok(doc.paths[documented]?.[method.toLowerCase()], `${method} ${path} is in the document`);
    }
  });

  it('matches the real answers of every operation, in JSON and XML', async () => {
    check('get', DOC_PATH, await call('GET', DOC_PATH));
    check('get', '/healthz', await call('GET', '/healthz'));
    check('get', '/readyz', await call('GET', '/readyz'));
    check('get', '/metrics', await call('GET', '/metrics'));
    check('get', '/kie-server/services/rest/metrics', await call('GET', '/kie-server/services/rest/metrics'));
    check('get', P('/readycheck'), await call('GET', P('/readycheck')));
    for (const accept of ['application/json', 'application/xml'])
      check('get', P('/healthcheck'), await call('GET', P('/healthcheck?report=true'), { accept }));
    for (const accept of ['application/json', 'application/xml']) {
      check('get', P('/containers'), await call('GET', P('/containers'), { accept }));
      check('get', P('/containers/{containerId}'), await call('GET', P('/containers/acme'), { accept }));
    }
    check(
      'get',
      P('/containers/{containerId}'),
      await call('GET', P('/containers/nope'), { accept: 'application/json' }),
    );
    check('get', API, await call('GET', API, { accept: 'application/json' }));
    check('get', API, await call('GET', API, { accept: 'application/xml' }));

    // Schedule: plain, strict, XML, and the errors.
    const scheduled = await call('POST', JOBS, {
      ...JSON_HEADERS,
      body: jobJson(PRINT_OUT, { businessKey: 'doc-1', processInstanceId: 7 }),
    });
    check('post', JOBS, scheduled);
    const id = Number(scheduled.text);
    check(
      'post',
      JOBS,
      await call('POST', JOBS, {
        accept: 'application/json;strict=true',
        contentType: 'application/json',
        body: jobJson(PRINT_OUT, { businessKey: 'doc-1' }),
      }),
    );
    check(
      'post',
      JOBS,
      await call('POST', JOBS, {
        ...XML_HEADERS,
        body: `<job-request-instance><job-command>${PRINT_OUT}</job-command></job-request-instance>`,
      }),
    );
    check('post', JOBS, await call('POST', JOBS, { ...JSON_HEADERS, body: '{}' }));
    check(
      'post',
      JOBS,
      await call('POST', JOBS, {
        ...JSON_HEADERS,
        body: jobJson(PRINT_OUT, { businessKey: 'doc-u', unique: true }),
      }),
    );
    check(
      'post',
      JOBS,
      await call('POST', JOBS, {
        ...JSON_HEADERS,
        body: jobJson(PRINT_OUT, { businessKey: 'doc-u', unique: true }),
      }),
    );
    check(
      'post',
      JOBS,
      await call('POST', JOBS, { accept: 'text/html', contentType: 'application/json', body: '{}' }),
    );
    check('post', JOBS, await call('POST', JOBS, { contentType: 'text/csv', body: 'a,b' }));

    // Batch.
    const batch = P('/jobs/batch');
    check(
      'post',
      batch,
      await call('POST', batch, {
        ...JSON_HEADERS,
        body: JSON.stringify([JSON.parse(jobJson(PRINT_OUT)), JSON.parse(jobJson(PRINT_OUT))]),
      }),
    );
    check(
      'post',
      batch,
      await call('POST', batch, {
        ...XML_HEADERS,
        body: `<job-request-instance-list><job-request-instance><job-command>${PRINT_OUT}</job-command></job-request-instance></job-request-instance-list>`,
      }),
    );
    check('post', batch, await call('POST', batch, { ...JSON_HEADERS, body: '[{}]' }));

    // A job that ran and failed (errors and data), one that ran well, each with and without errors and data.
    const failed = Number(
      (
        await call('POST', JOBS, {
          ...JSON_HEADERS,
          body: jobJson(FAILING, { retries: 1, businessKey: 'doc-f' }, null),
        })
      ).text,
    );
    const done = Number(
      (
        await call('POST', `${JOBS}?containerId=acme`, {
          ...JSON_HEADERS,
          body: jobJson('com.acme.Greet', { businessKey: 'doc-d' }, null),
        })
      ).text,
    );
    for (const job of [failed, done]) {
      const status = job === failed ? 'ERROR' : 'DONE';
      await kjobs.waitFor(job);
      assert.equal((await kjobs.get(job)).status, status);
    }
    const byId = `${JOBS}/{jobId}`;
    for (const job of [id, failed, done]) {
      for (const query of ['', '?withErrors=true&withData=true', '?withData=true', '?withErrors=true']) {
        check('get', byId, await call('GET', `${JOBS}/${job}${query}`, { accept: 'application/json' }));
        check(
          'get',
          byId,
          await call('GET', `${JOBS}/${job}${query}`, { accept: 'application/json;fields=not_null' }),
        );
      }
    }
    check('get', byId, await call('GET', `${JOBS}/${failed}?withErrors=true`, { accept: 'application/xml' }));
    check('get', byId, await call('GET', `${JOBS}/999999`, { accept: 'application/json' }));
    check('get', byId, await call('GET', `${JOBS}/abc`, { accept: 'application/json' }));

    // The five lists.
    const lists: [string, string][] = [
      [JOBS, `${JOBS}?status=QUEUED&status=ERROR&status=DONE`],
      [`${JOBS}/keys/{key}`, `${JOBS}/keys/doc-f`],
      [`${JOBS}/commands/{cmd}`, `${JOBS}/commands/${PRINT_OUT}`],
      [`${JOBS}/containers/{containerId}`, `${JOBS}/containers/acme?status=DONE`],
      [`${JOBS}/processes/instances/{processInstanceId}`, `${JOBS}/processes/instances/7`],
    ];
    for (const [route, url] of lists) {
      check('get', route, await call('GET', url, { accept: 'application/json' }));
      check('get', route, await call('GET', url, { accept: 'application/xml' }));
      check(
        'get',
        route,
        await call('GET', `${url}${url.includes('?') ? '&' : '?'}page=-1`, { accept: 'application/json' }),
      );
    }

    // Update data, requeue, cancel: empty bodies, and their refusals.
    const data = `${JOBS}/{jobId}/data`;
    check('post', data, await call('POST', `${JOBS}/${id}/data`, { ...JSON_HEADERS, body: '{"a": 1}' }));
    check('post', data, await call('POST', `${JOBS}/${done}/data`, { ...JSON_HEADERS, body: '{"a": 1}' }));
    check('post', data, await call('POST', `${JOBS}/999999/data`, { ...JSON_HEADERS, body: '{"a": 1}' }));
    check('put', byId, await call('PUT', `${JOBS}/${failed}`, { accept: 'application/json' }));
    check('put', byId, await call('PUT', `${JOBS}/${done}`, { accept: 'application/json' }));
    check('delete', byId, await call('DELETE', `${JOBS}/${id}`, { accept: 'application/json' }));
    check('delete', byId, await call('DELETE', `${JOBS}/${id}`, { accept: 'application/json' }));
    check('delete', byId, await call('DELETE', `${JOBS}/999999`, { accept: 'application/json' }));

    // The console's extensions (JSON only), and their refusals.
    const json = { accept: 'application/json' };
    for (const range of ['hour', 'day', 'week'])
      check('get', P('/kjobs/stats'), await call('GET', P(`/kjobs/stats?range=${range}`), json));
    for (const by of ['command', 'container', 'nope'])
      check(
        'get',
        P('/kjobs/stats/breakdown'),
        await call('GET', P(`/kjobs/stats/breakdown?by=${by}`), json),
      );
    const timeline = P('/kjobs/jobs/{jobId}/timeline');
    for (const job of [failed, done, 999999])
      check('get', timeline, await call('GET', P(`/kjobs/jobs/${job}/timeline`), json));
    check(
      'get',
      timeline,
      await call('GET', P(`/kjobs/jobs/${done}/timeline`), { accept: 'application/xml' }),
    );
    for (const action of ['requeue', 'cancel']) {
      const path = P(`/kjobs/jobs/${action}`);
      check(
        'post',
        path,
        await call('POST', path, { ...JSON_HEADERS, body: `{"ids": [${failed}, ${done}, 999999]}` }),
      );
      check('post', path, await call('POST', path, { ...JSON_HEADERS, body: '{"command": "x"}' }));
      check('post', path, await call('POST', path, { ...JSON_HEADERS, body: '{"ids": "all"}' }));
      check('post', path, await call('POST', path, { ...XML_HEADERS, body: '<ids/>' }));
    }

    for (const operation of [
      ...KIE_OPERATIONS,
      'jobStats',
      'jobBreakdown',
      'jobTimeline',
      'bulkRequeue',
      'bulkCancel',
      'getServerInfo',
      'scheduleRequests',
      'health',
      'ready',
      'metrics',
      'kieMetrics',
      'readycheck',
      'healthcheck',
      'listContainers',
      'getContainer',
      'openapi',
    ]) {
      assert.ok(
        [...checked].some((entry) => entry.startsWith(`${operation} 2`)),
        `a successful answer of ${operation} was checked`,
      );
    }
  });

  it('keeps dates as documented with --json-dates iso, and requires no credentials while the API does', async () => {
    const isoKjobs = await createKjobs({
      store: join(tempFolder('kjobs-openapi-iso-'), 'jobs.db'),
      executor: false,
    });
    const isoApp = await createServer(isoKjobs, {
      jsonDates: 'iso',
      users: [{ name: 'ops', password: 'pw', roles: ['kie-server'] }],
    });
    try {
      const auth = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
      const scheduled = await isoApp.inject({
        method: 'POST',
        url: JOBS,
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
        payload: jobJson(PRINT_OUT, { at: { 'java.util.Date': FAR_FUTURE } }),
      });
      const answer = await isoApp.inject({
        method: 'GET',
        url: `${JOBS}/${scheduled.body}?withData=true`,
        headers: { ...auth, accept: 'application/json' },
      });
      check('get', `${JOBS}/{jobId}`, {
        status: answer.statusCode,
        type: answer.headers['content-type'] as string,
        text: answer.body,
      });
      assert.match(answer.body, /"request-scheduled-date" : "2100-01-01T/);
      const unauthenticated = await isoApp.inject({
        method: 'GET',
        url: `${JOBS}/1`,
        headers: { accept: 'application/json' },
      });
      check('get', `${JOBS}/{jobId}`, {
        status: unauthenticated.statusCode,
        type: unauthenticated.headers['content-type'] as string,
        text: unauthenticated.body,
      });
      assert.equal((await isoApp.inject({ method: 'GET', url: DOC_PATH })).statusCode, 200);
    } finally {
      await isoApp.close();
      await isoKjobs.stop(100);
    }
  });
});
