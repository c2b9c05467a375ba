// The flow of the issue: a job scheduled over HTTP with a failing command shows its retries, its error records and
// its final ERROR, then is requeued and runs again. Also a successful job with response data.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assertGolden, FAILING, JSON_HEADERS, pollJob, startServer, type TestServer } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a failing job over HTTP', () => {
  let server: TestServer;
  let id: number;
  before(async () => {
    server = await startServer({ kjobs: { executor: { pollIntervalMs: 50 } } });
  });

  it('is scheduled with retries 2 and a retry delay', async () => {
    const body = JSON.stringify({
      'job-command': FAILING,
      'scheduled-date': null,
      'request-data': { businessKey: 'flaky', retries: 2, retryDelay: '400ms' },
    });
    const answer = await server.call('POST', '/jobs', { ...JSON_HEADERS, body });
    assert.equal(answer.status, 201, answer.text);
    id = Number(answer.text);
  });

  it('shows RETRYING with one retry used and one error record', async () => {
    const job = await pollJob(server, id, (j) => j['request-status'] === 'RETRYING');
    assert.equal(job['request-retries'], 1);
    assert.equal(job['request-executions'], 1);
    const errors = (job['request-errors'] as Json)['error-info-instance'];
    assert.equal(errors.length, 1);
    assert.equal(errors[0]['error-message'], 'Throwing error for testing purpose');
    // retryDelay is stored back as milliseconds, as KIE does.
    assert.deepEqual((job['request-data'] as Json).retryDelay, [400]);
  });

  it('ends ERROR after 3 runs, with 3 error records', async () => {
    const job = (await pollJob(server, id, (j) => j['request-status'] === 'ERROR')) as Json;
    assert.equal(job['request-retries'], 0);
    assert.equal(job['request-executions'], 3);
    const errors = job['request-errors']['error-info-instance'] as Json[];
    assert.equal(errors.length, 3);
    for (const error of errors) {
      assert.equal(error['request-instance-id'], id);
      assert.equal(error['error-message'], 'Throwing error for testing purpose');
      assert.match(error['error-stacktrace'], /Throwing error for testing purpose/);
      // Frames name files relative to the server's folder, never where it is installed.
      assert.match(error['error-stacktrace'], /\(src\/commands\/builtins\.ts:\d+:\d+\)/);
      assert.ok(!error['error-stacktrace'].includes(process.cwd()), error['error-stacktrace']);
      assert.equal(typeof error['error-date']['java.util.Date'], 'number');
    }
    const errorIds = errors.map((error) => error['error-instance-id']);
    assert.deepEqual(
      errorIds,
      [...errorIds].sort((a, b) => a - b),
    );
    assert.deepEqual(Object.keys(errors[0]!), [
      'error-instance-id',
      'request-instance-id',
      'error-message',
      'error-stacktrace',
      'error-date',
    ]);
    const json = await server.call('GET', `/jobs/${id}?withErrors=true&withData=true`, {
      accept: 'application/json',
    });
    assertGolden('job-error.json', json.text);
    const xml = await server.call('GET', `/jobs/${id}?withErrors=true&withData=true`, {
      accept: 'application/xml',
    });
    assertGolden('job-error.xml', xml.text);
    const listed = await server.call('GET', '/jobs?status=ERROR', { accept: 'application/json' });
    assert.deepEqual(
      JSON.parse(listed.text)['request-info-instance'].map((j: Json) => j['request-instance-id']),
      [id],
    );
  });

  it('is requeued (201) and runs again: no retries left, so straight back to ERROR with a 4th error', async () => {
    const answer = await server.call('PUT', `/jobs/${id}`, { ...JSON_HEADERS, body: '' });
    assert.equal(answer.status, 201, answer.text);
    const job = (await pollJob(
      server,
      id,
      (j) => j['request-executions'] === 4 && j['request-status'] === 'ERROR',
    )) as Json;
    assert.equal(job['request-retries'], 0);
    assert.equal(job['request-errors']['error-info-instance'].length, 4);
  });

  it('can then be cancelled (ERROR is cancellable), and no longer requeued (409)', async () => {
    assert.equal((await server.call('DELETE', `/jobs/${id}`)).status, 204);
    assert.equal((await server.call('PUT', `/jobs/${id}`)).status, 409);
  });
});

describe('a successful job over HTTP', () => {
  it('shows DONE with its response data', async () => {
    const server = await startServer({ kjobs: { executor: { pollIntervalMs: 50 } } });
    const body = JSON.stringify({
      'job-command': 'org.jbpm.executor.commands.LogCleanupCommand',
      'request-data': { businessKey: 'job3', retries: '5', SingleRun: 'true', OlderThanPeriod: '1d' },
    });
    const id = Number((await server.call('POST', '/jobs', { ...JSON_HEADERS, body })).text);
    const job = (await pollJob(server, id, (j) => j['request-status'] === 'DONE')) as Json;
    assert.equal(job['request-executions'], 1);
    assert.equal(job['response-data'].RequestInfoLogsRemoved, 0);
    assert.deepEqual(job['request-errors'], { 'error-info-instance': [] });
    const json = await server.call('GET', `/jobs/${id}?withErrors=true&withData=true`, {
      accept: 'application/json',
    });
    assertGolden('job-done.json', json.text);
    const xml = await server.call('GET', `/jobs/${id}?withErrors=true&withData=true`, {
      accept: 'application/xml',
    });
    assertGolden('job-done.xml', xml.text);
    const done = await server.call('GET', '/jobs?status=DONE', { accept: 'application/xml' });
    assertGolden('list-done.xml', done.text);
    // DONE jobs can be neither cancelled nor requeued, nor updated (KIE's 400).
    assert.equal((await server.call('DELETE', `/jobs/${id}`)).status, 409);
    assert.equal((await server.call('PUT', `/jobs/${id}`)).status, 409);
    assert.equal(
      (await server.call('POST', `/jobs/${id}/data`, { ...JSON_HEADERS, body: '{}' })).status,
      400,
    );
  });
});
