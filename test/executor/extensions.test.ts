import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronOf, DuplicateJobError, nextCronTime, ValidationError } from '../../src/index.js';
import { eventually, startKjobs } from '../helpers.js';

describe('cron schedules', () => {
  it('validates the expression and the time zone', () => {
    assert.deepEqual(cronOf({ cron: '*/5 * * * *' }), { expression: '*/5 * * * *', timezone: undefined });
    assert.equal(cronOf({})?.expression, undefined);
    for (const data of [
      { cron: 'every day' },
      { cron: '* * *' },
      { cron: 5 },
      { cron: '* * * * *', timezone: 'Mars/Base' },
    ]) {
      assert.throws(() => cronOf(data), ValidationError, JSON.stringify(data));
    }
  });

  it('computes the next occurrence in the given time zone, with seconds when six fields are given', () => {
    const after = Date.UTC(2026, 0, 15, 10, 7, 30);
    assert.equal(
      nextCronTime({ expression: '*/5 * * * *', timezone: undefined }, after),
      Date.UTC(2026, 0, 15, 10, 10),
    );
    assert.equal(
      nextCronTime({ expression: '*/10 * * * * *', timezone: undefined }, after),
      Date.UTC(2026, 0, 15, 10, 7, 40),
    );
    // 09:00 in Paris is 08:00 UTC in January.
    assert.equal(
      nextCronTime({ expression: '0 9 * * *', timezone: 'Europe/Paris' }, after),
      Date.UTC(2026, 0, 16, 8),
    );
  });

  it('runs a cron job at each occurrence until its pending occurrence is cancelled', async () => {
    let runs = 0;
    const kjobs = await startKjobs({ commands: { tick: () => void runs++ } });
    const first = await kjobs.schedule({
      command: 'tick',
      data: { cron: '* * * * * *', businessKey: 'cron1' },
    });
    const firstJob = await kjobs.get(first);
    assert.equal(firstJob.scheduledAt % 1000, 0, 'the first run waits for the first occurrence');
    await eventually(
      () => runs,
      (n) => n >= 2,
      5000,
    );
    const pending = await eventually(
      () => kjobs.listByBusinessKey('cron1', { status: 'QUEUED' }),
      (list) => list.length === 1,
    );
    assert.equal(pending[0]!.message, 'Rescheduled reoccurring job');
    await kjobs.cancel(pending[0]!.id);
    const settled = runs;
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(runs, settled, 'no run after the pending occurrence was cancelled');
    assert.deepEqual(
      await kjobs.listByBusinessKey('cron1', { status: ['QUEUED', 'RUNNING', 'RETRYING'] }),
      [],
    );
  });

  it('runs occurrences missed while nothing ran once, not once per missed occurrence', async () => {
    let runs = 0;
    const kjobs = await startKjobs({ commands: { hourly: () => void runs++ } });
    const id = await kjobs.schedule({
      command: 'hourly',
      scheduledAt: Date.now() - 3 * 3_600_000, // three hours of missed occurrences
      data: { cron: '0 * * * *', businessKey: 'missed' },
    });
    await kjobs.waitFor(id);
    const queued = await eventually(
      () => kjobs.listByBusinessKey('missed', { status: 'QUEUED' }),
      (list) => list.length === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(runs, 1);
    assert.ok(queued[0]!.scheduledAt > Date.now(), 'the next occurrence is in the future');
    assert.equal(new Date(queued[0]!.scheduledAt).getUTCMinutes(), 0);
  });

  it('refuses a bad cron expression when scheduling', async () => {
    const kjobs = await startKjobs({ commands: { x: () => undefined } });
    await assert.rejects(
      kjobs.schedule({ command: 'x', data: { cron: '61 * * * *' } }),
      /Invalid cron expression/,
    );
  });
});

describe('unique jobs', () => {
  it('refuses a second unique job with the same business key while the first is active, naming it', async () => {
    const kjobs = await startKjobs({ commands: { x: () => undefined } });
    const first = await kjobs.schedule({
      command: 'x',
      scheduledAt: Date.now() + 60_000,
      data: { businessKey: 'u1', unique: true },
    });
    await assert.rejects(
      kjobs.schedule({ command: 'x', data: { businessKey: 'u1', unique: true } }),
      (error: Error) => {
        assert.ok(error instanceof DuplicateJobError);
        assert.equal(error.existingJobId, first);
        assert.match(error.message, new RegExp(`job ${first}`));
        return true;
      },
    );
    await kjobs.cancel(first);
    const again = await kjobs.schedule({ command: 'x', data: { businessKey: 'u1', unique: true } });
    assert.equal((await kjobs.get(again)).businessKey, 'u1', 'accepted once the first is cancelled');
    await assert.rejects(
      kjobs.schedule({ command: 'x', data: { unique: true } }),
      /unique jobs need a businessKey/,
    );
    await assert.rejects(
      kjobs.schedule({ command: 'x', data: { businessKey: 'k', unique: 'yes' } }),
      /unique must be true, false, "replace" or "debounce"/,
    );
  });
});

describe('concurrency limits', () => {
  it('never runs more jobs of a limited command at once than its limit', async () => {
    let running = 0;
    let peak = 0;
    const kjobs = await startKjobs({
      executor: { concurrency: 8, limits: { commands: { 'com.acme.SendMail': 2 } } },
      commands: {
        'com.acme.SendMail': async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 30));
          running--;
        },
      },
    });
    const ids = await kjobs.scheduleMany(
      Array.from({ length: 10 }, () => ({ command: 'com.acme.SendMail' })),
    );
    for (const id of ids) assert.equal((await kjobs.waitFor(id)).status, 'DONE');
    assert.equal(peak, 2);
  });
});

describe('group commit of concurrent schedules', () => {
  it('writes concurrent schedule calls together, each keeping its own ids and its own refusal', async () => {
    const kjobs = await startKjobs({ executor: false, commands: { x: () => undefined } });
    const calls: number[] = [];
    const schedule = kjobs.store.schedule.bind(kjobs.store);
    kjobs.store.schedule = (jobs) => {
      calls.push(jobs.length);
      return schedule(jobs);
    };
    await kjobs.schedule({
      command: 'x',
      scheduledAt: Date.now() + 60_000,
      data: { businessKey: 'taken', unique: true },
    });
    calls.length = 0;
    const results = await Promise.allSettled([
      kjobs.schedule({ command: 'x', data: { businessKey: 'a' } }),
      kjobs.scheduleMany([
        { command: 'x', data: { businessKey: 'b1' } },
        { command: 'x', data: { businessKey: 'b2' } },
      ]),
      kjobs.schedule({ command: 'x', data: { businessKey: 'taken', unique: true } }),
      kjobs.schedule({ command: 'x', data: { businessKey: 'c' } }),
    ]);
    assert.equal(calls[0], 5, 'the four calls were written as one insert first');
    assert.equal(results[2]!.status, 'rejected');
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof DuplicateJobError);
    const [a, b, , c] = results.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
    assert.equal((await kjobs.get(a as number)).businessKey, 'a');
    const [b1, b2] = b as number[];
    assert.equal((await kjobs.get(b1!)).businessKey, 'b1');
    assert.equal((await kjobs.get(b2!)).businessKey, 'b2');
    assert.equal((await kjobs.get(c as number)).businessKey, 'c');
    assert.equal((await kjobs.listByBusinessKey('taken')).length, 1);
  });
});
