// KIE Server's Prometheus job metrics at KIE's address, line for line as KIE writes them (simpleclient 0.x:
// a comma after the last label, Java doubles), behind the API's authentication, and in /metrics as well.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import type { Kjobs } from '../../src/kjobs.js';
import { javaDouble } from '../../src/observability/kie-metrics.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { eventually, startKjobs } from '../helpers.js';

const PRINT_OUT = 'org.jbpm.executor.commands.PrintOutCommand';
const FAILING = 'org.jbpm.executor.commands.JobExecutionErrorCommand';
const ADA = `Basic ${Buffer.from('ada:pw').toString('base64')}`;

// Started at the top level: the helpers' after() hooks then belong to the file, not to a before hook.
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));
const kjobs: Kjobs = await startKjobs({
  containers: { acme: { 'com.acme.Hold': () => held.then(() => ({})) } },
  executor: { pollIntervalMs: 20 },
});
const app: FastifyInstance = await createServer(kjobs, {
  users: [{ name: 'ada', password: 'pw', roles: ['kie-server'] }],
  serverId: 'kie-1',
  serverVersion: '7.74.1',
  location: 'http://kie.example:8080/kie-server/services/rest/server',
  metrics: createMetrics(kjobs),
});
const origin = await app.listen({ port: 0, host: '127.0.0.1' });
after(async () => {
  release();
  await app.close();
});

describe("KIE's Prometheus metrics", () => {
  const scrape = async (path = '/kie-server/services/rest/metrics') => {
    const response = await fetch(origin + path, { headers: { authorization: ADA } });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return { type: response.headers.get('content-type'), text };
  };
  const schedule = async (command: string, data: Record<string, unknown>, query = '') => {
    const response = await fetch(`${origin}/kie-server/services/rest/server/jobs${query}`, {
      method: 'POST',
      headers: { authorization: ADA, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ 'job-command': command, 'request-data': data }),
    });
    const text = await response.text();
    assert.equal(response.status, 201, text);
    return Number(text);
  };

  it('counts jobs scheduled, run, failed, running and cancelled as KIE does', async () => {
    await kjobs.waitFor(await schedule(PRINT_OUT, {}));
    await kjobs.waitFor(await schedule(FAILING, { retries: 1, retryDelay: '1ms' }));
    const later = await kjobs.schedule({ command: PRINT_OUT, scheduledAt: Date.now() + 3_600_000 });
    await kjobs.cancel(later);
    const holding = await schedule('com.acme.Hold', {}, '?containerId=acme');

    const running = await eventually(
      async () => (await scrape()).text,
      (text) =>
        text.includes('kie_server_job_running_total{container_id="acme",command_name="com.acme.Hold",} 1.0'),
    );
    const lines = running.split('\n');
    for (const line of [
      '# HELP kie_server_job_scheduled_total Kie Server Started Jobs',
      '# TYPE kie_server_job_scheduled_total counter',
      `kie_server_job_scheduled_total{container_id="",command_name="${PRINT_OUT}",} 2.0`,
      `kie_server_job_scheduled_total{container_id="",command_name="${FAILING}",} 1.0`,
      'kie_server_job_scheduled_total{container_id="acme",command_name="com.acme.Hold",} 1.0',
      '# HELP kie_server_job_running_total Kie Server Running Jobs',
      '# TYPE kie_server_job_running_total gauge',
      `kie_server_job_running_total{container_id="",command_name="${PRINT_OUT}",} 0.0`,
      '# HELP kie_server_job_executed_total Kie Server Executed Jobs',
      '# TYPE kie_server_job_executed_total counter',
      `kie_server_job_executed_total{container_id="",failed="false",command_name="${PRINT_OUT}",} 1.0`,
      `kie_server_job_executed_total{container_id="",failed="true",command_name="${FAILING}",} 2.0`,
      '# HELP kie_server_job_cancelled_total Kie Server Cancelled Jobs',
      '# TYPE kie_server_job_cancelled_total counter',
      `kie_server_job_cancelled_total{container_id="",command_name="${PRINT_OUT}",} 1.0`,
      '# HELP kie_server_job_duration_seconds Kie Server Job Duration',
      '# TYPE kie_server_job_duration_seconds summary',
      `kie_server_job_duration_seconds_count{container_id="",command_name="${FAILING}",} 2.0`,
      '# HELP kie_server_start_time Kie Server Start Time',
      '# TYPE kie_server_start_time gauge',
    ]) {
      assert.ok(lines.includes(line), `missing line ${line} in\n${running}`);
    }
    // A summary writes its count, then its sum (seconds, a Java double); no quantiles.
    const count = lines.indexOf(
      `kie_server_job_duration_seconds_count{container_id="",command_name="${PRINT_OUT}",} 1.0`,
    );
    assert.ok(count > 0, running);
    assert.match(
      lines[count + 1] ?? '',
      /^kie_server_job_duration_seconds_sum\{container_id="",command_name="org\.jbpm\.executor\.commands\.PrintOutCommand",\} \d+\.\d+(E-?\d+)?$/,
    );
    assert.ok(!running.includes('quantile'));
    assert.match(
      running,
      /\nkie_server_start_time\{name="kie-1",server_id="kie-1",location="http:\/\/kie\.example:8080\/kie-server\/services\/rest\/server",version="7\.74\.1",\} 1\.\d+E12\n/,
    );
    // The executed counter is not touched before a run ends; the running gauge goes back to 0.0 after.
    assert.ok(!running.includes('failed="false",command_name="com.acme.Hold"'));
    release();
    await kjobs.waitFor(holding);
    const done = (await scrape()).text;
    assert.ok(
      done.includes('kie_server_job_running_total{container_id="acme",command_name="com.acme.Hold",} 0.0'),
      done,
    );
    assert.ok(
      done.includes(
        'kie_server_job_executed_total{container_id="acme",failed="false",command_name="com.acme.Hold",} 1.0',
      ),
      done,
    );
  });

  it('answers text/plain behind the same authentication as the API', async () => {
    const { type } = await scrape();
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    const anonymous = await fetch(`${origin}/kie-server/services/rest/metrics`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="KIE Server"');
  });

  it("/metrics has KIE's metrics too, beside kjobs' own", async () => {
    const { text } = await scrape('/metrics');
    assert.match(
      text,
      new RegExp(`\\nkie_server_job_scheduled_total\\{container_id="",command_name="${PRINT_OUT}"\\} 2\\n`),
    );
    assert.match(text, /\nkjobs_jobs_scheduled_total\{/);
    assert.match(text, /\n# TYPE kie_server_job_duration_seconds summary\n/);
  });

  it('javaDouble writes what Java Double.toString writes', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [1, '1.0'],
      [2.5, '2.5'],
      [0.001, '0.001'],
      [0.0001, '1.0E-4'],
      [1234567, '1234567.0'],
      [10_000_000, '1.0E7'],
      [1764590712345, '1.764590712345E12'],
      [-3, '-3.0'],
      [Infinity, '+Inf'],
      [NaN, 'NaN'],
    ];
    for (const [value, text] of cases) assert.equal(javaDouble(value), text, String(value));
  });
});
