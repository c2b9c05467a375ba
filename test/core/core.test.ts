import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relativeStackTrace } from '../../src/core/stack-trace.js';
import {
  afterFailure,
  allowedFrom,
  buildNewJob,
  canApply,
  callbacksOf,
  JOB_STATUSES,
  parseRetryDelays,
  parseTimeExpression,
  retryDelayFor,
  timeoutOf,
  TRANSITIONS,
  ValidationError,
} from '../../src/core/index.js';

describe('time expressions', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1m 80s', 140_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['2000', 2000],
    ['  3S ', 3000],
    ['-1ms', -1],
  ];
  for (const [text, ms] of cases) {
    it(`parses ${JSON.stringify(text)} as ${ms} ms`, () => assert.equal(parseTimeExpression(text), ms));
  }
  for (const bad of ['', 'abc', '1x', '1s1h', 'PT1H', '1.5s', 's']) {
    it(`refuses ${JSON.stringify(bad)} with a message naming it`, () => {
      assert.throws(
        () => parseTimeExpression(bad),
        (error: Error) => {
          assert.ok(error instanceof ValidationError);
          assert.match(error.message, /Error parsing time string/);
          return true;
        },
      );
    });
  }

  it('parses retryDelay lists, and keeps lists of milliseconds as stored by KIE', () => {
    assert.deepEqual(parseRetryDelays('3s, 6s'), [3000, 6000]);
    assert.deepEqual(parseRetryDelays('10s,1m,1h'), [10_000, 60_000, 3_600_000]);
    assert.deepEqual(parseRetryDelays([3000, '1s']), [3000, 1000]);
    assert.throws(() => parseRetryDelays('1s,,2s'), ValidationError);
    assert.throws(() => parseRetryDelays({}), ValidationError);
  });
});

describe('state machine', () => {
  it('is written as data: every event names the statuses it leaves from', () => {
    assert.deepEqual(allowedFrom('cancel'), ['QUEUED', 'RETRYING', 'ERROR']);
    assert.deepEqual(allowedFrom('claim'), ['QUEUED', 'RETRYING']);
    for (const transition of Object.values(TRANSITIONS)) {
      for (const status of transition.from) assert.ok(JOB_STATUSES.includes(status));
    }
  });

  it('lets requeue take anything but DONE and CANCELLED back to QUEUED', () => {
    for (const status of JOB_STATUSES) {
      assert.equal(canApply('requeue', status), status !== 'DONE' && status !== 'CANCELLED', status);
    }
    assert.equal(TRANSITIONS.requeue.to, 'QUEUED');
  });

  it('keeps the status on update data, allowed only for QUEUED, RETRYING and ERROR', () => {
    assert.equal(TRANSITIONS.updateData.to, null, 'the status stays');
    assert.deepEqual(
      JOB_STATUSES.filter((status) => canApply('updateData', status)),
      ['QUEUED', 'ERROR', 'RETRYING'],
    );
  });
});

describe('retry policy', () => {
  it('retries with the delay of this retry, the last delay repeating', () => {
    const delays = [1000, 5000];
    assert.equal(retryDelayFor(1, delays), 1000);
    assert.equal(retryDelayFor(2, delays), 5000);
    assert.equal(retryDelayFor(7, delays), 5000);
    assert.equal(retryDelayFor(1, []), 0);
  });

  it('goes RETRYING with one retry fewer while retries are left, then ERROR', () => {
    const now = 1_000_000;
    assert.deepEqual(afterFailure({ retries: 2, executions: 1, scheduledAt: 5 }, [3000], now), {
      status: 'RETRYING',
      retries: 1,
      scheduledAt: now + 3000,
    });
    assert.deepEqual(afterFailure({ retries: 1, executions: 2, scheduledAt: 5 }, [], now), {
      status: 'RETRYING',
      retries: 0,
      scheduledAt: now,
    });
    assert.equal(afterFailure({ retries: 0, executions: 3, scheduledAt: 5 }, [], now).status, 'ERROR');
  });

  it('treats a negative delay as at once', () => {
    assert.equal(afterFailure({ retries: 1, executions: 1, scheduledAt: 5 }, [-1], 100).scheduledAt, 100);
  });
});

describe('schedule requests', () => {
  const defaults = { retries: 3, now: 1_000 };

  it('reads KIE special keys from the request data', () => {
    const job = buildNewJob(
      {
        command: 'c',
        scheduledAt: new Date(5000),
        data: {
          businessKey: 'bk',
          retries: '5',
          retryDelay: '1s, 2s',
          priority: 12,
          processInstanceId: '77',
          owner: 'n1',
        },
      },
      defaults,
    );
    assert.equal(job.businessKey, 'bk');
    assert.equal(job.retries, 5);
    assert.equal(job.priority, 9, 'priority is clamped to 0..9');
    assert.equal(job.processInstanceId, 77);
    assert.equal(job.owner, 'n1');
    assert.equal(job.scheduledAt, 5000);
    assert.deepEqual(
      job.requestData.retryDelay,
      [1000, 2000],
      'retryDelay is stored as milliseconds, as KIE',
    );
  });

  it('defaults: now, 3 retries, priority 5, no key', () => {
    const job = buildNewJob({ command: 'c' }, defaults);
    assert.equal(job.scheduledAt, 1000);
    assert.equal(job.retries, 3);
    assert.equal(job.priority, 5);
    assert.equal(job.businessKey, null);
    assert.equal(job.message, 'Ready to execute');
  });

  it('takes the container from containerId (overriding deploymentId in the data) or from DeploymentId', () => {
    const fromParam = buildNewJob(
      { command: 'c', containerId: 'acme', data: { deploymentId: 'other' } },
      defaults,
    );
    assert.equal(fromParam.containerId, 'acme');
    assert.equal(fromParam.requestData.deploymentId, 'acme');
    assert.equal(
      buildNewJob({ command: 'c', data: { DeploymentId: 'a', deploymentId: 'b' } }, defaults).containerId,
      'a',
    );
  });

  for (const [data, key] of [
    [{ retries: 'abc' }, 'retries'],
    [{ retries: -1 }, 'retries'],
    [{ retries: 3.5 }, 'retries'],
    [{ businessKey: 5 }, 'businessKey'],
    [{ priority: 'high' }, 'priority'],
    [{ processInstanceId: {} }, 'processInstanceId'],
    [{ retryDelay: 'soon' }, 'time string'],
    [{ timeout: '-5s' }, 'timeout'],
  ] as const) {
    it(`refuses ${JSON.stringify(data)} naming ${key}`, () => {
      assert.throws(
        () => buildNewJob({ command: 'c', data: { ...data } }, defaults),
        (error: Error) => {
          assert.ok(error instanceof ValidationError);
          assert.ok(error.message.includes(key), error.message);
          return true;
        },
      );
    });
  }

  it('refuses a missing command and an invalid date', () => {
    assert.throws(() => buildNewJob({ command: ' ' }, defaults), /job-command is required/);
    assert.throws(
      () => buildNewJob({ command: 'c', scheduledAt: new Date('nope') }, defaults),
      /scheduled-date/,
    );
  });

  it('reads timeouts and callbacks', () => {
    assert.equal(timeoutOf({ timeout: '30s' }), 30_000);
    assert.equal(timeoutOf({ timeout: 250 }), 250);
    assert.equal(timeoutOf({}), undefined);
    assert.deepEqual(callbacksOf({ callbacks: 'a, b,,c' }), ['a', 'b', 'c']);
    assert.deepEqual(callbacksOf({}), []);
  });
});

describe('relativeStackTrace', () => {
  it('makes file paths and file URLs relative to the root, and leaves the rest', () => {
    const stack = [
      'Error: boom',
      '    at run (/srv/kjobs/dist/commands/builtins.js:10:5)',
      '    at file:///srv/kjobs/dist/executor/run.js:3:1',
      '    at acme (/opt/acme/commands.mjs:7:9)',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ].join('\n');
    assert.equal(
      relativeStackTrace(stack, '/srv/kjobs'),
      [
        'Error: boom',
        '    at run (dist/commands/builtins.js:10:5)',
        '    at dist/executor/run.js:3:1',
        '    at acme (../../opt/acme/commands.mjs:7:9)',
        '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      ].join('\n'),
    );
  });
});
