// Every operation of the jobs API in JSON, over real HTTP, checked against golden documents.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  assertGolden,
  FAR_FUTURE,
  JSON_HEADERS,
  jobJson,
  PRINT_OUT,
  startServer,
  type TestServer,
} from './helpers.js';

const GREET = 'com.acme.Greet';

describe('jobs API, JSON', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ kjobs: { containers: { acme: { [GREET]: () => ({}) } } } });
  });

  const get = (path: string) => server.call('GET', path, { accept: 'application/json' });
  const schedule = async (body: string, query = '') => {
    const answer = await server.call('POST', `/jobs${query}`, { ...JSON_HEADERS, body });
    assert.equal(answer.status, 201, answer.text);
    return answer;
  };

  it('scheduleRequest answers 201 with the bare id', async () => {
    const answer = await schedule(
      jobJson(PRINT_OUT, {
        businessKey: 'job-1',
        retries: '5',
        customValue: 'a',
        when: { 'java.util.Date': 1540023411655 },
      }),
    );
    assert.equal(answer.type?.split(';')[0], 'application/json');
    assert.equal(answer.text, '1');
    assertGolden('schedule.json', answer.text);
  });

  it('scheduleRequest with strict=true answers {"value": id}', async () => {
    const answer = await server.call('POST', '/jobs', {
      accept: 'application/json;strict=true',
      contentType: 'application/json;strict=true',
      body: jobJson(PRINT_OUT, { businessKey: 'job-2', processInstanceId: 42 }),
    });
    assert.equal(answer.status, 201);
    assert.deepEqual(JSON.parse(answer.text), { value: 2 });
    assertGolden('schedule-strict.json', answer.text);
  });

  it('scheduleRequest with ?containerId sets the container and deploymentId', async () => {
    const answer = await schedule(jobJson(GREET, { businessKey: 'job-1' }), '?containerId=acme');
    assert.equal(answer.text, '3');
    const job = JSON.parse((await get('/jobs/3?withData=true')).text);
    assert.equal(job['request-container-id'], 'acme');
    assert.deepEqual(job['request-data'], { businessKey: 'job-1', deploymentId: 'acme' });
  });

  it('getRequestById without errors or data: nulls written, keys in KIE order', async () => {
    const answer = await get('/jobs/1');
    assert.equal(answer.status, 200);
    const job = JSON.parse(answer.text);
    assert.deepEqual(Object.keys(job), [
      'request-instance-id',
      'request-status',
      'request-business-key',
      'request-message',
      'request-retries',
      'request-executions',
      'request-command',
      'request-scheduled-date',
      'request-data',
      'response-data',
      'request-errors',
      'request-container-id',
    ]);
    assert.deepEqual(job['request-scheduled-date'], { 'java.util.Date': FAR_FUTURE });
    assert.equal(job['request-data'], null);
    assert.equal(job['request-errors'], null);
    assert.equal(job['request-retries'], 5);
    assertGolden('job-queued.json', answer.text);
  });

  it('getRequestById with errors and data, and containerId accepted and ignored', async () => {
    const answer = await get('/jobs/1?withErrors=true&withData=TRUE&containerId=whatever');
    assert.equal(answer.status, 200);
    const job = JSON.parse(answer.text);
    assert.deepEqual(job['request-data'], {
      businessKey: 'job-1',
      retries: '5',
      customValue: 'a',
      when: { 'java.util.Date': 1540023411655 },
    });
    assert.deepEqual(job['response-data'], {});
    assert.deepEqual(job['request-errors'], { 'error-info-instance': [] });
    assertGolden('job-queued-with-data.json', answer.text);
  });

  it('fields=not_null leaves null fields out (KIE 7.39+)', async () => {
    const answer = await server.call('GET', '/jobs/1', { accept: 'application/json;fields=not_null' });
    const job = JSON.parse(answer.text);
    assert.equal(job['request-instance-id'], 1);
    assert.ok(!('request-data' in job) && !('request-errors' in job) && !('request-container-id' in job));
    assert.equal(
      JSON.parse((await get('/jobs/1')).text)['request-data'],
      null,
      'nulls are written by default',
    );
  });

  it('getRequestsByStatus: QUEUED by default, newest first, paged', async () => {
    const all = JSON.parse((await get('/jobs')).text)['request-info-instance'];
    assert.deepEqual(
      all.map((job: Record<string, unknown>) => job['request-instance-id']),
      [3, 2, 1],
    );
    assert.ok(
      all.every(
        (job: Record<string, unknown>) => job['request-data'] === null && job['request-errors'] === null,
      ),
    );
    const page = await get('/jobs?status=QUEUED&page=1&pageSize=1');
    assert.deepEqual(
      JSON.parse(page.text)['request-info-instance'].map(
        (job: Record<string, unknown>) => job['request-instance-id'],
      ),
      [2],
    );
    assertGolden('list-page.json', page.text);
  });

  it('getRequestsByBusinessKey: all statuses, oldest first', async () => {
    const answer = await get('/jobs/keys/job-1');
    const ids = JSON.parse(answer.text)['request-info-instance'].map(
      (job: Record<string, unknown>) => job['request-instance-id'],
    );
    assert.deepEqual(ids, [1, 3]);
  });

  it('getRequestsByCommand', async () => {
    const answer = await get(`/jobs/commands/${PRINT_OUT}`);
    const ids = JSON.parse(answer.text)['request-info-instance'].map(
      (job: Record<string, unknown>) => job['request-instance-id'],
    );
    assert.deepEqual(ids, [1, 2]);
  });

  it('getRequestsByContainer', async () => {
    const answer = await get('/jobs/containers/acme');
    const ids = JSON.parse(answer.text)['request-info-instance'].map(
      (job: Record<string, unknown>) => job['request-instance-id'],
    );
    assert.deepEqual(ids, [3]);
  });

  it('getRequestsByProcessInstance', async () => {
    const answer = await get('/jobs/processes/instances/42');
    const ids = JSON.parse(answer.text)['request-info-instance'].map(
      (job: Record<string, unknown>) => job['request-instance-id'],
    );
    assert.deepEqual(ids, [2]);
  });

  it('an empty list is {"request-info-instance" : [ ]}', async () => {
    const answer = await get('/jobs?status=DONE&status=ERROR');
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), { 'request-info-instance': [] });
    assertGolden('list-empty.json', answer.text);
  });

  it('updateRequestData merges keys: 201, empty body', async () => {
    const answer = await server.call('POST', '/jobs/2/data', {
      ...JSON_HEADERS,
      body: '{"customValue" : "updated string"}',
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, '');
    const job = JSON.parse((await get('/jobs/2?withData=true')).text);
    assert.deepEqual(job['request-data'], {
      businessKey: 'job-2',
      processInstanceId: 42,
      customValue: 'updated string',
    });
  });

  it('requeueRequest: 201, empty body, job QUEUED', async () => {
    const answer = await server.call('PUT', '/jobs/2?containerId=ignored', { ...JSON_HEADERS, body: '' });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, '');
    assert.equal(JSON.parse((await get('/jobs/2')).text)['request-status'], 'QUEUED');
  });

  it('cancelRequest: 204, empty body, job CANCELLED, gone from the QUEUED list', async () => {
    const answer = await server.call('DELETE', '/jobs/2?containerId=ignored', { accept: 'application/json' });
    assert.equal(answer.status, 204);
    assert.equal(answer.text, '');
    assert.equal(JSON.parse((await get('/jobs/2')).text)['request-status'], 'CANCELLED');
    const queued = JSON.parse((await get('/jobs')).text)['request-info-instance'];
    assert.deepEqual(
      queued.map((job: Record<string, unknown>) => job['request-instance-id']),
      [3, 1],
    );
    const cancelled = await get('/jobs?status=CANCELLED');
    assertGolden('list-cancelled.json', cancelled.text);
  });

  it('accepts scheduled dates as the wrapper with an ISO string, bare millis and ISO strings', async () => {
    const forms: [unknown, number][] = [
      [{ 'java.util.Date': '2100-01-01T01:00:00.000+01:00' }, FAR_FUTURE],
      [FAR_FUTURE + 1, FAR_FUTURE + 1],
      ['2100-01-01T00:00:00.002Z', FAR_FUTURE + 2],
      ['2099-12-31T19:00:00.003-05:00', FAR_FUTURE + 3],
    ];
    for (const [date, expected] of forms) {
      const body = JSON.stringify({ 'job-command': PRINT_OUT, 'scheduled-date': date });
      const id = Number((await schedule(body)).text);
      const job = JSON.parse((await get(`/jobs/${id}`)).text);
      assert.deepEqual(job['request-scheduled-date'], { 'java.util.Date': expected }, JSON.stringify(date));
    }
  });

  it('a job without scheduled-date or request-data is due now, with empty data', async () => {
    const before = Date.now();
    const id = Number((await schedule(JSON.stringify({ 'job-command': PRINT_OUT }))).text);
    const job = JSON.parse((await get(`/jobs/${id}?withData=true`)).text);
    assert.ok(job['request-scheduled-date']['java.util.Date'] >= before);
    assert.deepEqual(job['request-data'], {});
    assert.equal(job['request-retries'], 3);
  });
});

describe('jobs API, JSON with --json-dates iso', () => {
  it('writes dates as ISO-8601 with a 24-hour clock and an offset, in data too', async () => {
    process.env.TZ = 'Europe/Paris';
    const server = await startServer({ server: { jsonDates: 'iso' } });
    const body = JSON.stringify({
      'job-command': PRINT_OUT,
      'scheduled-date': '2030-06-15T14:05:09.007Z',
      'request-data': { at: { 'java.util.Date': 1540023411655 } },
    });
    const id = (await server.call('POST', '/jobs', { ...JSON_HEADERS, body })).text;
    const answer = await server.call('GET', `/jobs/${id}?withData=true`, { accept: 'application/json' });
    const job = JSON.parse(answer.text);
    assert.equal(job['request-scheduled-date'], '2030-06-15T16:05:09.007+02:00');
    assert.deepEqual(job['request-data'], { at: '2018-10-20T10:16:51.655+02:00' });
    assertGolden('job-iso-dates.json', answer.text);
    // The stored form is unchanged: XML still sees a date.
    const xml = await server.call('GET', `/jobs/${id}?withData=true`, { accept: 'application/xml' });
    assert.match(xml.text, /<value xsi:type="xs:dateTime" [^>]*>2018-10-20T10:16:51\.655\+02:00<\/value>/);
  });
});
