import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Executor,
  InvalidStateError,
  JobNotFoundError,
  UnknownCommandError,
  ValidationError,
  type CommandContext,
  type DataMap,
} from '../../src/index.js';
import { createKjobs } from '../../src/kjobs.js';
import { eventually, startKjobs, tempFolder } from '../helpers.js';
import { join } from 'node:path';

const PRINT = 'org.jbpm.executor.commands.PrintOutCommand';
const LOG_CLEANUP = 'org.jbpm.executor.commands.LogCleanupCommand';
const ALWAYS_FAILS = 'org.jbpm.executor.commands.JobExecutionErrorCommand';

describe('executor: running jobs', () => {
  it('runs a job with its data map and records DONE with the response data', async () => {
    const seen: CommandContext[] = [];
    const kjobs = await startKjobs({
      commands: {
        sum: ({ data, ...rest }) => {
          seen.push({ data, ...rest });
          return { total: (data.a as number) + (data.b as number) };
        },
      },
    });
    const id = await kjobs.schedule({ command: 'sum', data: { a: 2, b: 3, businessKey: 'k1' } });
    const job = await kjobs.waitFor(id);
    assert.equal(job.status, 'DONE');
    assert.deepEqual(job.responseData, { total: 5 });
    assert.equal(job.executions, 1);
    assert.equal(job.retries, 3);
    assert.deepEqual(job.errors, []);
    assert.ok(job.finishedAt! >= job.startedAt!);
    assert.equal(seen[0]?.jobId, id);
    assert.equal(seen[0]?.attempt, 1);
    assert.equal(seen[0]?.businessKey, 'k1');
    assert.ok(seen[0]?.signal instanceof AbortSignal);
  });

  it('a job that always fails runs 1 + retries times, with an error record per attempt, and ends ERROR', async () => {
    const kjobs = await startKjobs();
    const id = await kjobs.schedule({ command: ALWAYS_FAILS, data: { retries: 2 } });
    const job = await kjobs.waitFor(id);
    assert.equal(job.status, 'ERROR');
    assert.equal(job.executions, 3);
    assert.equal(job.retries, 0);
    assert.equal(job.errors?.length, 3);
    for (const error of job.errors!) {
      assert.equal(error.message, 'Throwing error for testing purpose');
      assert.match(error.stacktrace ?? '', /Error: Throwing error for testing purpose\n\s+at /);
      assert.equal(error.jobId, id);
    }
  });

  it('a result larger than maxDataBytes fails the attempt with a message; a smaller one is stored', async () => {
    const kjobs = await startKjobs({
      maxDataBytes: 2000,
      commands: { produce: ({ data }) => ({ text: 'r'.repeat(data.size as number) }) },
    });
    const big = await kjobs.waitFor(
      await kjobs.schedule({ command: 'produce', data: { size: 3000, retries: 0 } }),
    );
    assert.equal(big.status, 'ERROR');
    assert.equal(big.responseData ?? null, null);
    assert.match(
      big.errors?.[0]?.message ?? '',
      /^Command returned 3011 bytes of response data, more than the limit of 2000 bytes/,
    );
    const small = await kjobs.waitFor(await kjobs.schedule({ command: 'produce', data: { size: 100 } }));
    assert.equal(small.status, 'DONE');
    assert.equal((small.responseData?.text as string).length, 100);
  });

  it('with the default of 3 retries, a failing job runs 4 times (as KIE)', async () => {
    const kjobs = await startKjobs();
    const job = await kjobs.waitFor(await kjobs.schedule({ command: ALWAYS_FAILS }));
    assert.equal(job.executions, 4);
    assert.equal(job.errors?.length, 4);
  });

  it('waits retryDelay between attempts, the last delay repeating', async () => {
    const starts: number[] = [];
    const kjobs = await startKjobs({
      commands: {
        flaky: () => {
          starts.push(Date.now());
          throw new Error('not yet');
        },
      },
    });
    const id = await kjobs.schedule({ command: 'flaky', data: { retries: 3, retryDelay: '100ms, 300ms' } });
    const retrying = await eventually(
      () => kjobs.get(id),
      (job) => job.status === 'RETRYING',
    );
    assert.equal(retrying.retries, 2);
    assert.ok(retrying.scheduledAt >= starts[0]! + 100, 'the retry is due after the first delay');
    const job = await kjobs.waitFor(id);
    assert.equal(job.status, 'ERROR');
    assert.equal(starts.length, 4);
    const gaps = starts.slice(1).map((start, i) => start - starts[i]!);
    assert.ok(gaps[0]! >= 100, `first gap ${gaps[0]}`);
    assert.ok(gaps[1]! >= 300, `second gap ${gaps[1]}`);
    assert.ok(gaps[2]! >= 300, `third gap ${gaps[2]} repeats the last delay`);
  });

  it('a job that succeeds on a retry ends DONE with the errors of the failed attempts', async () => {
    let attempts = 0;
    const kjobs = await startKjobs({
      commands: {
        second: ({ attempt }) => {
          attempts++;
          if (attempt < 2) throw new Error(`attempt ${attempt} failed`);
          return { attempt };
        },
      },
    });
    const job = await kjobs.waitFor(await kjobs.schedule({ command: 'second' }));
    assert.equal(job.status, 'DONE');
    assert.equal(attempts, 2);
    assert.equal(job.retries, 2);
    assert.deepEqual(job.responseData, { attempt: 2 });
    assert.deepEqual(
      job.errors?.map((error) => error.message),
      ['attempt 1 failed'],
    );
  });

  it('runs higher priorities first', async () => {
    const order: number[] = [];
    const kjobs = await startKjobs({
      executor: { concurrency: 1 },
      commands: { record: ({ data }) => void order.push(data.n as number) },
    });
    await kjobs.executor!.stop(0);
    const past = Date.now() - 1000;
    await kjobs.scheduleMany([
      { command: 'record', scheduledAt: past, data: { n: 1, priority: 1 } },
      { command: 'record', scheduledAt: past + 1, data: { n: 2, priority: 9 } },
      { command: 'record', scheduledAt: past + 2, data: { n: 3 } },
      { command: 'record', scheduledAt: past + 3, data: { n: 4, priority: 9 } },
    ]);
    const restarted = await createKjobs({
      store: kjobs.store,
      executor: { concurrency: 1 },
      commands: { record: ({ data }) => void order.push(data.n as number) },
    });
    await restarted.start();
    await eventually(
      () => order.length,
      (n) => n === 4,
    );
    await restarted.stop(100);
    assert.deepEqual(order, [2, 4, 3, 1]);
  });

  it('starts a job due later at its time, woken by a timer and not by polling', async () => {
    let startedAt = 0;
    const kjobs = await startKjobs({
      executor: { pollIntervalMs: 60_000 },
      commands: { mark: () => void (startedAt = Date.now()) },
    });
    await eventually(() => kjobs.executor!.isRunning, Boolean);
    const due = Date.now() + 300;
    const id = await kjobs.schedule({ command: 'mark', scheduledAt: due });
    assert.equal((await kjobs.get(id)).status, 'QUEUED');
    const job = await kjobs.waitFor(id, { timeoutMs: 5000 });
    assert.equal(job.status, 'DONE');
    assert.ok(startedAt >= due, 'not before its time');
    // With a 60 s poll interval, only the wake-up timer can have started it within the wait above.
    assert.ok(startedAt - due < 5000);
  });

  it('aborts a run that exceeds its timeout and records a timeout error', async () => {
    let aborted: unknown;
    const kjobs = await startKjobs({
      commands: {
        hang: ({ signal }) =>
          new Promise(() => {
            signal.addEventListener('abort', () => (aborted = signal.reason));
          }),
      },
    });
    const job = await kjobs.waitFor(
      await kjobs.schedule({ command: 'hang', data: { timeout: '150ms', retries: 0 } }),
    );
    assert.equal(job.status, 'ERROR');
    assert.match(job.errors?.[0]?.message ?? '', /timed out after 150 ms/);
    assert.ok(aborted instanceof Error);
  });

  it('records a failure when a command returns data that cannot be stored', async () => {
    const kjobs = await startKjobs({
      commands: {
        cyclic: () => {
          const data: DataMap = {};
          data.self = data;
          return data;
        },
        list: () => [1, 2] as unknown as DataMap,
      },
    });
    const cyclic = await kjobs.waitFor(await kjobs.schedule({ command: 'cyclic', data: { retries: 0 } }));
    assert.equal(cyclic.status, 'ERROR');
    assert.match(cyclic.errors?.[0]?.message ?? '', /circular/i);
    const list = await kjobs.waitFor(await kjobs.schedule({ command: 'list', data: { retries: 0 } }));
    assert.match(list.errors?.[0]?.message ?? '', /expected a map/);
  });
});

describe('executor: reoccurring commands and callbacks', () => {
  it('schedules the next occurrence of a reoccurring command after it is DONE', async () => {
    let runs = 0;
    const kjobs = await startKjobs({
      commands: {
        tick: {
          run: () => void runs++,
          nextRunAt: ({ now }) => (runs < 3 ? now + 20 : null),
        },
      },
    });
    const first = await kjobs.schedule({ command: 'tick', data: { businessKey: 'ticker', priority: 7 } });
    await eventually(
      () => runs,
      (n) => n === 3,
    );
    const jobs = await eventually(
      () => kjobs.listByBusinessKey('ticker'),
      (list) => list.length === 3 && list.every((job) => job.status === 'DONE'),
    );
    assert.equal(jobs[0]?.id, first);
    assert.equal(jobs[0]?.message, 'Ready to execute');
    assert.equal(jobs[1]?.message, 'Rescheduled reoccurring job');
    assert.equal(jobs[2]?.priority, 7);
  });

  it('reschedules a reoccurring command after its final failure too', async () => {
    let runs = 0;
    const kjobs = await startKjobs({
      commands: {
        failingTick: {
          run: () => {
            runs++;
            throw new Error('tick failed');
          },
          nextRunAt: ({ now }) => (runs < 2 ? now + 10 : null),
        },
      },
    });
    await kjobs.schedule({ command: 'failingTick', data: { businessKey: 'ft', retries: 0 } });
    const jobs = await eventually(
      () => kjobs.listByBusinessKey('ft'),
      (list) => list.length === 2 && list.every((job) => job.status === 'ERROR'),
    );
    assert.equal(jobs[1]?.retries, 0, 'the retries of the data carry over');
  });

  it('LogCleanupCommand deletes old finished jobs, answers counts, and reschedules itself unless SingleRun', async () => {
    const kjobs = await startKjobs();
    const done = await kjobs.waitFor(await kjobs.schedule({ command: PRINT }));
    const failed = await kjobs.waitFor(await kjobs.schedule({ command: ALWAYS_FAILS, data: { retries: 0 } }));
    const pending = await kjobs.schedule({ command: PRINT, scheduledAt: Date.now() + 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const single = await kjobs.waitFor(
      await kjobs.schedule({
        command: LOG_CLEANUP,
        data: { SingleRun: 'true', OlderThanPeriod: '10ms', businessKey: 'clean1' },
      }),
    );
    assert.equal(single.status, 'DONE');
    assert.equal(single.responseData?.RequestInfoLogsRemoved, 2);
    assert.equal(single.responseData?.ErrorInfoLogsRemoved, 1);
    await assert.rejects(kjobs.get(done.id), JobNotFoundError);
    await assert.rejects(kjobs.get(failed.id), JobNotFoundError);
    assert.equal((await kjobs.get(pending)).status, 'QUEUED');
    assert.equal((await kjobs.listByBusinessKey('clean1')).length, 1, 'no next run with SingleRun');

    const repeating = await kjobs.waitFor(
      await kjobs.schedule({
        command: LOG_CLEANUP,
        data: { NextRun: '1h', OlderThan: '1d', businessKey: 'clean2' },
      }),
    );
    const next = (await kjobs.listByBusinessKey('clean2', { status: 'QUEUED' }))[0];
    assert.equal(next?.command, LOG_CLEANUP);
    assert.ok(Math.abs(next.scheduledAt - (repeating.finishedAt! + 3_600_000)) < 5000);
  });

  it('runs done and error callbacks named in the data', async () => {
    const calls: string[] = [];
    const kjobs = await startKjobs({
      commands: { ok: () => ({ v: 1 }), bad: () => Promise.reject(new Error('bad')) },
      callbacks: {
        audit: {
          onCommandDone: (context, response) =>
            void calls.push(`done ${context.jobId} ${JSON.stringify(response)}`),
          onCommandError: (context, error) => void calls.push(`error ${context.jobId} ${error.message}`),
        },
      },
    });
    const ok = await kjobs.schedule({ command: 'ok', data: { callbacks: 'audit' } });
    const bad = await kjobs.schedule({ command: 'bad', data: { callbacks: 'audit', retries: 1 } });
    await kjobs.waitFor(ok);
    await kjobs.waitFor(bad);
    await eventually(
      () => calls.length,
      (n) => n === 2,
    );
    assert.deepEqual(
      calls.sort(),
      [`done ${ok} {"v":1}`, `error ${bad} bad`].sort(),
      'error callbacks only after the final failure',
    );
    await assert.rejects(
      kjobs.schedule({ command: 'ok', data: { callbacks: 'nope' } }),
      /Unknown callback nope/,
    );
  });
});

describe('cancel, requeue and update data through kjobs', () => {
  it('cancels a waiting job so it never runs, and refuses to cancel a DONE one', async () => {
    let ran = false;
    const kjobs = await startKjobs({ commands: { later: () => void (ran = true) } });
    const id = await kjobs.schedule({ command: 'later', scheduledAt: Date.now() + 200 });
    assert.equal((await kjobs.cancel(id)).status, 'CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(ran, false);
    assert.equal((await kjobs.get(id)).status, 'CANCELLED');
    const done = await kjobs.waitFor(await kjobs.schedule({ command: PRINT }));
    await assert.rejects(kjobs.cancel(done.id), InvalidStateError);
    await assert.rejects(kjobs.requeue(done.id), InvalidStateError);
    await assert.rejects(
      kjobs.updateData(done.id, { a: 1 }),
      /can't be updated when request is in status DONE/,
    );
    await assert.rejects(kjobs.cancel(999_999), JobNotFoundError);
  });

  it('requeues a failed job, which runs again with its updated data (the KIE flow)', async () => {
    const kjobs = await startKjobs({
      commands: {
        needsFormat: ({ data }) => {
          if (data.DateFormat !== 'yyyy-MM-dd') throw new Error(`Illegal pattern ${String(data.DateFormat)}`);
          return { ok: true };
        },
      },
    });
    const id = await kjobs.schedule({ command: 'needsFormat', data: { retries: 0, DateFormat: 'wrong' } });
    const failed = await kjobs.waitFor(id);
    assert.equal(failed.status, 'ERROR');
    await kjobs.updateData(id, { DateFormat: 'yyyy-MM-dd' });
    assert.equal((await kjobs.requeue(id)).status, 'QUEUED');
    const job = await eventually(
      () => kjobs.get(id, { withData: true, withErrors: true }),
      (current) => current.status === 'DONE',
    );
    assert.equal(job.executions, 2);
    assert.equal(job.errors?.length, 1);
    assert.deepEqual(job.responseData, { ok: true });
  });

  it('a RUNNING job that is requeued runs again, and the old run cannot overwrite it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const kjobs = await startKjobs({
      commands: {
        slow: async () => {
          runs++;
          if (runs === 1) await gate;
          return { run: runs };
        },
      },
    });
    const id = await kjobs.schedule({ command: 'slow' });
    await eventually(
      () => kjobs.get(id),
      (job) => job.status === 'RUNNING',
    );
    await kjobs.requeue(id);
    const second = await eventually(
      () => kjobs.get(id, { withData: true }),
      (job) => job.status === 'DONE',
    );
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const final = await kjobs.get(id, { withData: true });
    assert.equal(final.status, 'DONE');
    assert.deepEqual(final.responseData, second.responseData);
    assert.equal(final.executions, 2);
  });
});

describe('commands and containers', () => {
  it('refuses unknown commands, unknown containers and commands of another container', async () => {
    const kjobs = await startKjobs({ containers: { a: { 'a.Cmd': () => undefined } }, commands: {} });
    await assert.rejects(kjobs.schedule({ command: 'no.Such' }), (error: Error) => {
      assert.ok(error instanceof UnknownCommandError);
      assert.equal(error.message, 'Invalid command type no.Such');
      return true;
    });
    await assert.rejects(
      kjobs.schedule({ command: 'a.Cmd', containerId: 'b' }),
      /No container found for id b/,
    );
    await assert.rejects(kjobs.schedule({ command: 'a.Cmd' }), UnknownCommandError);
    await assert.rejects(kjobs.schedule({ command: PRINT, data: { retries: 'x' } }), ValidationError);
    const id = await kjobs.schedule({ command: 'a.Cmd', containerId: 'a', scheduledAt: Date.now() + 60_000 });
    assert.equal(typeof id, 'number');
    assert.equal(
      typeof (await kjobs.schedule({ command: PRINT, containerId: 'a' })),
      'number',
      'built-ins are visible in every container',
    );
    // Updating data checks the container the caller names (as KIE's REST API takes one), in the library itself.
    await assert.rejects(kjobs.updateData(id, { x: 1 }, { containerId: 'b' }), (error: Error) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.message, 'No container found for id b');
      return true;
    });
    assert.deepEqual((await kjobs.updateData(id, { x: 1 }, { containerId: 'a' })).requestData, {
      deploymentId: 'a',
      x: 1,
    });
  });

  it('checks list statuses for every caller, with a hint for a comma-separated list', async () => {
    const kjobs = await startKjobs();
    await assert.rejects(
      async () => kjobs.listByStatus({ status: ['QUEUED,ERROR'] }),
      (error: Error) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(
          error.message,
          'Unknown status "QUEUED,ERROR": use QUEUED, RUNNING, DONE, ERROR, RETRYING, CANCELLED; give each status on ' +
            'its own (over HTTP, repeat the parameter: ?status=QUEUED&status=ERROR)',
        );
        return true;
      },
    );
    assert.deepEqual(await kjobs.listByStatus({ status: ['DONE'], pageSize: 10 }), []);
  });

  it('loads a container from an ES module and runs its commands and callbacks', async () => {
    const module = fileURLToPath(new URL('../fixtures/container-acme.mjs', import.meta.url));
    const kjobs = await startKjobs({ containers: { acme: module } });
    const id = await kjobs.schedule({
      command: 'com.acme.Greet',
      containerId: 'acme',
      data: { name: 'Ada', callbacks: 'com.acme.Audit' },
    });
    const job = await kjobs.waitFor(id);
    assert.equal(job.status, 'DONE');
    assert.equal(job.containerId, 'acme');
    assert.deepEqual(job.requestData, { name: 'Ada', callbacks: 'com.acme.Audit', deploymentId: 'acme' });
    assert.deepEqual(job.responseData, { greeting: 'Hello, Ada' });
    await eventually(
      () => (globalThis as { acmeAudit?: unknown[] }).acmeAudit?.length ?? 0,
      (n) => n === 1,
    );
    assert.deepEqual(
      (await kjobs.listByContainer('acme', { status: ['DONE'] })).map((j) => j.id),
      [id],
    );
  });

  it('refuses a container module without a default export map', async () => {
    const folder = tempFolder();
    await assert.rejects(
      createKjobs({
        store: join(folder, 'x.db'),
        containers: { bad: fileURLToPath(new URL('../helpers.ts', import.meta.url)) },
      }),
      /has no default export/,
    );
  });
});

describe('graceful stop', () => {
  it('stops claiming, lets running jobs finish within the deadline, and gives back the rest', async () => {
    let finished = 0;
    const kjobs = await startKjobs({
      executor: { concurrency: 2 },
      commands: {
        quick: async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          finished++;
        },
        stuck: () => new Promise(() => undefined),
      },
    });
    const quick = await kjobs.schedule({ command: 'quick' });
    const stuck = await kjobs.schedule({ command: 'stuck' });
    await eventually(
      () => kjobs.executor!.activeCount,
      (n) => n === 2,
    );
    await kjobs.executor!.stop(300);
    assert.equal(finished, 1);
    assert.equal((await kjobs.get(quick)).status, 'DONE');
    const released = await kjobs.get(stuck);
    assert.equal(released.status, 'QUEUED', 'a job that did not finish is given back, not lost');
    assert.equal(released.executions, 0);
    const later = await kjobs.schedule({ command: 'quick' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await kjobs.get(later)).status, 'QUEUED', 'a stopped executor claims nothing');
  });
});

describe('graceful stop, past the lease', () => {
  it('keeps renewing the leases of jobs that run on while it stops: no other worker rescues them', async () => {
    const kjobs = await startKjobs({
      executor: { heartbeatMs: 200 }, // leases of 300 ms
      commands: { long: () => new Promise((resolve) => setTimeout(() => resolve({ ran: true }), 1000)) },
    });
    // Another worker of the store, which rescues what a lost lease leaves.
    const other = new Executor(kjobs.store, kjobs.registry, { heartbeatMs: 200 });
    await other.start();
    after(() => other.stop(100));
    const id = await kjobs.schedule({ command: 'long' });
    await eventually(
      () => kjobs.executor!.activeCount,
      (n) => n === 1,
    );
    await kjobs.executor!.stop(5000);
    const job = await kjobs.get(id, { withErrors: true, withData: true });
    assert.equal(job.status, 'DONE');
    assert.equal(job.executions, 1, 'run once');
    assert.deepEqual(job.errors, [], 'never rescued');
    assert.deepEqual(job.responseData, { ran: true });
  });
});

describe('commands that misbehave', () => {
  it('survives a command that calls process.exit, recording the attempt as failed', async () => {
    const kjobs = await startKjobs({
      commands: {
        quitter: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          process.exit(3);
        },
        fine: () => ({ ok: true }),
      },
    });
    const job = await kjobs.waitFor(await kjobs.schedule({ command: 'quitter', data: { retries: 0 } }));
    assert.equal(job.status, 'ERROR');
    assert.match(job.errors?.[0]?.message ?? '', /called process.exit\(3\)/);
    const after = await kjobs.waitFor(await kjobs.schedule({ command: 'fine' }));
    assert.equal(after.status, 'DONE', 'the executor still runs jobs');
  });

  it('survives a command that throws something that is not an Error', async () => {
    const kjobs = await startKjobs({
      commands: {
        throwsString: () => {
          throw 'plain string';
        },
      },
    });
    const job = await kjobs.waitFor(await kjobs.schedule({ command: 'throwsString', data: { retries: 0 } }));
    assert.equal(job.errors?.[0]?.message, 'plain string');
  });
});

describe('prefetch', () => {
  it('holds claimed jobs ahead of free slots, and gives them back unrun on stop', async () => {
    const kjobs = await startKjobs({
      executor: { concurrency: 1, prefetch: 3 },
      commands: { slow: () => new Promise((resolve) => setTimeout(resolve, 200)) },
    });
    const ids = await kjobs.scheduleMany(Array.from({ length: 6 }, () => ({ command: 'slow' })));
    const counts = await eventually(
      () => kjobs.countByStatus(),
      (c) => c.RUNNING === 4,
    );
    assert.equal(
      counts.QUEUED,
      2,
      'one running and three prefetched are claimed; the rest wait for other workers',
    );
    assert.equal(kjobs.executor!.activeCount, 1, 'only one runs at a time');
    await kjobs.executor!.stop(1000);
    const jobs = await Promise.all(ids.map((id) => kjobs.get(id)));
    assert.equal(jobs.filter((job) => job.status === 'DONE').length, 1);
    assert.deepEqual(
      jobs.filter((job) => job.status !== 'DONE').map((job) => [job.status, job.executions]),
      Array.from({ length: 5 }, () => ['QUEUED', 0]),
    );
  });

  it("'auto' prefetches nothing while runs are long", async () => {
    const kjobs = await startKjobs({
      executor: { concurrency: 1 },
      commands: { slow: () => new Promise((resolve) => setTimeout(resolve, 60)) },
    });
    await kjobs.scheduleMany(Array.from({ length: 5 }, () => ({ command: 'slow' })));
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, (await kjobs.countByStatus()).RUNNING);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(peak, 1);
  });
});
