// Errors: KIE's quoted text/plain bodies, and kjobs' precise status codes where KIE answers 500 or nothing.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  FAR_FUTURE,
  JSON_HEADERS,
  jobJson,
  NS,
  PRINT_OUT,
  startServer,
  XML_HEADERS,
  type TestServer,
} from './helpers.js';

describe('errors', () => {
  let server: TestServer;
  let queued: number;
  let cancelled: number;
  before(async () => {
    server = await startServer({ server: { bodyLimit: 4096 } });
    queued = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    cancelled = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    await server.kjobs.cancel(cancelled);
  });

  /** Asserts a KIE error answer: status, text/plain, the message in double quotes. */
  async function expectError(
    answer: Promise<{ status: number; type: string | null; text: string }>,
    status: number,
    message: string | RegExp,
  ) {
    const { status: actual, type, text } = await answer;
    assert.equal(actual, status, text);
    assert.equal(type?.split(';')[0], 'text/plain');
    assert.ok(text.startsWith('"') && text.endsWith('"'), `not quoted: ${text}`);
    const inner = text.slice(1, -1);
    if (typeof message === 'string') assert.equal(inner, message);
    else assert.match(inner, message);
    assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
  }

  it('404 for an unknown job on every operation, in KIE words', async () => {
    const message = "Request with id: 999 doesn't exist";
    await expectError(server.call('GET', '/jobs/999'), 404, message);
    await expectError(
      server.call('GET', '/jobs/-1', { accept: 'application/json' }),
      404,
      "Request with id: -1 doesn't exist",
    );
    await expectError(server.call('DELETE', '/jobs/999'), 404, message);
    await expectError(server.call('PUT', '/jobs/999'), 404, message);
    await expectError(
      server.call('POST', '/jobs/999/data', { ...JSON_HEADERS, body: '{"a":1}' }),
      404,
      message,
    );
  });

  it('409 for cancel and requeue in the wrong state; update data keeps KIE 400', async () => {
    await expectError(
      server.call('DELETE', `/jobs/${cancelled}`),
      409,
      /cannot be cancelled: it is CANCELLED/,
    );
    await expectError(server.call('PUT', `/jobs/${cancelled}`), 409, /cannot be requeued: it is CANCELLED/);
    await expectError(
      server.call('POST', `/jobs/${cancelled}/data`, { ...JSON_HEADERS, body: '{"a":1}' }),
      400,
      "Request data can't be updated when request is in status CANCELLED",
    );
  });

  it("KIE's DELETE of a RUNNING job answers 409 and leaves it RUNNING", async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT });
    const [running] = await server.kjobs.store.claim({
      workerId: 'test-worker',
      limit: 1,
      now: Date.now(),
      leaseMs: 60_000,
    });
    assert.equal(running?.id, id);
    await expectError(server.call('DELETE', `/jobs/${id}`), 409, /cannot be cancelled: it is RUNNING/);
    const job = await server.kjobs.get(id);
    assert.equal(job.status, 'RUNNING');
    assert.equal(job.workerId, 'test-worker');
  });

  it('400 for non-numeric ids and process instance ids', async () => {
    await expectError(server.call('GET', '/jobs/abc'), 400, /Job id must be a whole number/);
    await expectError(server.call('DELETE', '/jobs/1.5'), 400, /Job id must be a whole number/);
    await expectError(server.call('PUT', '/jobs/99999999999999999999'), 400, /Job id must be a whole number/);
    await expectError(
      server.call('GET', '/jobs/processes/instances/x'),
      400,
      /Process instance id must be a whole number/,
    );
    await expectError(
      server.call('GET', '/jobs/keys/'),
      400,
      'The business key is missing: use /jobs/keys/{key}',
    );
    await expectError(server.call('GET', '/jobs/constructor'), 400, /Job id must be a whole number/);
  });

  it('400 for unknown statuses and bad paging', async () => {
    await expectError(server.call('GET', '/jobs?status=queued'), 400, /Unknown status "queued"/);
    await expectError(server.call('GET', '/jobs/keys/k?status=QUEUED,ERROR'), 400, /repeat the parameter/);
    await expectError(server.call('GET', '/jobs?status='), 400, /Unknown status ""/);
    await expectError(server.call('GET', '/jobs?page=-1'), 400, /page must be a whole number >= 0/);
    await expectError(
      server.call('GET', '/jobs/commands/c?pageSize=ten'),
      400,
      /pageSize must be a whole number >= 0/,
    );
    await expectError(server.call('GET', '/jobs?page=1&page=2'), 400, /page was given 2 times/);
  });

  it('400 for malformed or incomplete bodies, in both formats', async () => {
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: '{"job-command":' }),
      400,
      /Malformed JSON body/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: '[1]' }),
      400,
      /must be a JSON object/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: '{}' }),
      400,
      /job-command is required/,
    );
    await expectError(server.call('POST', '/jobs', JSON_HEADERS), 400, /no body/);
    await expectError(
      server.call('POST', '/jobs', {
        ...JSON_HEADERS,
        body: JSON.stringify({ 'job-command': PRINT_OUT, 'scheduled-date': 'tomorrow' }),
      }),
      400,
      /scheduled-date is not a valid date/,
    );
    await expectError(
      server.call('POST', '/jobs', {
        ...JSON_HEADERS,
        body: JSON.stringify({ 'job-command': PRINT_OUT, 'request-data': [1] }),
      }),
      400,
      /request-data must be a JSON object/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...XML_HEADERS, body: '<job-request-instance><job-command>x' }),
      400,
      /Malformed XML/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...XML_HEADERS, body: '<map-type/>' }),
      400,
      /Expected a <job-request-instance>/,
    );
    await expectError(
      server.call('POST', '/jobs', {
        ...XML_HEADERS,
        body: `<job-request-instance><job-command>${PRINT_OUT}</job-command><request-data><entry><key>n</key><value xsi:type="xs:int" ${NS}>x</value></entry></request-data></job-request-instance>`,
      }),
      400,
      /request-data.n: "x" is not a whole number/,
    );
    await expectError(
      server.call('POST', `/jobs/${queued}/data`, { ...XML_HEADERS, body: '<job-request-instance/>' }),
      400,
      /Expected a <map-type>/,
    );
    await expectError(
      server.call('POST', `/jobs/${queued}/data`, { ...JSON_HEADERS, body: '"text"' }),
      400,
      /must be a JSON object/,
    );
  });

  it('400 for XML with a DOCTYPE (no entity is ever resolved), and for undefined entities', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><job-request-instance><job-command>&x;</job-command></job-request-instance>`;
    await expectError(server.call('POST', '/jobs', { ...XML_HEADERS, body: xxe }), 400, /DOCTYPE is refused/);
    const bomb = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><map-type>&lol2;</map-type>`;
    await expectError(
      server.call('POST', `/jobs/${queued}/data`, { ...XML_HEADERS, body: bomb }),
      400,
      /DOCTYPE is refused/,
    );
    const undefinedEntity = `<job-request-instance><job-command>&nope;</job-command></job-request-instance>`;
    await expectError(
      server.call('POST', '/jobs', { ...XML_HEADERS, body: undefinedEntity }),
      400,
      /undefined entity/,
    );
  });

  it('400 for unknown commands, containers and callbacks, and bad special keys', async () => {
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: jobJson('com.acme.Nope') }),
      400,
      'Invalid command type com.acme.Nope',
    );
    await expectError(
      server.call('POST', '/jobs?containerId=nope', { ...JSON_HEADERS, body: jobJson(PRINT_OUT) }),
      400,
      'No container found for id nope',
    );
    await expectError(
      server.call('POST', '/jobs', {
        ...JSON_HEADERS,
        body: jobJson(PRINT_OUT, { callbacks: 'noSuchCallback' }),
      }),
      400,
      /Unknown callback noSuchCallback/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: jobJson(PRINT_OUT, { retryDelay: 'soon' }) }),
      400,
      /Error parsing time string/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: jobJson(PRINT_OUT, { retries: 'abc' }) }),
      400,
      /retries must be a whole number/,
    );
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body: jobJson(PRINT_OUT, { businessKey: 7 }) }),
      400,
      /businessKey must be a string/,
    );
    await expectError(
      server.call('POST', `/jobs/${queued}/data?containerId=nope`, { ...JSON_HEADERS, body: '{}' }),
      400,
      'No container found for id nope',
    );
  });

  it('413 for a body over the limit', async () => {
    const body = jobJson(PRINT_OUT, { padding: 'x'.repeat(5000) });
    await expectError(
      server.call('POST', '/jobs', { ...JSON_HEADERS, body }),
      413,
      /larger than the limit of 4096 bytes/,
    );
  });

  it('415 for other content types and for XSTREAM; 406 for an Accept kjobs cannot answer', async () => {
    await expectError(
      server.call('POST', '/jobs', { contentType: 'application/x-www-form-urlencoded', body: 'a=b' }),
      415,
      /Unsupported Content-Type application\/x-www-form-urlencoded/,
    );
    await expectError(
      server.call('POST', '/jobs', { contentType: 'text/plain', body: 'x' }),
      415,
      /Unsupported Content-Type/,
    );
    await expectError(
      server.call('POST', '/jobs', {
        ...XML_HEADERS,
        headers: { 'X-KIE-ContentType': 'XSTREAM' },
        body: '<x/>',
      }),
      415,
      /XSTREAM marshalling is not supported/,
    );
    await expectError(server.call('GET', '/jobs', { contentType: 'application/xstream' }), 415, /XSTREAM/);
    await expectError(
      server.call('GET', '/jobs', { headers: { 'X-KIE-ContentType': 'YAML' } }),
      415,
      /Invalid marshalling format \[YAML\]/,
    );
    await expectError(server.call('GET', '/jobs', { accept: 'text/html' }), 406, /Not acceptable/);
  });

  it('404 in KIE format for unknown paths', async () => {
    await expectError(server.call('GET', '/kie-server/services/rest/server/nothing'), 404, /Not found: GET/);
  });
});
