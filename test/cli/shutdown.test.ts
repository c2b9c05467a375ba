// Graceful shutdown of `kjobs serve`: on SIGTERM a job running longer than --stop-timeout is aborted and given
// back (QUEUED, the run not counted), the process exits within the deadline plus a margin, and the next start
// runs the job. SIGINT stops it the same way.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempFolder } from '../helpers.js';
import { API_PATH, startService, USER, waitForStatus } from './service.js';

const STOP_TIMEOUT_MS = 600;
const MARGIN_MS = 3000;

describe('graceful shutdown', () => {
  it('releases a job that outlives the deadline, exits in time, and the next start runs it', async () => {
    const db = join(tempFolder(), 'shutdown.db');
    const args = ['--db', db, '--container', 't=test/fixtures/container-misbehave.mjs'];
    const first = await startService([...args, '--stop-timeout', String(STOP_TIMEOUT_MS)], {
      KJOBS_TEST_SLEEP_MS: '60000',
    });
    const scheduled = await first.call('POST', '/jobs?containerId=t', {
      'job-command': 'com.test.Sleep',
      'request-data': { businessKey: 'long' },
    });
    assert.equal(scheduled.status, 201, scheduled.text);
    const id = Number(scheduled.text);
    await waitForStatus(first, id, ['RUNNING']);

    const signalled = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    const took = Date.now() - signalled;
    assert.ok(took >= STOP_TIMEOUT_MS - 50, `exited after ${took} ms, before the job's deadline`);
    assert.ok(took < STOP_TIMEOUT_MS + MARGIN_MS, `exited after ${took} ms`);
    assert.ok(
      first.lines.some((line) => line.includes('"signal":"SIGTERM"') && line.includes('stopping kjobs')),
    );

    const store = new SqliteJobStore({ path: db });
    await store.migrate();
    const released = await store.get(id, { withErrors: true });
    await store.close();
    assert.equal(released?.status, 'QUEUED');
    assert.equal(released?.executions, 0, 'the aborted run is not counted');
    assert.deepEqual(released?.errors, []);
    assert.equal(released?.workerId, null);

    const second = await startService(args, { KJOBS_TEST_SLEEP_MS: '10' });
    const done = await waitForStatus(second, id, ['DONE', 'ERROR']);
    assert.equal(done['request-status'], 'DONE');
    assert.equal(done['request-executions'], 1);
    assert.deepEqual(done['response-data'], { slept: 10 });
    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0);
    assert.ok(second.lines.some((line) => line.includes('"signal":"SIGINT"')));
  });
  it('exits at the stop timeout plus 5 s whatever holds the stop up (here a request half sent)', async () => {
    const service = await startService(['--db', join(tempFolder(), 'stuck.db'), '--stop-timeout', '200']);
    // A request in flight keeps the HTTP server from closing until its own timeout (30 s).
    const socket = connect(Number(new URL(service.address).port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST ${API_PATH}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Authorization: Basic ${Buffer.from(USER).toString('base64')}\r\nContent-Length: 1000\r\n\r\n{"job-`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 1, 'it gave up waiting, and said so');
    assert.ok(service.lines.some((line) => line.includes('did not stop within the stop timeout')));
    socket.destroy();
  });

  it('a second signal exits at once; the job it left RUNNING is rescued after its lease', async () => {
    const db = join(tempFolder(), 'second-signal.db');
    const args = ['--db', db, '--container', 't=test/fixtures/container-misbehave.mjs', '--lease-ms', '300'];
    const first = await startService([...args, '--stop-timeout', '30000'], { KJOBS_TEST_SLEEP_MS: '60000' });
    const scheduled = await first.call('POST', '/jobs?containerId=t', {
      'job-command': 'com.test.Sleep',
      'request-data': { retryDelay: '0' },
    });
    const id = Number(scheduled.text);
    await waitForStatus(first, id, ['RUNNING']);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 1);
    assert.ok(Date.now() - signalled < 3000, 'the second signal did not end the process at once');

    const second = await startService(args, { KJOBS_TEST_SLEEP_MS: '10' });
    const done = await waitForStatus(second, id, ['DONE', 'ERROR']);
    assert.equal(done['request-status'], 'DONE');
    assert.equal(done['request-executions'], 2, 'the interrupted run counts as an attempt');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });
});
