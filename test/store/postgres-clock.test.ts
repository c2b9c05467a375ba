// On PostgreSQL the database's clock decides every lease, due time and rescue (issue 19): a node whose clock is
// minutes off neither rescues a live node's jobs nor starts a job early, and a node behind still runs and rescues
// on time. Each node gets an injected clock (KjobsOptions.clock).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { offsetClock, type Clock } from '../../src/core/index.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { Command } from '../../src/commands/command.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { RetentionSweeper } from '../../src/executor/retention.js';
import pino from 'pino';
import { eventually } from '../helpers.js';
import { freshSchema, openTestStore, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

const MINUTES_10 = 10 * 60_000;

const commands: Record<string, Command> = {
  'test.Hang': ({ signal }) =>
    new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
  'test.Quick': () => ({ ok: true }),
  'test.FailOnce': ({ attempt }) => {
    if (attempt === 1) throw new Error('first attempt fails');
    return { attempt };
  },
};

async function node(schema: string, clock: Clock, executor: boolean, workerId: string): Promise<Kjobs> {
  const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 });
  const kjobs = await createKjobs({
    store,
    clock,
    commands,
    executor: executor ? { heartbeatMs: 1000, pollIntervalMs: 200, workerId } : false,
  });
  await kjobs.start();
  after(async () => {
    await kjobs.stop(100);
    await store.close();
  });
  return kjobs;
}

describe('PostgreSQL decides time on its own clock', { skip: POSTGRES_SKIP }, () => {
  it('a node 10 minutes ahead rescues no live job and starts no job before it is due', async () => {
    const schema = freshSchema('clock');
    const store = await openTestStore({ schema });
    after(() => store.close());
    const onTime = await node(schema, offsetClock(0), true, 'on-time');
    const hanging = await onTime.schedule({ command: 'test.Hang' });
    const held = await eventually(
      () => store.get(hanging),
      (job) => job?.status === 'RUNNING',
    );
    assert.equal(held?.workerId, 'on-time');

    const ahead = await node(schema, offsetClock(MINUTES_10), true, 'ahead');
    const rescued: number[] = [];
    const started: number[] = [];
    ahead.executor!.on('rescued', (job) => rescued.push(job.id));
    ahead.executor!.on('started', (job) => started.push(job.id));
    // Due in a minute by the database's clock (which this machine shares), i.e. 9 minutes ago for `ahead`.
    const future = await onTime.schedule({ command: 'test.Quick', scheduledAt: Date.now() + 60_000 });
    // Due now, scheduled by the node ahead: due at the database's now, so the node on time runs it too.
    const fromAhead = await ahead.schedule({ command: 'test.Quick' });
    await eventually(
      () => store.get(fromAhead),
      (job) => job?.status === 'DONE',
    );

    // Many heartbeats of both nodes: the lease of the hanging job is renewed past 4 s after it was first held.
    await eventually(
      () => store.get(hanging),
      (job) => (job?.leaseExpiresAt ?? 0) > held!.leaseExpiresAt! + 4000,
      20_000,
    );
    const stillHeld = await store.get(hanging, { withErrors: true });
    assert.equal(stillHeld?.status, 'RUNNING');
    assert.equal(stillHeld?.workerId, 'on-time');
    assert.equal(stillHeld?.executions, 1);
    assert.deepEqual(stillHeld?.errors, []);
    assert.deepEqual(rescued, [], 'the node ahead rescued nothing');
    assert.equal((await store.get(future))?.status, 'QUEUED', 'the job due in a minute waits');
    assert.ok(!started.includes(future));
  });

  it('a node 10 minutes behind runs due jobs, retries and rescues on time', async () => {
    const schema = freshSchema('clock');
    const store = await openTestStore({ schema });
    after(() => store.close());
    // A worker that died: its job's lease (1 s, by the database's clock) runs out at once.
    const [lost] = await store.schedule([
      {
        command: 'test.Quick',
        businessKey: null,
        containerId: null,
        processInstanceId: null,
        owner: null,
        priority: 5,
        retries: 3,
        scheduledAt: Date.now(),
        message: 'Ready to execute',
        requestData: {},
      },
    ]);
    const [claimed] = await store.claim({ workerId: 'ghost', limit: 1, now: Date.now(), leaseMs: 1000 });
    assert.equal(claimed?.id, lost);

    const behind = await node(schema, offsetClock(-MINUTES_10), true, 'behind');
    const ahead = await node(schema, offsetClock(MINUTES_10), false, 'api-ahead');
    // Scheduled without a date by a node 10 minutes ahead: due at once for the node behind.
    const quick = await ahead.schedule({ command: 'test.Quick' });
    const retried = await behind.schedule({ command: 'test.FailOnce', data: { retryDelay: '1s' } });
    for (const id of [quick, retried, lost!]) {
      await eventually(
        () => store.get(id),
        (job) => job?.status === 'DONE',
        20_000,
      );
    }
    const rescued = await store.get(lost!, { withErrors: true });
    assert.match(rescued?.errors?.[0]?.message ?? '', /Worker ghost was lost/);
    const retry = await store.get(retried, { withErrors: true });
    assert.equal(retry?.executions, 2);
    assert.ok(
      retry!.errors![0]!.date <= retry!.startedAt! - 900,
      'the retry waited its delay on the database clock',
    );
  });

  it('retention counts its period back from the database clock: a node 10 minutes ahead deletes only old jobs', async () => {
    const schema = freshSchema('clock');
    const store = await openTestStore({ schema });
    after(() => store.close());
    const ahead = await node(schema, offsetClock(MINUTES_10), false, 'api-ahead');
    const recent = await ahead.schedule({ command: 'test.Quick' });
    const old = await ahead.schedule({ command: 'test.Quick' });
    await ahead.cancel(recent);
    await ahead.cancel(old);
    // Finished two minutes ago by the database's clock.
    await store.pool.query(`UPDATE "${schema}".jobs SET finished_at = finished_at - 120000 WHERE id = $1`, [
      old,
    ]);
    const sweeper = new RetentionSweeper(store, {
      retentionMs: 60_000,
      clock: offsetClock(MINUTES_10),
      logger: pino({ level: 'silent' }),
    });
    assert.equal(await sweeper.sweep(), 1);
    assert.equal(await store.get(old), undefined);
    assert.equal((await store.get(recent))?.status, 'CANCELLED', 'finished a moment ago: kept');
  });
  it('rate limits count starts on the database clock: a node 10 minutes ahead still holds them', async () => {
    const schema = freshSchema('clockrate');
    const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 });
    const ahead = await createKjobs({
      store,
      clock: offsetClock(MINUTES_10),
      commands,
      executor: {
        heartbeatMs: 1000,
        pollIntervalMs: 200,
        workerId: 'ahead-rate',
        limits: { rates: { commands: { 'test.Quick': { starts: 3, periodMs: 60_000 } } } },
      },
    });
    await ahead.start();
    after(async () => {
      await ahead.stop(100);
      await store.close();
    });
    const ids = await ahead.scheduleMany(Array.from({ length: 6 }, () => ({ command: 'test.Quick' })));
    const statuses = async () => Promise.all(ids.map(async (id) => (await ahead.get(id)).status));
    await eventually(statuses, (all) => all.filter((status) => status === 'DONE').length >= 3);
    // Several claims later, the window (a minute of the database's time) still holds the other three back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const final = await statuses();
    assert.equal(final.filter((status) => status === 'DONE').length, 3, final.join());
    assert.equal(final.filter((status) => status === 'QUEUED').length, 3, final.join());
  });
});
