// Input a single authenticated request could use to hurt the service or corrupt a job: dates and numbers out of
// range, update-data skipping the checks schedule makes, request data growing without bound, giant pages.
// Each is refused with 400 naming what to change, and the job stays as it was.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FAR_FUTURE, JSON_HEADERS, jobJson, NS, PRINT_OUT, startServer, type TestServer } from './helpers.js';

describe('input limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      kjobs: {
        maxPageSize: 50,
        maxDataBytes: 2000,
        callbacks: { notify: { onCommandDone: () => undefined } },
      },
    });
  });

  /** Text that does not compress (what a btree index entry cannot hold when long). */
  const randomText = (length: number) => randomBytes(length).toString('base64').slice(0, length);
  const schedule = (body: string) => server.call('POST', '/jobs', { ...JSON_HEADERS, body });
  const total = async () => Object.values(await server.kjobs.countByStatus()).reduce((a, b) => a + b, 0);

  it('dates and numbers out of range are refused when scheduling, in JSON and XML', async () => {
    const before = await total();
    const cases: [string, RegExp][] = [
      [
        JSON.stringify({
          'job-command': PRINT_OUT,
          'scheduled-date': { 'java.util.Date': 9007199254740991 },
        }),
        /scheduled-date 9007199254740991 is out of range: give a date from year 1 to 9999/,
      ],
      [jobJson(PRINT_OUT, { retries: 1e300 }), /retries must be a whole number from 0 to 2147483647/],
      [
        jobJson(PRINT_OUT, { timeout: 1e12 }),
        /timeout must be a positive time expression .* at most 24 days/,
      ],
      [
        jobJson(PRINT_OUT, { retryDelay: '1000000d' }),
        /retryDelay 86400000000000 ms is longer than 100 years/,
      ],
      // Indexed strings as long as KIE's columns (issue 27: an 8 KB key was a 500 naming PostgreSQL's index).
      [
        jobJson(PRINT_OUT, { businessKey: randomText(8192) }),
        /businessKey is 8192 characters long, more than the 255 KIE's column holds/,
      ],
      [jobJson(PRINT_OUT, { owner: 'o'.repeat(256) }), /owner is 256 characters long/],
      [jobJson('c'.repeat(300)), /job-command is 300 characters long/],
    ];
    for (const [body, message] of cases) {
      const answer = await schedule(body);
      assert.equal(answer.status, 400, body);
      assert.match(answer.text, message);
    }
    const xml = await server.call('POST', '/jobs', {
      contentType: 'application/xml',
      body:
        `<job-request-instance ${NS}><job-command>${PRINT_OUT}</job-command>` +
        '<scheduled-date>+275760-09-13T00:00:00Z</scheduled-date></job-request-instance>',
    });
    assert.equal(xml.status, 400, xml.text);
    assert.equal(await total(), before);
  });

  it('update-data makes the checks schedule makes, and changes nothing when it refuses', async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE, data: { a: 1 } });
    const update = (data: unknown) =>
      server.call('POST', `/jobs/${id}/data`, { ...JSON_HEADERS, body: JSON.stringify(data) });
    const cases: [unknown, RegExp][] = [
      [{ timeout: -5 }, /timeout must be a positive time expression/],
      [{ callbacks: 'notify,nowhere' }, /Unknown callback nowhere/],
      [{ retries: 'many' }, /retries must be a whole number/],
      [{ retryDelay: 'soon' }, /Error parsing time string/],
      [{ businessKey: 7 }, /businessKey must be a string/],
      [{ unique: 'perhaps' }, /unique must be true, false, "replace" or "debounce"/],
      [{ cron: 'every day' }, /cron must have five fields/],
    ];
    for (const [data, message] of cases) {
      const answer = await update(data);
      assert.equal(answer.status, 400, JSON.stringify(data));
      assert.match(answer.text, message);
    }
    assert.deepEqual((await server.kjobs.get(id, { withData: true })).requestData, { a: 1 });
    // Valid special keys are stored as schedule stores them (retry delays in milliseconds).
    assert.equal((await update({ retryDelay: '10s, 1m', callbacks: 'notify', timeout: '30s' })).status, 201);
    assert.deepEqual((await server.kjobs.get(id, { withData: true })).requestData, {
      a: 1,
      retryDelay: [10_000, 60_000],
      callbacks: 'notify',
      timeout: '30s',
    });
  });

  it('request data may not grow past the limit, by scheduling or by repeated updates', async () => {
    const big = 'x'.repeat(2500);
    const scheduled = await schedule(jobJson(PRINT_OUT, { big }));
    assert.equal(scheduled.status, 400);
    assert.match(
      scheduled.text,
      /request-data is \d+ bytes, more than the limit of 2000 bytes \(maxDataBytes/,
    );

    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    const chunk = 'y'.repeat(600);
    for (const key of ['k1', 'k2']) {
      const answer = await server.call('POST', `/jobs/${id}/data`, {
        ...JSON_HEADERS,
        body: JSON.stringify({ [key]: chunk }),
      });
      assert.equal(answer.status, 201, answer.text);
    }
    const third = await server.call('POST', `/jobs/${id}/data`, {
      ...JSON_HEADERS,
      body: JSON.stringify({ k3: chunk, k4: chunk }),
    });
    assert.equal(third.status, 400);
    assert.match(
      third.text,
      /request-data after this update is \d+ bytes, more than the limit of 2000 bytes/,
    );
    assert.deepEqual(Object.keys((await server.kjobs.get(id, { withData: true })).requestData ?? {}), [
      'k1',
      'k2',
    ]);
  });

  it('a page larger than the maximum page size is refused with the setting named', async () => {
    for (const path of [
      '/jobs',
      '/jobs/commands/x',
      '/jobs/keys/k',
      '/jobs/containers/c',
      '/jobs/processes/instances/1',
    ]) {
      const answer = await server.call('GET', `${path}?pageSize=51`, { accept: 'application/json' });
      assert.equal(answer.status, 400, path);
      assert.equal(
        answer.text,
        '"pageSize 51 is larger than the maximum page size 50 (--max-page-size): read larger lists page by page"',
      );
      assert.equal((await server.call('GET', `${path}?pageSize=50`)).status, 200, path);
    }
  });
});
