import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.js';
import { startKjobs } from '../helpers.js';

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
});
