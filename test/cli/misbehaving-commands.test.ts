// Commands that misbehave, end to end over `kjobs serve`: one throws, one never returns (per-job timeout and
// --default-timeout), some return what cannot be stored, some call process.exit. The service survives each,
// every job shows its error, and the same process then shows it all in /metrics and in its JSON log lines.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempFolder } from '../helpers.js';
import { SECURITY_HEADERS } from '../../src/http/security-headers.js';
import { errorMessages, startService, waitForStatus, type Service } from './service.js';

const CONTAINER = 'test/fixtures/container-misbehave.mjs';

async function schedule(
  service: Service,
  command: string,
  data: Record<string, unknown> = {},
): Promise<number> {
  const answer = await service.call('POST', '/jobs?containerId=t', {
    'job-command': command,
    'request-data': { retries: 0, ...data },
  });
  assert.equal(answer.status, 201, answer.text);
  return Number(answer.text);
}

/** The value of one sample line of the Prometheus text, e.g. `kjobs_jobs{status="ERROR"}`. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no sample ${name} in /metrics`);
  return Number(line.split(' ').pop());
}

describe('misbehaving commands over the service', () => {
  it('fail their job with the reason; the service goes on, and its metrics and logs show it', async () => {
    const db = join(tempFolder(), 'misbehave.db');
    const service = await startService([
      '--db',
      db,
      '--container',
      `t=${CONTAINER}`,
      '--default-timeout',
      '2s',
      '--concurrency',
      '4',
    ]);

    const expected: [command: string, data: Record<string, unknown>, message: RegExp][] = [
      ['com.test.Throws', {}, /^command threw on purpose$/],
      ['com.test.ThrowsString', {}, /^a plain string$/],
      ['com.test.Hangs', { timeout: '1s' }, /timed out after 1000 ms/],
      ['com.test.Hangs', {}, /timed out after 2000 ms/],
      ['com.test.Circular', {}, /circular/i],
      ['com.test.BigInt', {}, /BigInt/],
      ['com.test.NotAMap', {}, /returned number; expected a map/],
      ['com.test.Exits', {}, /called process\.exit\(3\); the process was kept alive/],
      ['com.test.ExitsLater', {}, /called process\.exit\(4\)/],
      ['com.test.StrayThrow', {}, /^stray timer error$/],
      ['com.test.StrayReject', {}, /^stray rejection$/],
    ];
    const ids: number[] = [];
    for (const [command, data] of expected) ids.push(await schedule(service, command, data));

    for (const [index, [command, , message]] of expected.entries()) {
      const job = await waitForStatus(service, ids[index]!, ['ERROR', 'DONE']);
      assert.equal(job['request-status'], 'ERROR', `${command}: ${JSON.stringify(job)}`);
      assert.equal(job['request-executions'], 1);
      const messages = errorMessages(job);
      assert.equal(messages.length, 1, `${command}: ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, message, command);
    }

    // A command whose timer throws after its run ended: the job is DONE, the error only logged.
    const late = await schedule(service, 'com.test.LateStray');
    assert.equal((await waitForStatus(service, late, ['DONE', 'ERROR']))['request-status'], 'DONE');
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Still alive, still serving, still running jobs.
    assert.equal(service.child.exitCode, null);
    assert.equal((await service.call('GET', '/healthz')).status, 200);
    const fine = await schedule(service, 'com.test.Sleep', { ms: 20 });
    const done = await waitForStatus(service, fine, ['DONE', 'ERROR']);
    assert.equal(done['request-status'], 'DONE');
    assert.deepEqual(done['response-data'], { slept: 20 });

    // Metrics over HTTP: job counters by command and container, queue depth, attempts, HTTP requests.
    const metrics = await fetch(`${service.address}/metrics`, {
      headers: { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` },
    });
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      assert.equal(metrics.headers.get(name), value);
    const text = await metrics.text();
    assert.equal(sample(text, 'kjobs_jobs_scheduled_total{command="com.test.Hangs",container="t"}'), 2);
    assert.equal(sample(text, 'kjobs_jobs_started_total{command="com.test.Hangs",container="t"}'), 2);
    assert.equal(sample(text, 'kjobs_jobs_failed_total{command="com.test.Hangs",container="t"}'), 2);
    assert.equal(sample(text, 'kjobs_jobs_failed_total{command="com.test.Exits",container="t"}'), 1);
    assert.equal(sample(text, 'kjobs_jobs_completed_total{command="com.test.Sleep",container="t"}'), 1);
    assert.equal(sample(text, 'kjobs_jobs{status="ERROR"}'), expected.length);
    assert.equal(sample(text, 'kjobs_jobs{status="DONE"}'), 2);
    assert.equal(sample(text, 'kjobs_jobs{status="QUEUED"}'), 0);
    assert.equal(
      sample(
        text,
        'kjobs_job_attempt_duration_seconds_count{command="com.test.Hangs",container="t",outcome="error"}',
      ),
      2,
    );
    const slowest = sample(
      text,
      'kjobs_job_attempt_duration_seconds_sum{command="com.test.Hangs",container="t",outcome="error"}',
    );
    assert.ok(slowest >= 2.9 && slowest < 10, `Hangs ran ${slowest} s in all (1 s + 2 s timeouts)`);
    assert.equal(
      sample(
        text,
        `kjobs_http_requests_total{method="POST",route="/kie-server/services/rest/server/jobs",status="201"}`,
      ),
      expected.length + 2,
    );
    assert.ok(
      sample(
        text,
        'kjobs_http_request_duration_seconds_count{method="GET",route="/kie-server/services/rest/server/jobs/:jobId"}',
      ) >= expected.length,
    );
    assert.match(text, /^kjobs_process_resident_memory_bytes \d+/m);

    // Logs: every stdout line is one JSON object; each failed job has a warning carrying its job id and reason.
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
    const entries = service.lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`not a JSON log line: ${line}`);
      }
    });
    for (const entry of entries) {
      assert.equal(typeof entry.level, 'number');
      assert.equal(typeof entry.time, 'number');
      assert.equal(typeof entry.msg, 'string');
      assert.equal(entry.pid, service.child.pid);
    }
    for (const [index, [command, , message]] of expected.entries()) {
      const failed = entries.find((entry) => entry.jobId === ids[index] && entry.msg === 'job failed');
      assert.ok(failed, `no "job failed" line with jobId ${ids[index]} (${command})`);
      assert.equal(failed.command, command);
      assert.equal(failed.level, 40);
      assert.match((failed.err as { message: string }).message, message);
    }
    const lateLine = entries.find((entry) => entry.jobId === late && entry.level === 40);
    assert.match(String(lateLine?.msg), /after its run ended/);
    assert.equal((lateLine?.err as { message?: string } | undefined)?.message, 'late stray error');
    assert.ok(entries.some((entry) => entry.msg === 'kjobs stopped'));
  });
});
