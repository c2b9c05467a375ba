// Bad input never gets a 500: random bodies, ids, query strings and headers.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FAR_FUTURE, NS, PRINT_OUT, startServer, type TestServer } from './helpers.js';

describe('robustness', () => {
  let server: TestServer;
  let id: number;
  before(async () => {
    server = await startServer();
    id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
  });

  const notServerError = (answer: { status: number; text: string }, what: string) =>
    assert.ok(answer.status < 500, `${what} -> ${answer.status} ${answer.text}`);

  // JSON-ish values, including the special keys with values of every type.
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  );
  const data = fc.dictionary(
    fc.oneof(
      fc.constantFrom('businessKey', 'retries', 'retryDelay', 'priority', 'processInstanceId', 'owner'),
      fc.constantFrom('deploymentId', 'callbacks', 'timeout', 'cron', 'unique', 'java.util.Date'),
      fc.string(),
    ),
    value,
    { maxKeys: 4 },
  );

  it('JSON schedule and update bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            'job-command': fc.oneof(fc.constant(PRINT_OUT), value),
            'scheduled-date': value,
            'request-data': data,
          }),
          value,
        ),
        async (body) => {
          const text = JSON.stringify(body);
          notServerError(
            await server.call('POST', '/jobs', { contentType: 'application/json', body: text }),
            text,
          );
          const update = await server.call('POST', `/jobs/${id}/data`, {
            contentType: 'application/json',
            body: text,
          });
          notServerError(update, text);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('arbitrary text as JSON or XML', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('application/json', 'application/xml'),
        async (body, type) => {
          notServerError(await server.call('POST', '/jobs', { contentType: type, body }), body);
          notServerError(await server.call('POST', `/jobs/${id}/data`, { contentType: type, body }), body);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('XML values of every type with arbitrary content', async () => {
    const types = fc.constantFrom(
      'xs:string',
      'xs:int',
      'xs:long',
      'xs:boolean',
      'xs:double',
      'xs:dateTime',
      'jaxbMap',
      'jaxbList',
      'x:y',
      '',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('businessKey', 'retries', 'priority', 'retryDelay', 'k'),
        types,
        fc.string({ maxLength: 30 }),
        async (key, type, content) => {
          const escaped = content.replace(/&/g, '&amp;').replace(/</g, '&lt;');
          const attribute = type ? ` xsi:type="${type}" ${NS}` : '';
          const body = `<job-request-instance><job-command>${PRINT_OUT}</job-command><scheduled-date>${escaped}</scheduled-date><request-data><entry><key>${key}</key><value${attribute}>${escaped}</value></entry></request-data></job-request-instance>`;
          notServerError(await server.call('POST', '/jobs', { contentType: 'application/xml', body }), body);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('paths, query strings and headers', async () => {
    const segment = fc.string({ maxLength: 12 }).map(encodeURIComponent);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/jobs/',
          '/jobs/keys/',
          '/jobs/commands/',
          '/jobs/containers/',
          '/jobs/processes/instances/',
        ),
        segment,
        fc.constantFrom('status', 'page', 'pageSize', 'withData', 'withErrors', 'containerId'),
        segment,
        fc.constantFrom('GET', 'DELETE', 'PUT'),
        fc.string({ maxLength: 40 }).filter((text) => /^[\x20-\x7e]*$/.test(text)),
        async (base, part, name, param, method, header) => {
          const path = `${base}${part}?${name}=${param}`;
          notServerError(
            await server.call(method, path, { accept: header || undefined }),
            `${method} ${path} ${header}`,
          );
          notServerError(
            await server.call('GET', path, {
              headers: { 'X-KIE-ContentType': header, 'Content-Type': header || 'x/y' },
            }),
            `${path} content type ${header}`,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
