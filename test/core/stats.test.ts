// The console's pure parts: chart buckets, job timelines, breakdown arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobTimeline, statsPoints, statsWindow, type Job } from '../../src/core/index.js';
import { breakdownRows, percentile } from '../../src/store/breakdown.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function job(overrides: Partial<Job>): Job {
  return {
    id: 1,
    status: 'QUEUED',
    businessKey: null,
    message: 'Ready to execute',
    retries: 3,
    executions: 0,
    command: 'c',
    scheduledAt: 1000,
    priority: 5,
    containerId: null,
    processInstanceId: null,
    owner: null,
    createdAt: 1000,
    startedAt: null,
    finishedAt: null,
    workerId: null,
    leaseExpiresAt: null,
    errors: [],
    ...overrides,
  };
}

describe('chart points', () => {
  const now = 10 * HOUR + 30 * MINUTE + 5000; // 10:30:05

  it('has 60 minutes ending with the current one, and 24 hours ending with the current one', () => {
    assert.deepEqual(statsWindow('hour', now), {
      from: 9 * HOUR + 31 * MINUTE,
      to: 10 * HOUR + 31 * MINUTE,
      bucketMs: MINUTE,
    });
    assert.deepEqual(statsWindow('day', now), { from: -13 * HOUR, to: 11 * HOUR, bucketMs: HOUR });
    assert.equal(statsPoints('hour', now, []).length, 60);
    assert.equal(statsPoints('day', now, []).length, 24);
  });

  it('adds finished counts per bucket, keeps the highest waiting sample, and ignores rows outside', () => {
    const rows = [
      { minute: 10 * HOUR + 30 * MINUTE, done: 2, error: 1, waiting: 5 },
      { minute: 10 * HOUR + 29 * MINUTE, done: 3, error: 0, waiting: 9 },
      { minute: 10 * HOUR, done: 1, error: 0, waiting: null },
      { minute: 8 * HOUR, done: 100, error: 0, waiting: 1 },
    ];
    const hour = statsPoints('hour', now, rows);
    assert.deepEqual(hour.at(-1), { at: 10 * HOUR + 30 * MINUTE, done: 2, error: 1, waiting: 5 });
    assert.deepEqual(hour.at(-2), { at: 10 * HOUR + 29 * MINUTE, done: 3, error: 0, waiting: 9 });
    assert.equal(
      hour.reduce((n, p) => n + p.done, 0),
      6,
      'the 08:00 row is outside the hour',
    );
    assert.equal(hour.filter((p) => p.waiting !== null).length, 2);
    const day = statsPoints('day', now, rows);
    assert.deepEqual(day.at(-1), { at: 10 * HOUR, done: 6, error: 1, waiting: 9 });
    assert.deepEqual(day.at(-3), { at: 8 * HOUR, done: 100, error: 0, waiting: 1 });
  });
});

describe('job timeline', () => {
  it('a DONE job after a failed attempt: scheduled, the failure with its times, the success', () => {
    const entries = jobTimeline(
      job({
        status: 'DONE',
        executions: 2,
        startedAt: 5000,
        finishedAt: 5400,
        errors: [{ id: 1, jobId: 1, message: 'boom', stacktrace: null, date: 2300, startedAt: 2000 }],
      }),
      [],
    );
    assert.deepEqual(entries, [
      { kind: 'scheduled', at: 1000, dueAt: null },
      {
        kind: 'attempt',
        attempt: 1,
        startedAt: 2000,
        endedAt: 2300,
        durationMs: 300,
        outcome: 'failed',
        error: 'boom',
        at: 2000,
      },
      {
        kind: 'attempt',
        attempt: 2,
        startedAt: 5000,
        endedAt: 5400,
        durationMs: 400,
        outcome: 'DONE',
        error: null,
        at: 5000,
      },
    ]);
  });

  it('a job waiting for its retry, a running job, a job never run, an error without a start', () => {
    const retrying = jobTimeline(
      job({
        status: 'RETRYING',
        executions: 1,
        startedAt: 2000,
        scheduledAt: 9000,
        errors: [{ id: 1, jobId: 1, message: 'boom', stacktrace: null, date: 2300, startedAt: 2000 }],
      }),
      [],
    );
    assert.deepEqual(
      retrying.map((e) => e.kind),
      ['scheduled', 'attempt', 'due'],
    );
    assert.equal(retrying.at(-1)!.at, 9000);
    const running = jobTimeline(job({ status: 'RUNNING', executions: 1, startedAt: 2000 }), []);
    assert.deepEqual(running.at(-1), {
      kind: 'attempt',
      attempt: 1,
      startedAt: 2000,
      endedAt: null,
      durationMs: null,
      outcome: 'running',
      error: null,
      at: 2000,
    });
    assert.deepEqual(jobTimeline(job({ scheduledAt: 7000 }), []), [
      { kind: 'scheduled', at: 1000, dueAt: 7000 },
    ]);
    const old = jobTimeline(
      job({
        status: 'ERROR',
        executions: 1,
        startedAt: 2000,
        errors: [{ id: 1, jobId: 1, message: 'x', stacktrace: null, date: 2300 }],
      }),
      [{ kind: 'cancel', at: 3000, fromStatus: 'ERROR' }],
    );
    assert.deepEqual(
      old.map((e) => [e.kind, 'durationMs' in e ? e.durationMs : undefined]),
      [
        ['scheduled', undefined],
        ['attempt', null],
        ['cancel', undefined],
      ],
    );
  });

  it('puts a requeue before the run that follows it in the same millisecond', () => {
    const entries = jobTimeline(
      job({
        status: 'RUNNING',
        executions: 2,
        startedAt: 3000,
        errors: [{ id: 1, jobId: 1, message: 'x', stacktrace: null, date: 2300, startedAt: 2000 }],
      }),
      [{ kind: 'requeue', at: 3000, fromStatus: 'ERROR' }],
    );
    assert.deepEqual(
      entries.map((e) => e.kind),
      ['scheduled', 'attempt', 'requeue', 'attempt'],
    );
  });
});

describe('breakdown', () => {
  it('nearest-rank percentiles', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([7], 95), 7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 95), 95);
  });

  it('rows per key: counts, runs, failures, failure rate, durations; most jobs first', () => {
    const rows = breakdownRows({
      counts: [
        { key: 'a', status: 'DONE', n: 3 },
        { key: 'a', status: 'ERROR', n: 1 },
        { key: 'b', status: 'QUEUED', n: 9 },
      ],
      runs: [
        { key: 'a', failed: false, ms: 100 },
        { key: 'a', failed: false, ms: 300 },
        { key: 'a', failed: true, ms: 200 },
        { key: 'a', failed: true, ms: null },
      ],
    });
    assert.deepEqual(
      rows.map((row) => row.key),
      ['b', 'a'],
    );
    const a = rows[1]!;
    assert.deepEqual(
      {
        runs: a.runs,
        failures: a.failures,
        rate: a.failureRate,
        p50: a.p50Ms,
        p95: a.p95Ms,
        done: a.counts.DONE,
      },
      { runs: 4, failures: 2, rate: 0.5, p50: 200, p95: 300, done: 3 },
    );
    assert.deepEqual([rows[0]!.runs, rows[0]!.failureRate, rows[0]!.p50Ms], [0, null, null]);
  });
});
