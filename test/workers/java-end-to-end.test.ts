/**
 * KIE's Java commands unchanged (issue 35), end to end: `kjobs serve` with a remote container, the Java worker
 * (`java -jar kjobs-kie-worker.jar`) running command classes compiled in the test against the jar, jobs scheduled over
 * KIE's REST API. DONE with the results in Java's value types; a throwing command retried then ERROR with the Java
 * stack trace and its callback; a reoccurring command scheduled again; a cancel reaching a running command; a worker
 * killed mid-job rescued and finished by a second one.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorMessages, startService, waitForStatus, type Service } from '../cli/service.js';
import { eventually, tempFolder } from '../helpers.js';
import { javaSkip, JavaWorkerProcess, prepareJava } from './java-helpers.js';

const SKIP = javaSkip();
const REST = '/kie-server/services/rest';

describe('the Java worker against kjobs serve', { skip: SKIP, timeout: 120_000 }, () => {
  const folder = tempFolder('kjobs-java-e2e-');
  let service: Service;
  let classpath: string;
  const workers: JavaWorkerProcess[] = [];
  after(() => {
    for (const worker of workers) worker.signal('SIGKILL');
    service?.child.kill('SIGKILL');
  });

  before(async () => {
    classpath = prepareJava();
    service = await startService([
      '--db',
      join(folder, 'jobs.db'),
      '--heartbeat',
      '1s',
      '--remote-container',
      'billing=com.example.kjobs.*,com.acme.billing.*',
      '--user',
      'java-worker:java-pw:worker',
      '--worker-grant',
      'java-worker=billing',
    ]);
  });

  function startWorker(name: string): JavaWorkerProcess {
    const worker = new JavaWorkerProcess(
      [
        '--url',
        `${service.address}${REST}`,
        '--user',
        'java-worker',
        '--container',
        'billing',
        '--classpath',
        classpath,
        '--name',
        name,
        '--concurrency',
        '4',
      ],
      { KJOBS_PASSWORD: 'java-pw' },
    );
    workers.push(worker);
    return worker;
  }

  async function schedule(command: string, data: Record<string, unknown>): Promise<number> {
    const answer = await service.call('POST', '/jobs', { 'job-command': command, 'request-data': data });
    assert.equal(answer.status, 201, answer.text);
    return Number(answer.text);
  }

  it("runs a command class from the user's jar: DONE, its results, the values as Java types", async () => {
    startWorker('java-1');
    const id = await schedule('com.example.kjobs.ProbeCommand', {
      mode: 'describe',
      text: 'héllo',
      small: 7,
      big: 5_000_000_000,
      ratio: 0.5,
      flag: true,
      when: { 'java.util.Date': 1_796_680_000_000 },
      list: [1, 'two'],
      map: { nested: 1 },
    });
    const job = await waitForStatus(service, id, ['DONE', 'ERROR'], 60_000);
    assert.equal(job['request-status'], 'DONE', JSON.stringify(job));
    const results = job['response-data'] as Record<string, Record<string, unknown>>;
    const { text, small, big, ratio, flag, when, list, map } = results.types!;
    assert.deepEqual(
      { text, small, big, ratio, flag, when, list, map },
      {
        text: 'String',
        small: 'Integer',
        big: 'Long',
        ratio: 'Double',
        flag: 'Boolean',
        when: 'Date',
        list: ['Integer', 'String'],
        map: { nested: 'Integer' },
      },
    );
    assert.deepEqual((results.echo as Record<string, unknown>).when, { 'java.util.Date': 1_796_680_000_000 });
  });

  it('a throwing command is retried, then ERROR with the Java stack trace; its callback is told once', async () => {
    const log = join(folder, 'callbacks.log');
    const id = await schedule('com.example.kjobs.ProbeCommand', {
      mode: 'throw',
      message: 'mail server down',
      retries: 2,
      callbacks: 'com.example.kjobs.RecordingCallback',
      callbackLog: log,
    });
    const job = await waitForStatus(service, id, ['ERROR'], 60_000);
    assert.equal(job['request-executions'], 3);
    const messages = errorMessages(job);
    assert.equal(messages.length, 3);
    assert.match(messages[0]!, /java\.io\.IOException: mail server down/);
    const stack = (
      job['request-errors'] as {
        'error-info-instance': { stacktrace?: string; 'error-stacktrace'?: string }[];
      }
    )['error-info-instance'][0]!;
    assert.match(stack['error-stacktrace'] ?? '', /at com\.example\.kjobs\.ProbeCommand\.execute/);
    // The worker tells the callback after the server answered its last fail: the log may come a moment later.
    await eventually(
      () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
      (text) => text.includes('error'),
      10_000,
    );
    assert.deepEqual(
      readFileSync(log, 'utf8').trim().split('\n'),
      ['error java.io.IOException: mail server down'],
      'onCommandError once, after the last attempt',
    );
  });

  it("a reoccurring command (KIE's Reoccurring) is scheduled again, and runs", async () => {
    const id = await schedule('com.example.kjobs.EveryIntervalCommand', {
      intervalMs: 300,
      businessKey: 'tick',
    });
    await waitForStatus(service, id, ['DONE'], 60_000);
    const next = await eventually(
      async () => {
        const answer = await service.call('GET', '/jobs/keys/tick?status=QUEUED&status=RUNNING&status=DONE');
        return (
          JSON.parse(answer.text) as {
            'request-info-instance': { 'request-instance-id': number; 'request-message': string }[];
          }
        )['request-info-instance'];
      },
      (jobs) => jobs.length >= 2,
      30_000,
    );
    assert.equal(next[1]!['request-message'], 'Rescheduled reoccurring job');
    await waitForStatus(service, next[1]!['request-instance-id'], ['DONE'], 60_000);
  });

  it('a cancel reaches a running command: interrupted, CANCELLED, its outcome not written', async () => {
    const id = await schedule('com.example.kjobs.ProbeCommand', { mode: 'sleep', ms: 60_000 });
    await waitForStatus(service, id, ['RUNNING'], 60_000);
    const answer = await service.call('POST', `${REST}/server/kjobs/jobs/${id}/cancel`, {});
    assert.equal(answer.status, 200, answer.text);
    const worker = workers[0]!;
    await worker.logged(new RegExp(`job ${id}\\b.*(cancel|interrupt)`, 'i'), 20_000);
    const job = await waitForStatus(service, id, ['CANCELLED'], 5_000);
    assert.equal(
      (job['response-data'] as Record<string, unknown> | null)?.slept,
      undefined,
      'no results written',
    );
  });

  it('a worker killed mid-job: its job is rescued and finished by a second worker', async () => {
    const first = workers[0]!;
    const id = await schedule('com.example.kjobs.ProbeCommand', { mode: 'sleep', ms: 1500, retries: 3 });
    await waitForStatus(service, id, ['RUNNING'], 60_000);
    first.signal('SIGKILL');
    startWorker('java-2');
    const job = await waitForStatus(service, id, ['DONE'], 60_000);
    assert.equal(job['request-executions'], 2, 'the lost attempt counted, the second ran it');
    assert.match(errorMessages(job)[0] ?? '', /was lost while running job/);
  });
});
