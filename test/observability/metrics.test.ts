import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.js';
import { eventually, startKjobs } from '../helpers.js';

describe('metrics', () => {
  it('counts jobs by command and container, queue depth by status, and attempt durations', async () => {
    const kjobs = await startKjobs({
      containers: { acme: { 'com.acme.Ok': () => ({}) } },
      commands: { fails: () => Promise.reject(new Error('no')) },
    });
    const metrics = createMetrics(kjobs);
    await kjobs.waitFor(await kjobs.schedule({ command: 'com.acme.Ok', containerId: 'acme' }));
    await kjobs.waitFor(await kjobs.schedule({ command: 'fails', data: { retries: 1 } }));
    await kjobs.cancel(await kjobs.schedule({ command: 'fails', scheduledAt: Date.now() + 60_000 }));
    metrics.observeHttp('GET', '/jobs/:jobId', 200, 0.002);
    const text = await metrics.registry.metrics();
    const value = (line: string) => {
      const found = text.split('\n').find((l) => l.startsWith(line + ' '));
      assert.ok(found, `missing ${line} in\n${text}`);
      return Number(found.split(' ').pop());
    };
    assert.equal(value('kjobs_jobs_scheduled_total{command="com.acme.Ok",container="acme"}'), 1);
    assert.equal(value('kjobs_jobs_completed_total{command="com.acme.Ok",container="acme"}'), 1);
    assert.equal(value('kjobs_jobs_scheduled_total{command="fails",container=""}'), 2);
    assert.equal(value('kjobs_jobs_started_total{command="fails",container=""}'), 2);
    assert.equal(value('kjobs_jobs_retried_total{command="fails",container=""}'), 1);
    assert.equal(value('kjobs_jobs_failed_total{command="fails",container=""}'), 1);
    assert.equal(value('kjobs_jobs_cancelled_total{command="fails",container=""}'), 1);
    assert.equal(value('kjobs_jobs{status="DONE"}'), 1);
    assert.equal(value('kjobs_jobs{status="ERROR"}'), 1);
    assert.equal(value('kjobs_jobs{status="CANCELLED"}'), 1);
    assert.equal(
      value('kjobs_job_attempt_duration_seconds_count{command="fails",container="",outcome="retrying"}'),
      1,
    );
    assert.equal(value('kjobs_http_requests_total{method="GET",route="/jobs/:jobId",status="200"}'), 1);
  });

  it('per limit: the limit, its use at the last claim, and the due jobs it held back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const kjobs = await startKjobs({
      commands: { slow: () => gate, tenant: () => gate },
      executor: {
        concurrency: 10,
        limits: {
          commands: { slow: 1 },
          rates: { commands: { slow: { starts: 5, periodMs: 60_000 } } },
          keys: { all: 1 },
        },
      },
    });
    const metrics = createMetrics(kjobs);
    const ids = await kjobs.scheduleMany([
      { command: 'slow' },
      { command: 'slow' },
      { command: 'tenant', data: { concurrencyKey: 'A' } },
      { command: 'tenant', data: { concurrencyKey: 'A' } },
    ]);
    const text = () => metrics.registry.metrics();
    const value = (body: string, line: string) => {
      const found = body.split('\n').find((l) => l.startsWith(line + ' '));
      return found === undefined ? undefined : Number(found.split(' ').pop());
    };
    const body = await eventually(
      text,
      (t) => (value(t, 'kjobs_limit_held_back_total{kind="key",name="*"}') ?? 0) > 0,
    );
    assert.equal(value(body, 'kjobs_limit{kind="command",name="slow"}'), 1);
    assert.equal(value(body, 'kjobs_limit{kind="command-rate",name="slow"}'), 5);
    assert.equal(value(body, 'kjobs_limit_in_use{kind="command",name="slow"}'), 1);
    assert.equal(value(body, 'kjobs_limit_in_use{kind="command-rate",name="slow"}'), 1);
    assert.ok((value(body, 'kjobs_limit_held_back_total{kind="command",name="slow"}') ?? 0) >= 1);
    release();
    for (const id of ids) await kjobs.waitFor(id);
  });
});
