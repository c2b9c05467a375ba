// The console's kjobs extensions over real HTTP, through the typed client: statistics, breakdown, timeline, bulk
// actions (limit, roles, cross-site guard), and their place in the OpenAPI document.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, KieJobsClient } from '../../src/client/index.js';
import { createServer } from '../../src/http/server.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { eventually } from '../helpers.js';
import { API, FAILING, FAR_FUTURE, JSON_HEADERS, PRINT_OUT, startServer } from './helpers.js';

const ADMIN = { name: 'admin', password: 'admin-pw', roles: ['kie-server'] };
const VIEWER = { name: 'watch', password: 'watch-pw', roles: ['viewer'] };

describe('console extensions (kjobs)', () => {
  it('charts: 60 points by minute and 24 by hour, with the jobs that finished and the jobs waiting', async () => {
    const server = await startServer({ kjobs: { executor: { pollIntervalMs: 50 }, statsIntervalMs: 100 } });
    const client = new KieJobsClient({ baseUrl: `${server.origin}/kie-server/services/rest` });
    const { kjobs } = server;
    const done = await kjobs.scheduleMany([
      { command: PRINT_OUT },
      { command: PRINT_OUT },
      { command: PRINT_OUT },
    ]);
    const failed = await kjobs.schedule({ command: FAILING, data: { retries: 0 } });
    await kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    for (const id of [...done, failed]) await kjobs.waitFor(id);
    const hour = await eventually(
      () => client.getJobStats('hour'),
      (stats) => stats.points.reduce((n, p) => n + p.done, 0) === 3 && stats.points.at(-1)?.waiting === 1,
    );
    assert.equal(hour.points.length, 60);
    assert.equal(hour.bucketMs, 60_000);
    assert.equal(
      hour.points.reduce((n, p) => n + p.error, 0),
      1,
    );
    assert.ok(hour.points[0]!.at instanceof Date);
    assert.equal(hour.points[59]!.at.getTime() - hour.points[0]!.at.getTime(), 59 * 60_000);
    assert.ok(hour.points.at(-1)!.at.getTime() <= Date.now());
    const day = await client.getJobStats('day');
    assert.equal(day.points.length, 24);
    assert.equal(
      day.points.reduce((n, p) => n + p.done, 0),
      3,
    );
    assert.equal(day.points.at(-1)?.waiting, 1);
    const bad = await server.call('GET', `${API}/kjobs/stats?range=week`, { accept: 'application/json' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /range must be hour or day/);
  });

  it('breakdown by command and container; a timeline of attempts with their times, requeues and cancels', async () => {
    const server = await startServer({
      kjobs: {
        executor: { pollIntervalMs: 50 },
        containers: { acme: { commands: { 'com.acme.Ok': async () => ({ ok: true }) } } },
      },
    });
    const client = new KieJobsClient({ baseUrl: `${server.origin}/kie-server/services/rest` });
    const { kjobs } = server;
    const ok = await kjobs.schedule({ command: 'com.acme.Ok', containerId: 'acme' });
    const failing = await kjobs.schedule({ command: FAILING, data: { retries: 1, retryDelay: '10ms' } });
    await kjobs.waitFor(ok);
    await eventually(
      () => kjobs.get(failing),
      (job) => job.status === 'ERROR',
    );
    const byCommand = await client.getJobBreakdown('command');
    const failingRow = byCommand.rows.find((row) => row.key === FAILING);
    assert.equal(failingRow?.counts.ERROR, 1);
    assert.equal(failingRow?.runs, 2);
    assert.equal(failingRow?.failures, 2);
    assert.equal(failingRow?.failureRate, 1);
    assert.equal(typeof failingRow?.p50Ms, 'number');
    const okRow = byCommand.rows.find((row) => row.key === 'com.acme.Ok');
    assert.deepEqual([okRow?.counts.DONE, okRow?.runs, okRow?.failureRate], [1, 1, 0]);
    const byContainer = await client.getJobBreakdown('container');
    assert.deepEqual(byContainer.rows.map((row) => row.key).sort(), ['acme', null].sort());

    await kjobs.requeue(failing);
    await eventually(
      () => kjobs.get(failing),
      (job) => job.status === 'ERROR' && job.executions === 3,
    );
    const timeline = await client.getJobTimeline(failing);
    assert.equal(timeline.status, 'ERROR');
    assert.ok(timeline.startedAt instanceof Date && timeline.finishedAt instanceof Date);
    assert.deepEqual(
      timeline.timeline.map((entry) => entry.kind),
      ['scheduled', 'attempt', 'attempt', 'requeue', 'attempt'],
    );
    const attempts = timeline.timeline.filter((entry) => entry.kind === 'attempt');
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3],
    );
    for (const attempt of attempts) {
      assert.equal(attempt.outcome, 'failed');
      assert.match(attempt.error ?? '', /Throwing error for testing purpose/);
      assert.ok(attempt.startedAt! <= attempt.endedAt!);
      assert.equal(attempt.durationMs, attempt.endedAt!.getTime() - attempt.startedAt!.getTime());
    }
    const doneTimeline = await client.getJobTimeline(ok);
    assert.deepEqual(
      doneTimeline.timeline.map((entry) => [entry.kind, entry.outcome ?? null]),
      [
        ['scheduled', null],
        ['attempt', 'DONE'],
      ],
    );
    await assert.rejects(client.getJobTimeline(999_999), (error: ApiError) => error.status === 404);
  });

  it('bulk requeue of the ERROR jobs of a filter runs them again; bulk cancel by ids and by filter', async () => {
    const server = await startServer({ kjobs: { executor: { pollIntervalMs: 50 }, maxBulkJobs: 5 } });
    const client = new KieJobsClient({ baseUrl: `${server.origin}/kie-server/services/rest` });
    const { kjobs } = server;
    const failed = await kjobs.scheduleMany([
      { command: FAILING, data: { retries: 0 } },
      { command: FAILING, data: { retries: 0 } },
    ]);
    for (const id of failed)
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'ERROR',
      );
    const result = await client.requeueJobs({ command: FAILING });
    assert.deepEqual(result, { matched: 2, changed: failed, refused: [] });
    // Really run again: a second attempt each, ERROR again.
    for (const id of failed) {
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'ERROR' && job.executions === 2,
      );
    }

    const queued = await kjobs.scheduleMany(
      [1, 2, 3].map((n) => ({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE,
        data: { businessKey: `b-${n}` },
      })),
    );
    const byIds = await client.cancelJobs({ ids: [queued[0]!, failed[0]!, 999_999] });
    assert.equal(byIds.matched, 3);
    assert.deepEqual(
      byIds.changed,
      [queued[0], failed[0]].sort((a, b) => a! - b!),
    );
    assert.deepEqual(byIds.refused, [
      { id: 999_999, status: null, reason: "Request with id: 999999 doesn't exist" },
    ]);
    const byFilter = await client.cancelJobs({ businessKey: 'b-2' });
    assert.deepEqual(byFilter.changed, [queued[1]]);
    assert.equal((await kjobs.get(queued[2]!)).status, 'QUEUED');

    // Past the limit: 400 naming the setting, nothing changed.
    const many = await kjobs.scheduleMany(
      Array.from({ length: 6 }, () => ({ command: PRINT_OUT, scheduledAt: FAR_FUTURE })),
    );
    await assert.rejects(client.cancelJobs({ status: 'QUEUED' }), (error: ApiError) => {
      assert.equal(error.status, 400);
      assert.match(error.message, /more than 5 jobs, the bulk limit \(--bulk-limit/);
      return true;
    });
    await assert.rejects(client.cancelJobs({ ids: many }), (error: ApiError) => error.status === 400);
    for (const id of many) assert.equal((await kjobs.get(id)).status, 'QUEUED');

    // Bad selections.
    for (const body of [
      '[]',
      '{"ids": []}',
      '{"ids": [1], "command": "x"}',
      '{"nope": 1}',
      '{"status": "DONE"}',
      'not json',
    ]) {
      const answer = await server.call('POST', `${API}/kjobs/jobs/cancel`, { ...JSON_HEADERS, body });
      assert.equal(answer.status, 400, body);
    }
    // JSON only.
    const xml = await server.call('POST', `${API}/kjobs/jobs/cancel`, {
      accept: 'application/xml',
      contentType: 'application/xml',
      body: '<ids/>',
    });
    assert.equal(xml.status, 415);
  });

  it("bulk actions need a role that may change jobs, and come from kjobs' own origin", async () => {
    const server = await startServer({ server: { users: [ADMIN, VIEWER] } });
    const [id] = await server.kjobs.scheduleMany([{ command: PRINT_OUT, scheduledAt: FAR_FUTURE }]);
    const body = JSON.stringify({ ids: [id] });
    const viewer = await server.call('POST', `${API}/kjobs/jobs/cancel`, {
      ...JSON_HEADERS,
      body,
      auth: 'watch:watch-pw',
    });
    assert.equal(viewer.status, 403);
    assert.match(viewer.text, /viewer/);
    const read = await server.call('GET', `${API}/kjobs/stats`, {
      accept: 'application/json',
      auth: 'watch:watch-pw',
    });
    assert.equal(read.status, 200, 'a viewer may read the charts');
    const anonymous = await server.call('GET', `${API}/kjobs/stats`, { accept: 'application/json' });
    assert.equal(anonymous.status, 401);
    const crossSite = await server.call('POST', `${API}/kjobs/jobs/cancel`, {
      ...JSON_HEADERS,
      body,
      auth: 'admin:admin-pw',
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);
    assert.equal((await server.kjobs.get(id!)).status, 'QUEUED');
    const admin = await server.call('POST', `${API}/kjobs/jobs/cancel`, {
      ...JSON_HEADERS,
      body,
      auth: 'admin:admin-pw',
    });
    assert.equal(admin.status, 200);
    assert.equal((await server.kjobs.get(id!)).status, 'CANCELLED');
  });

  it('counts bulk cancels in the metrics, as single cancels', async () => {
    const server = await startServer();
    const metrics = createMetrics(server.kjobs);
    await server.app.close();
    const app = await createServer(server.kjobs, { metrics });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const ids = await server.kjobs.scheduleMany(
        [1, 2].map(() => ({ command: PRINT_OUT, scheduledAt: FAR_FUTURE })),
      );
      const answer = await fetch(`${origin}${API}/kjobs/jobs/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ ids }),
      });
      assert.equal(answer.status, 200);
      const text = await (await fetch(`${origin}/metrics`)).text();
      assert.match(
        text,
        new RegExp(
          `kjobs_jobs_cancelled_total\\{command="${PRINT_OUT.replace(/\./g, '\\.')}",container=""\\} 2`,
        ),
      );
    } finally {
      await app.close();
    }
  });

  it("cancels a RUNNING job (KIE's DELETE refuses it), 409 for an ended one, 403 for a viewer", async () => {
    const server = await startServer({ server: { users: [ADMIN, VIEWER] } });
    const base = `${server.origin}/kie-server/services/rest`;
    const client = new KieJobsClient({ baseUrl: base, user: ADMIN.name, password: ADMIN.password });
    const { kjobs } = server;
    const [running, done] = await kjobs.scheduleMany([
      { command: PRINT_OUT, scheduledAt: 1 },
      { command: PRINT_OUT, scheduledAt: 2 },
    ]);
    await kjobs.store.claim({ workerId: 'elsewhere', limit: 2, now: Date.now(), leaseMs: 60_000 });
    await kjobs.store.complete([
      { kind: 'succeed', jobId: done!, workerId: 'elsewhere', now: Date.now(), responseData: {} },
    ]);
    await assert.rejects(client.cancelRequest(running!), (error: ApiError) => error.status === 409);
    const viewer = new KieJobsClient({ baseUrl: base, user: VIEWER.name, password: VIEWER.password });
    await assert.rejects(viewer.cancelJob(running!), (error: ApiError) => error.status === 403);
    assert.deepEqual(await client.cancelJob(running!), {
      id: running,
      status: 'CANCELLED',
      previousStatus: 'RUNNING',
    });
    assert.equal((await kjobs.get(running!)).status, 'CANCELLED');
    await assert.rejects(
      client.cancelJob(done!),
      (error: ApiError) => error.status === 409 && /cannot be cancelled: it is DONE/.test(error.message),
    );
    await assert.rejects(client.cancelJob(987654), (error: ApiError) => error.status === 404);
  });

  it('is in the OpenAPI document', async () => {
    const server = await startServer();
    const doc = JSON.parse((await server.call('GET', '/kie-server/services/rest/openapi.json')).text) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const operations = {
      jobStats: ['get', `${API}/kjobs/stats`],
      jobBreakdown: ['get', `${API}/kjobs/stats/breakdown`],
      jobTimeline: ['get', `${API}/kjobs/jobs/{jobId}/timeline`],
      bulkRequeue: ['post', `${API}/kjobs/jobs/requeue`],
      bulkCancel: ['post', `${API}/kjobs/jobs/cancel`],
      cancelJob: ['post', `${API}/kjobs/jobs/{jobId}/cancel`],
    };
    for (const [id, [method, path]] of Object.entries(operations)) {
      assert.equal(doc.paths[path!]?.[method!]?.operationId, id, `${method} ${path}`);
    }
  });
});
