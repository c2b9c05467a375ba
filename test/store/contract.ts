/**
 * The contract every JobStore passes: the same cases, run against SQLite and PostgreSQL.
 * A store file calls `runStoreContract(name, open)` where `open` answers a fresh, migrated, empty store.
 */
import assert from 'node:assert/strict';
import { describe, it, beforeEach, afterEach } from 'node:test';
import {
  InvalidStateError,
  JobNotFoundError,
  JOB_STATUSES,
  MESSAGE_READY,
  MESSAGE_REOCCURRING,
  DuplicateJobError,
  type JobStatus,
  type NewJob,
} from '../../src/core/index.js';
import { dependencyCases } from './dependencies-contract.js';
import { progressCases } from './progress-contract.js';
import {
  MAX_ERROR_MESSAGE,
  MAX_ERROR_STACKTRACE,
  type ClaimOptions,
  type JobStore,
} from '../../src/store/job-store.js';

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    command: 'test.Command',
    businessKey: null,
    containerId: null,
    processInstanceId: null,
    owner: null,
    priority: 5,
    retries: 3,
    scheduledAt: Date.now() - 1,
    message: MESSAGE_READY,
    requestData: {},
    ...overrides,
  };
}

const WORKER = 'worker-a';

/**
 * From which statuses KIE lets an operator cancel, requeue and update a job: written out here, not read from
 * core/states.ts, so that a wrong state table fails these cases (KIE's own DELETE of a RUNNING job answers 409).
 */
const ALLOWED_FROM: Readonly<
  Record<'cancel' | 'cancelEvenRunning' | 'requeue' | 'updateData', readonly JobStatus[]>
> = {
  cancel: ['QUEUED', 'RETRYING', 'ERROR'],
  cancelEvenRunning: ['QUEUED', 'RETRYING', 'ERROR', 'RUNNING'],
  requeue: ['QUEUED', 'RETRYING', 'RUNNING', 'ERROR'],
  updateData: ['QUEUED', 'RETRYING', 'ERROR'],
};
const LEASE = 60_000;

/** Schedules one job and moves it into `status` through the store's own operations. */
export async function jobIn(
  store: JobStore,
  status: JobStatus,
  overrides: Partial<NewJob> = {},
): Promise<number> {
  const mustRun = status !== 'QUEUED' && status !== 'CANCELLED';
  // A job that must run is due long ago, so that it is the first claimed, whatever else waits.
  const [id] = await store.schedule([newJob({ ...(mustRun ? { scheduledAt: 1 } : {}), ...overrides })]);
  if (id === undefined) throw new Error('no id');
  if (status === 'QUEUED') return id;
  if (status === 'CANCELLED') {
    await store.cancel(id, Date.now());
    return id;
  }
  const claimed = await store.claim({ workerId: WORKER, limit: 1, now: Date.now(), leaseMs: LEASE });
  assert.deepEqual(
    claimed.map((job) => job.id),
    [id],
    'the job was claimed',
  );
  const now = Date.now();
  if (status === 'RUNNING') return id;
  if (status === 'DONE') {
    await store.complete([{ kind: 'succeed', jobId: id, workerId: WORKER, now, responseData: { ok: true } }]);
  } else {
    await store.complete([
      {
        kind: status === 'RETRYING' ? 'retry' : 'fail',
        jobId: id,
        workerId: WORKER,
        now,
        error: { message: 'boom', stacktrace: 'Error: boom\n    at test' },
        retries: status === 'RETRYING' ? 2 : 0,
        scheduledAt: status === 'RETRYING' ? now + 3_600_000 : now,
      },
    ]);
  }
  return id;
}

export function runStoreContract(
  name: string,
  open: () => Promise<JobStore>,
  options: { skip?: string | false } = {},
): void {
  describe(`JobStore contract: ${name}`, { skip: options.skip }, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('schedule and get', () => {
      it('stores every field of a new job as QUEUED with no executions', async () => {
        const at = Date.now() + 5000;
        const [id] = await store.schedule([
          newJob({
            command: 'com.acme.Send',
            businessKey: 'order-1',
            containerId: 'acme',
            processInstanceId: 42,
            owner: 'node-1',
            priority: 7,
            retries: 2,
            scheduledAt: at,
            requestData: { businessKey: 'order-1', nested: { list: [1, 'two', true, null] }, n: 1.5 },
          }),
        ]);
        const job = await store.get(id!, { withData: true, withErrors: true });
        assert.ok(job);
        assert.equal(job.status, 'QUEUED');
        assert.equal(job.command, 'com.acme.Send');
        assert.equal(job.businessKey, 'order-1');
        assert.equal(job.containerId, 'acme');
        assert.equal(job.processInstanceId, 42);
        assert.equal(job.owner, 'node-1');
        assert.equal(job.priority, 7);
        assert.equal(job.retries, 2);
        assert.equal(job.executions, 0);
        assert.equal(job.scheduledAt, at);
        assert.equal(job.message, MESSAGE_READY);
        assert.deepEqual(job.requestData, {
          businessKey: 'order-1',
          nested: { list: [1, 'two', true, null] },
          n: 1.5,
        });
        assert.equal(job.responseData, null);
        assert.deepEqual(job.errors, []);
        assert.equal(job.workerId, null);
        assert.ok(job.createdAt > 0);
      });

      it('answers ids in order for a batch, all stored', async () => {
        const ids = await store.schedule(
          Array.from({ length: 50 }, (_, i) => newJob({ businessKey: `k${i}` })),
        );
        assert.equal(ids.length, 50);
        for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
        const last = await store.get(ids[49]!);
        assert.equal(last?.businessKey, 'k49');
      });

      it('leaves data, response and errors out unless asked for', async () => {
        const id = await jobIn(store, 'ERROR', { requestData: { a: 1 } });
        const plain = await store.get(id);
        assert.equal(plain?.requestData, undefined);
        assert.equal(plain?.errors, undefined);
        const full = await store.get(id, { withErrors: true, withData: true });
        assert.deepEqual(full?.requestData, { a: 1 });
        assert.equal(full?.errors?.length, 1);
      });

      it('keeps the keys of request and response data in the order given, also after update data', async () => {
        const id = await jobIn(store, 'QUEUED', { requestData: { zeta: 1, alpha: 2, mid: { y: 1, b: 2 } } });
        await store.updateData(id, { beta: 3, zeta: 4 });
        const job = await store.get(id, { withData: true });
        assert.deepEqual(Object.keys(job!.requestData!), ['zeta', 'alpha', 'mid', 'beta']);
        assert.deepEqual(Object.keys(job!.requestData!.mid as object), ['y', 'b']);
        const [claimed] = await store.claim({ workerId: WORKER, limit: 1, now: Date.now(), leaseMs: LEASE });
        await store.complete([
          {
            kind: 'succeed',
            jobId: claimed!.id,
            workerId: WORKER,
            now: Date.now(),
            responseData: { z: 1, a: 2 },
          },
        ]);
        assert.deepEqual(Object.keys((await store.get(id, { withData: true }))!.responseData!), ['z', 'a']);
      });

      it('answers undefined for an unknown id', async () => {
        assert.equal(await store.get(987654), undefined);
      });
    });

    describe('unique jobs', () => {
      it('refuses a unique job while a job with its business key is QUEUED, RUNNING or RETRYING', async () => {
        for (const status of ['QUEUED', 'RUNNING', 'RETRYING'] as const) {
          const key = `unique-${status}`;
          const existing = await jobIn(store, status, { businessKey: key });
          await assert.rejects(
            store.schedule([newJob({ businessKey: key, unique: true })]),
            (error: Error) => {
              assert.ok(error instanceof DuplicateJobError, String(error));
              assert.equal(error.existingJobId, existing);
              return true;
            },
          );
        }
      });

      it('replace and debounce update the waiting job with the key (same id), and refuse while it runs', async () => {
        const [waiting] = await store.schedule([
          newJob({ businessKey: 'r', unique: true, requestData: { n: 1 }, scheduledAt: 5000 }),
        ]);
        const [fresh, replaced] = await store.schedule([
          newJob({ businessKey: 'other', unique: true, onDuplicate: 'replace', requestData: { n: 0 } }),
          newJob({
            businessKey: 'r',
            unique: true,
            onDuplicate: 'replace',
            requestData: { n: 2 },
            scheduledAt: 9,
          }),
        ]);
        assert.equal(replaced, waiting, 'the waiting job keeps its id');
        assert.notEqual(fresh, waiting);
        let job = await store.get(waiting!, { withData: true });
        assert.deepEqual(job?.requestData, { n: 2 });
        assert.equal(job?.scheduledAt, 5000, 'replace keeps the start');
        const [debounced] = await store.schedule([
          newJob({
            businessKey: 'r',
            unique: true,
            onDuplicate: 'debounce',
            requestData: { n: 3 },
            scheduledAt: 7777,
          }),
        ]);
        assert.equal(debounced, waiting);
        job = await store.get(waiting!, { withData: true });
        assert.deepEqual(job?.requestData, { n: 3 });
        assert.equal(job?.scheduledAt, 7777, 'debounce moves the start');
        assert.equal(
          (
            await store.list({
              filter: { by: 'businessKey', value: 'r' },
              statuses: [],
              order: 'asc',
              offset: 0,
              limit: 10,
            })
          ).length,
          1,
        );
        const running = await jobIn(store, 'RUNNING', { businessKey: 'busy' });
        await assert.rejects(
          store.schedule([newJob({ businessKey: 'busy', unique: true, onDuplicate: 'debounce' })]),
          (error: Error) => error instanceof DuplicateJobError && error.existingJobId === running,
        );
      });

      it('accepts a unique job once the others with its key are finished, and non-unique jobs always', async () => {
        await jobIn(store, 'DONE', { businessKey: 'k' });
        await jobIn(store, 'ERROR', { businessKey: 'k' });
        await jobIn(store, 'CANCELLED', { businessKey: 'k' });
        const [id] = await store.schedule([newJob({ businessKey: 'k', unique: true })]);
        assert.equal((await store.get(id!))?.status, 'QUEUED');
        const [plain] = await store.schedule([newJob({ businessKey: 'k' })]);
        assert.equal(
          (await store.get(plain!))?.status,
          'QUEUED',
          'KIE has no uniqueness: only jobs that ask for it are checked',
        );
      });

      it('refuses to requeue a failed unique job while another job with its key is active', async () => {
        const failed = await jobIn(store, 'ERROR', {
          businessKey: 'again',
          unique: true,
          requestData: { unique: true },
        });
        const [next] = await store.schedule([
          newJob({ businessKey: 'again', unique: true, requestData: { unique: true } }),
        ]);
        await assert.rejects(store.requeue(failed, Date.now()), (error: Error) => {
          assert.ok(error instanceof DuplicateJobError, String(error));
          assert.equal(error.existingJobId, next);
          return true;
        });
        assert.equal((await store.get(failed))?.status, 'ERROR');
        await store.cancel(next!, Date.now());
        assert.equal((await store.requeue(failed, Date.now())).status, 'QUEUED');
      });

      it('lets exactly one of many concurrent unique schedules through, and inserts nothing of a refused batch', async () => {
        const attempts = await Promise.allSettled(
          Array.from({ length: 8 }, () => store.schedule([newJob({ businessKey: 'race', unique: true })])),
        );
        assert.equal(attempts.filter((attempt) => attempt.status === 'fulfilled').length, 1);
        await assert.rejects(
          store.schedule([newJob({ businessKey: 'other' }), newJob({ businessKey: 'race', unique: true })]),
          DuplicateJobError,
        );
        const others = await store.list({
          filter: { by: 'businessKey', value: 'other' },
          statuses: [],
          order: 'asc',
          offset: 0,
          limit: 10,
        });
        assert.deepEqual(others, [], 'a batch is scheduled atomically');
      });
    });

    describe('list', () => {
      it('filters by each column and by statuses, ordered by id and paged', async () => {
        const a = await jobIn(store, 'QUEUED', {
          businessKey: 'k',
          command: 'c1',
          containerId: 'x',
          processInstanceId: 1,
        });
        const b = await jobIn(store, 'DONE', {
          businessKey: 'k',
          command: 'c1',
          containerId: 'x',
          processInstanceId: 1,
        });
        const c = await jobIn(store, 'QUEUED', {
          businessKey: 'other',
          command: 'c2',
          containerId: 'y',
          processInstanceId: 2,
        });
        const ids = async (query: Parameters<JobStore['list']>[0]) =>
          (await store.list(query)).map((job) => job.id);
        const page = { offset: 0, limit: 10 };
        assert.deepEqual(
          await ids({ filter: { by: 'businessKey', value: 'k' }, statuses: [], order: 'asc', ...page }),
          [a, b],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'command', value: 'c1' }, statuses: ['DONE'], order: 'asc', ...page }),
          [b],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'container', value: 'x' }, statuses: ['QUEUED'], order: 'asc', ...page }),
          [a],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'processInstance', value: 2 }, statuses: [], order: 'asc', ...page }),
          [c],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'status' }, statuses: ['QUEUED'], order: 'desc', ...page }),
          [c, a],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'status' }, statuses: ['QUEUED', 'DONE'], order: 'asc', ...page }),
          [a, b, c],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'status' }, statuses: [], order: 'asc', offset: 1, limit: 1 }),
          [b],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'status' }, statuses: [], order: 'asc', offset: 3, limit: 10 }),
          [],
        );
        assert.deepEqual(
          await ids({ filter: { by: 'businessKey', value: 'none' }, statuses: [], order: 'asc', ...page }),
          [],
        );
      });

      it('never carries data or errors', async () => {
        await jobIn(store, 'ERROR', { requestData: { secret: 1 } });
        const [job] = await store.list({
          filter: { by: 'status' },
          statuses: ['ERROR'],
          order: 'asc',
          offset: 0,
          limit: 10,
        });
        assert.equal(job?.requestData, undefined);
        assert.equal(job?.errors, undefined);
      });
    });

    describe('claim', () => {
      it('claims only due QUEUED and RETRYING jobs, by priority then time, and marks them RUNNING', async () => {
        const now = Date.now();
        const [low, high, later, future] = await store.schedule([
          newJob({ priority: 1, scheduledAt: now - 3000 }),
          newJob({ priority: 9, scheduledAt: now - 1000 }),
          newJob({ priority: 9, scheduledAt: now - 500 }),
          newJob({ priority: 9, scheduledAt: now + 60_000 }),
        ]);
        const claimed = await store.claim({ workerId: WORKER, limit: 10, now, leaseMs: LEASE });
        assert.deepEqual(
          claimed.map((job) => job.id),
          [high, later, low],
        );
        for (const job of claimed) {
          assert.equal(job.status, 'RUNNING');
          assert.equal(job.executions, 1);
          assert.equal(job.workerId, WORKER);
          assert.equal(job.leaseExpiresAt, now + LEASE);
          assert.equal(job.scheduledAt, now, 'the scheduled time moves to the start of the run, as in KIE');
          assert.deepEqual(job.requestData, {});
        }
        const stored = await store.get(future!);
        assert.equal(stored?.status, 'QUEUED');
        assert.deepEqual(await store.claim({ workerId: WORKER, limit: 10, now, leaseMs: LEASE }), []);
      });

      it('claims the best jobs first when more are due than the limit: priority, then due time, then id', async () => {
        const now = Date.now();
        // Scheduled in a shuffled order; the expected order is written out.
        const specs: [name: string, priority: number, dueAgo: number][] = [
          ['p5-old', 5, 9000],
          ['p9-new', 9, 100],
          ['p1-oldest', 1, 99_000],
          ['p9-old', 9, 5000],
          ['p5-new', 5, 200],
          ['p7', 7, 1000],
          ['p9-tie-a', 9, 3000],
          ['p0', 0, 50_000],
          ['p9-tie-b', 9, 3000],
        ];
        const ids = await store.schedule(
          specs.map(([, priority, dueAgo]) => newJob({ priority, scheduledAt: now - dueAgo })),
        );
        const nameOf = new Map(ids.map((id, n) => [id, specs[n]![0]]));
        const claimNames = async (limit: number, limits?: ClaimOptions['limits']) =>
          (
            await store.claim({ workerId: WORKER, limit, now, leaseMs: LEASE, ...(limits ? { limits } : {}) })
          ).map((job) => nameOf.get(job.id));
        assert.deepEqual(await claimNames(3), ['p9-old', 'p9-tie-a', 'p9-tie-b']);
        // The same order through the claim with limits (a limit that holds nothing back).
        assert.deepEqual(await claimNames(3, { commands: { 'test.Command': 100 } }), [
          'p9-new',
          'p7',
          'p5-old',
        ]);
        assert.deepEqual(await claimNames(10), ['p5-new', 'p1-oldest', 'p0']);
      });

      it('respects the limit', async () => {
        await store.schedule(Array.from({ length: 5 }, () => newJob()));
        const first = await store.claim({ workerId: WORKER, limit: 2, now: Date.now(), leaseMs: LEASE });
        const second = await store.claim({ workerId: WORKER, limit: 10, now: Date.now(), leaseMs: LEASE });
        assert.equal(first.length, 2);
        assert.equal(second.length, 3);
      });

      it('never gives the same job to two concurrent claims', async () => {
        await store.schedule(Array.from({ length: 60 }, () => newJob()));
        const results = await Promise.all(
          ['w1', 'w2', 'w3', 'w4'].map((workerId) =>
            store.claim({ workerId, limit: 20, now: Date.now(), leaseMs: LEASE }),
          ),
        );
        const ids = results.flat().map((job) => job.id);
        assert.equal(ids.length, 60);
        assert.equal(new Set(ids).size, 60);
      });

      it('claims RETRYING jobs once their retry is due', async () => {
        const id = await jobIn(store, 'RETRYING'); // due in an hour
        assert.deepEqual(
          await store.claim({ workerId: WORKER, limit: 1, now: Date.now(), leaseMs: LEASE }),
          [],
        );
        const [job] = await store.claim({
          workerId: WORKER,
          limit: 1,
          now: Date.now() + 3_600_001,
          leaseMs: LEASE,
        });
        assert.equal(job?.id, id);
        assert.equal(job?.executions, 2);
      });

      it('leaves jobs of other owners, other containers and excluded commands', async () => {
        const [mine, other, unowned, inX, inY, excluded] = await store.schedule([
          newJob({ owner: 'me' }),
          newJob({ owner: 'someone-else' }),
          newJob(),
          newJob({ containerId: 'x' }),
          newJob({ containerId: 'y' }),
          newJob({ command: 'limited' }),
        ]);
        const claimed = await store.claim({
          workerId: WORKER,
          limit: 10,
          now: Date.now(),
          leaseMs: LEASE,
          owner: 'me',
          containers: ['x'],
          excludeCommands: ['limited'],
        });
        assert.deepEqual(
          claimed.map((job) => job.id).sort((a, b) => a - b),
          [mine, unowned, inX],
        );
        for (const id of [other, inY, excluded]) assert.equal((await store.get(id!))?.status, 'QUEUED');
      });
    });

    describe('concurrency limits', () => {
      it('claims no more jobs of a command or container than its limit leaves, counting what already runs', async () => {
        await store.schedule([
          ...Array.from({ length: 4 }, () => newJob({ command: 'mail' })),
          ...Array.from({ length: 4 }, () => newJob({ command: 'report', containerId: 'acme' })),
          ...Array.from({ length: 2 }, () => newJob({ command: 'free' })),
        ]);
        const limits = { commands: { mail: 2 }, containers: { acme: 1 } };
        const first = await store.claim({
          workerId: 'w1',
          limit: 10,
          now: Date.now(),
          leaseMs: LEASE,
          limits,
        });
        const count = (jobs: { command: string }[], command: string) =>
          jobs.filter((job) => job.command === command).length;
        assert.equal(count(first, 'mail'), 2);
        assert.equal(count(first, 'report'), 1);
        assert.equal(count(first, 'free'), 2);
        const second = await store.claim({
          workerId: 'w2',
          limit: 10,
          now: Date.now(),
          leaseMs: LEASE,
          limits,
        });
        assert.deepEqual(second, [], 'the limits count jobs RUNNING on other workers');
        const mail = first.find((job) => job.command === 'mail')!;
        await store.complete([
          { kind: 'succeed', jobId: mail.id, workerId: 'w1', now: Date.now(), responseData: {} },
        ]);
        const third = await store.claim({
          workerId: 'w2',
          limit: 10,
          now: Date.now(),
          leaseMs: LEASE,
          limits,
        });
        assert.deepEqual(
          third.map((job) => job.command),
          ['mail'],
        );
      });

      it('keeps limits under concurrent claims', async () => {
        await store.schedule(Array.from({ length: 20 }, () => newJob({ command: 'mail' })));
        const limits = { commands: { mail: 3 } };
        const claims = await Promise.all(
          ['a', 'b', 'c', 'd'].map((workerId) =>
            store.claim({ workerId, limit: 5, now: Date.now(), leaseMs: LEASE, limits }),
          ),
        );
        assert.equal(claims.flat().length, 3);
      });
    });

    describe('pause and resume', () => {
      it('leaves the jobs of a paused command or container QUEUED until resumed, with or without limits', async () => {
        const [mail, report, free] = await store.schedule([
          newJob({ command: 'mail' }),
          newJob({ command: 'report', containerId: 'acme' }),
          newJob({ command: 'free' }),
        ]);
        await store.pause({ kind: 'command', name: 'mail' }, 1000);
        await store.pause({ kind: 'container', name: 'acme' }, 2000);
        await store.pause({ kind: 'container', name: 'acme' }, 3000);
        assert.deepEqual(await store.listPaused(), [
          { kind: 'command', name: 'mail', pausedAt: 1000 },
          { kind: 'container', name: 'acme', pausedAt: 2000 },
        ]);
        const claim = (workerId: string, limits?: { commands: Record<string, number> }) =>
          store.claim({
            workerId,
            limit: 10,
            now: Date.now(),
            leaseMs: LEASE,
            ...(limits ? { limits } : {}),
          });
        assert.deepEqual(
          (await claim('w1')).map((job) => job.id),
          [free],
        );
        assert.deepEqual(await claim('w1', { commands: { mail: 5 } }), [], 'also with limits');
        assert.equal(await store.resume({ kind: 'command', name: 'mail' }), true);
        assert.equal(await store.resume({ kind: 'command', name: 'mail' }), false, 'no longer paused');
        assert.deepEqual(
          (await claim('w2')).map((job) => job.id),
          [mail],
        );
        await store.resume({ kind: 'container', name: 'acme' });
        assert.deepEqual(
          (await claim('w3', { commands: { mail: 5 } })).map((job) => job.id),
          [report],
        );
        assert.deepEqual(await store.listPaused(), []);
      });
    });

    describe('rate limits', () => {
      it('starts at most N jobs of a command or container in any period, counting starts of other workers', async () => {
        await store.schedule([
          ...Array.from({ length: 5 }, () => newJob({ command: 'mail' })),
          ...Array.from({ length: 5 }, () => newJob({ command: 'report', containerId: 'acme' })),
        ]);
        const limits = {
          rates: {
            commands: { mail: { starts: 2, periodMs: 1000 } },
            containers: { acme: { starts: 3, periodMs: 1000 } },
          },
        };
        const t0 = Date.now();
        const reports: { rateOpensAt: number | null }[] = [];
        const claim = (workerId: string, now: number) =>
          store.claim({
            workerId,
            limit: 10,
            now,
            leaseMs: LEASE,
            limits,
            onLimits: (report) => reports.push(report),
          });
        const first = await claim('w1', t0);
        const count = (jobs: { command: string }[], command: string) =>
          jobs.filter((job) => job.command === command).length;
        assert.equal(count(first, 'mail'), 2);
        assert.equal(count(first, 'report'), 3);
        assert.equal(reports.at(-1)?.rateOpensAt, t0 + 1000, 'the windows open again one period after');
        // Finished jobs still count: a rate limit counts starts, not running jobs.
        await store.complete(
          first.map((job) => ({
            kind: 'succeed' as const,
            jobId: job.id,
            workerId: 'w1',
            now: t0,
            responseData: {},
          })),
        );
        assert.deepEqual(await claim('w2', t0 + 999), [], 'nothing starts before the window opens');
        const later = await claim('w2', t0 + 1000);
        assert.equal(count(later, 'mail'), 2);
        assert.equal(count(later, 'report'), 2);
      });

      it('keeps rate limits under concurrent claims', async () => {
        await store.schedule(Array.from({ length: 20 }, () => newJob({ command: 'mail' })));
        const limits = { rates: { commands: { mail: { starts: 3, periodMs: 60_000 } } } };
        const claims = await Promise.all(
          ['a', 'b', 'c', 'd'].map((workerId) =>
            store.claim({ workerId, limit: 5, now: Date.now(), leaseMs: LEASE, limits }),
          ),
        );
        assert.equal(claims.flat().length, 3);
      });
    });

    describe('key limits', () => {
      it('runs at most N jobs per concurrencyKey value, so a small key is not starved by a large one', async () => {
        await store.schedule([
          ...Array.from({ length: 20 }, () =>
            newJob({ command: 'sync', requestData: { concurrencyKey: 'A' } }),
          ),
          ...Array.from({ length: 2 }, () =>
            newJob({ command: 'sync', requestData: { concurrencyKey: 'B' } }),
          ),
          newJob({ command: 'sync' }),
        ]);
        const limits = { keys: { all: 2 } };
        const reports: { uses: { kind: string; name: string; heldBack: number }[] }[] = [];
        const first = await store.claim({
          workerId: 'w1',
          limit: 5,
          now: Date.now(),
          leaseMs: LEASE,
          limits,
          onLimits: (report) => reports.push(report),
        });
        const keys = first.map((job) => job.requestData.concurrencyKey ?? '-').sort();
        assert.deepEqual(keys, ['-', 'A', 'A', 'B', 'B']);
        assert.ok(
          reports[0]!.uses.some((use) => use.kind === 'key' && use.name === 'A' && use.heldBack > 0),
          'the report names the key that held jobs back',
        );
        const second = await store.claim({
          workerId: 'w2',
          limit: 5,
          now: Date.now(),
          leaseMs: LEASE,
          limits,
        });
        assert.deepEqual(second, [], 'the running jobs of other workers count');
        const perCommand = await store.claim({
          workerId: 'w2',
          limit: 5,
          now: Date.now(),
          leaseMs: LEASE,
          limits: { keys: { commands: { sync: 3 } } },
        });
        assert.deepEqual(
          perCommand.map((job) => job.requestData.concurrencyKey),
          ['A'],
          "a per-command key limit counts that command's jobs",
        );
      });
    });

    describe('complete', () => {
      it('records success: DONE with response data', async () => {
        const id = await jobIn(store, 'RUNNING');
        const now = Date.now();
        const [written] = await store.complete([
          { kind: 'succeed', jobId: id, workerId: WORKER, now, responseData: { total: 3 } },
        ]);
        assert.equal(written, true);
        const job = await store.get(id, { withData: true });
        assert.equal(job?.status, 'DONE');
        assert.deepEqual(job?.responseData, { total: 3 });
        assert.equal(job?.finishedAt, now);
        assert.equal(job?.workerId, null);
      });

      it('records a failure with retries left: RETRYING, one retry fewer, due later, one error record', async () => {
        const id = await jobIn(store, 'RUNNING');
        const now = Date.now();
        await store.complete([
          {
            kind: 'retry',
            jobId: id,
            workerId: WORKER,
            now,
            error: { message: 'first', stacktrace: 'Error: first' },
            retries: 2,
            scheduledAt: now + 1000,
          },
        ]);
        const job = await store.get(id, { withErrors: true });
        assert.equal(job?.status, 'RETRYING');
        assert.equal(job?.retries, 2);
        assert.equal(job?.scheduledAt, now + 1000);
        assert.equal(job?.finishedAt, null);
        assert.equal(job?.errors?.length, 1);
        assert.deepEqual(
          job?.errors?.map(({ jobId, message, stacktrace, date }) => ({ jobId, message, stacktrace, date })),
          [{ jobId: id, message: 'first', stacktrace: 'Error: first', date: now }],
        );
      });

      it('records the last failure: ERROR, errors in order across attempts', async () => {
        const id = await jobIn(store, 'RETRYING');
        const [claimed] = await store.claim({
          workerId: WORKER,
          limit: 1,
          now: Date.now() + 3_600_001,
          leaseMs: LEASE,
        });
        assert.equal(claimed?.id, id);
        const now = Date.now();
        await store.complete([
          {
            kind: 'fail',
            jobId: id,
            workerId: WORKER,
            now,
            error: { message: 'second', stacktrace: null },
            retries: 0,
            scheduledAt: claimed!.scheduledAt,
          },
        ]);
        const job = await store.get(id, { withErrors: true });
        assert.equal(job?.status, 'ERROR');
        assert.equal(job?.executions, 2);
        assert.deepEqual(
          job?.errors?.map((error) => error.message),
          ['boom', 'second'],
        );
        assert.ok(job!.errors![0]!.id < job!.errors![1]!.id);
        assert.equal(job?.finishedAt, now);
      });

      it('trims error messages and stack traces as KIE does', async () => {
        const id = await jobIn(store, 'RUNNING');
        await store.complete([
          {
            kind: 'fail',
            jobId: id,
            workerId: WORKER,
            now: Date.now(),
            error: { message: 'm'.repeat(1000), stacktrace: 's'.repeat(10_000) },
            retries: 0,
            scheduledAt: Date.now(),
          },
        ]);
        const [error] = (await store.get(id, { withErrors: true }))!.errors!;
        assert.equal(error?.message?.length, MAX_ERROR_MESSAGE);
        assert.equal(error?.stacktrace?.length, MAX_ERROR_STACKTRACE);
      });

      it('does not overwrite a job the worker no longer holds (fenced)', async () => {
        const id = await jobIn(store, 'RUNNING');
        const [wrongWorker] = await store.complete([
          { kind: 'succeed', jobId: id, workerId: 'someone-else', now: Date.now(), responseData: {} },
        ]);
        assert.equal(wrongWorker, false);
        await store.requeue(id, Date.now());
        const [afterRequeue] = await store.complete([
          {
            kind: 'fail',
            jobId: id,
            workerId: WORKER,
            now: Date.now(),
            error: { message: 'late', stacktrace: null },
            retries: 0,
            scheduledAt: Date.now(),
          },
        ]);
        assert.equal(afterRequeue, false);
        const job = await store.get(id, { withErrors: true });
        assert.equal(job?.status, 'QUEUED');
        assert.deepEqual(job?.errors, []);
      });

      it('refuses a failure or retry from a worker that lost the job to another one (fenced on the worker)', async () => {
        const id = await jobIn(store, 'RUNNING');
        // The job goes back and another worker takes it: RUNNING again, under worker-b.
        await store.requeue(id, Date.now());
        const [taken] = await store.claim({
          workerId: 'worker-b',
          limit: 1,
          now: Date.now(),
          leaseMs: LEASE,
        });
        assert.equal(taken?.id, id);
        for (const kind of ['fail', 'retry'] as const) {
          const now = Date.now();
          const [written] = await store.complete([
            {
              kind,
              jobId: id,
              workerId: WORKER,
              now,
              error: { message: `late ${kind}`, stacktrace: null },
              retries: 0,
              scheduledAt: now,
            },
          ]);
          assert.equal(written, false, `the first worker's ${kind} is refused`);
        }
        const held = await store.get(id, { withErrors: true });
        assert.equal(held?.status, 'RUNNING');
        assert.equal(held?.workerId, 'worker-b');
        assert.deepEqual(held?.errors, [], 'no error recorded for the lost run');
        const [own] = await store.complete([
          { kind: 'succeed', jobId: id, workerId: 'worker-b', now: Date.now(), responseData: {} },
        ]);
        assert.equal(own, true);
      });

      it('a RUNNING job cancelled by the extension: its worker learns it at renewal, its outcome is refused', async () => {
        const [kept, cancelled] = await store.schedule([
          newJob({ scheduledAt: 1 }),
          newJob({ scheduledAt: 2 }),
        ]);
        await store.claim({ workerId: WORKER, limit: 2, now: Date.now(), leaseMs: LEASE });
        await store.cancel(cancelled!, Date.now(), { evenRunning: true });
        assert.deepEqual(await store.renewLeases(WORKER, [kept!, cancelled!], Date.now(), LEASE), [
          cancelled,
        ]);
        const now = Date.now();
        const written = await store.complete([
          { kind: 'succeed', jobId: cancelled!, workerId: WORKER, now, responseData: { late: true } },
          {
            kind: 'fail',
            jobId: cancelled!,
            workerId: WORKER,
            now,
            error: { message: 'aborted', stacktrace: null },
            retries: 0,
            scheduledAt: now,
          },
        ]);
        assert.deepEqual(written, [false, false]);
        const job = await store.get(cancelled!, { withData: true, withErrors: true });
        assert.equal(job?.status, 'CANCELLED');
        assert.equal(job?.responseData, null);
        assert.deepEqual(job?.errors, []);
        assert.equal((await store.get(kept!))?.status, 'RUNNING', 'the other job is still held');
      });

      it('writes a batch of outcomes at once, each answered', async () => {
        const ids = await store.schedule(Array.from({ length: 3 }, () => newJob()));
        await store.claim({ workerId: WORKER, limit: 3, now: Date.now(), leaseMs: LEASE });
        const written = await store.complete([
          { kind: 'succeed', jobId: ids[0]!, workerId: WORKER, now: Date.now(), responseData: {} },
          { kind: 'succeed', jobId: ids[1]!, workerId: 'nobody', now: Date.now(), responseData: {} },
          { kind: 'release', jobId: ids[2]!, workerId: WORKER, now: Date.now() },
        ]);
        assert.deepEqual(written, [true, false, true]);
        const released = await store.get(ids[2]!);
        assert.equal(released?.status, 'QUEUED');
        assert.equal(released?.executions, 0, 'a released run is not counted');
      });

      it('writes two outcomes of one job in one batch in order: the first wins', async () => {
        const id = await jobIn(store, 'RUNNING');
        const written = await store.complete([
          { kind: 'succeed', jobId: id, workerId: WORKER, now: Date.now(), responseData: { first: true } },
          {
            kind: 'fail',
            jobId: id,
            workerId: WORKER,
            now: Date.now(),
            error: { message: 'second', stacktrace: null },
            retries: 0,
            scheduledAt: Date.now(),
          },
        ]);
        assert.deepEqual(written, [true, false]);
        const job = await store.get(id, { withData: true, withErrors: true });
        assert.equal(job?.status, 'DONE');
        assert.deepEqual(job?.responseData, { first: true });
        assert.deepEqual(job?.errors, []);
      });

      it('records error text of any characters (a NUL may be replaced, the length is kept)', async () => {
        const id = await jobIn(store, 'RUNNING');
        const [written] = await store.complete([
          {
            kind: 'fail',
            jobId: id,
            workerId: WORKER,
            now: Date.now(),
            error: { message: 'bad\u0000byte \u00e9\u{1F600}', stacktrace: 'at \u0000' },
            retries: 0,
            scheduledAt: Date.now(),
          },
        ]);
        assert.equal(written, true);
        const [error] = (await store.get(id, { withErrors: true }))!.errors!;
        assert.equal(error?.message?.length, 'bad\u0000byte \u00e9\u{1F600}'.length);
        assert.ok(error?.message?.startsWith('bad') && error.message.endsWith('byte \u00e9\u{1F600}'));
        assert.equal(error?.stacktrace?.length, 4);
      });

      it('schedules the next occurrence of a reoccurring job with the outcome', async () => {
        const id = await jobIn(store, 'RUNNING', {
          businessKey: 'cron',
          command: 'reoc',
          requestData: { a: 1 },
        });
        const next = Date.now() + 60_000;
        await store.complete([
          {
            kind: 'succeed',
            jobId: id,
            workerId: WORKER,
            now: Date.now(),
            responseData: {},
            reschedule: newJob({
              businessKey: 'cron',
              command: 'reoc',
              scheduledAt: next,
              message: MESSAGE_REOCCURRING,
              requestData: { a: 1 },
            }),
          },
        ]);
        const jobs = await store.list({
          filter: { by: 'businessKey', value: 'cron' },
          statuses: [],
          order: 'asc',
          offset: 0,
          limit: 10,
        });
        assert.deepEqual(
          jobs.map((job) => job.status),
          ['DONE', 'QUEUED'],
        );
        assert.equal(jobs[1]?.message, MESSAGE_REOCCURRING);
        assert.equal(jobs[1]?.scheduledAt, next);
      });
    });

    describe('leases', () => {
      it('renews the leases of held jobs and finds expired ones', async () => {
        const id = await jobIn(store, 'RUNNING');
        const other = await jobIn(store, 'RUNNING');
        const now = Date.now();
        const later = now + 10 * LEASE;
        await store.renewLeases(WORKER, [id], now, 10 * LEASE);
        assert.equal((await store.get(id))?.leaseExpiresAt, later);
        const expired = await store.findExpiredLeases(Date.now() + 2 * LEASE, 10);
        assert.deepEqual(
          expired.map((job) => job.id),
          [other],
        );
        assert.deepEqual(expired[0]?.requestData, {});
        await store.renewLeases('someone-else', [other], now, 10 * LEASE);
        assert.notEqual((await store.get(other))?.leaseExpiresAt, later);
      });

      it('names the workers holding jobs, and ends the leases of one of them', async () => {
        const id = await jobIn(store, 'RUNNING');
        await jobIn(store, 'DONE');
        assert.deepEqual(await store.runningWorkers(), [WORKER]);
        assert.equal(await store.expireLeasesOf('someone-else'), 0);
        assert.deepEqual(await store.findExpiredLeases(Date.now(), 10), []);
        assert.equal(await store.expireLeasesOf(WORKER), 1);
        assert.deepEqual(
          (await store.findExpiredLeases(Date.now(), 10)).map((job) => job.id),
          [id],
        );
      });

      it("holds a worker's lock: not gone while held, held again after release", async () => {
        // A gone worker (its process killed) is shown with real processes in test/executor/rescue.test.ts.
        const lock = await store.holdWorkerLock(WORKER);
        assert.ok(lock, 'a store on a file or a server holds worker locks');
        assert.equal(await store.isWorkerGone(WORKER), false);
        assert.equal(await store.isWorkerGone(WORKER), false, 'looking does not take it');
        await lock.release();
        const again = await store.holdWorkerLock(WORKER);
        assert.ok(again);
        assert.equal(await store.isWorkerGone(WORKER), false);
        await again.release();
      });
    });

    describe('cancel, requeue and update data in every state', () => {
      for (const status of JOB_STATUSES) {
        it(`cancel of a ${status} job follows the state machine`, async () => {
          const id = await jobIn(store, status);
          if (ALLOWED_FROM.cancel.includes(status)) {
            const job = await store.cancel(id, Date.now());
            assert.equal(job.status, 'CANCELLED');
            assert.equal((await store.get(id))?.status, 'CANCELLED');
          } else {
            await assert.rejects(store.cancel(id, Date.now()), InvalidStateError);
            assert.equal((await store.get(id))?.status, status);
          }
        });

        it(`cancel, even running (kjobs extension), of a ${status} job follows the state machine`, async () => {
          const id = await jobIn(store, status);
          if (ALLOWED_FROM.cancelEvenRunning.includes(status)) {
            const job = await store.cancel(id, Date.now(), { evenRunning: true });
            assert.equal(job.status, 'CANCELLED');
            assert.equal(job.workerId, null);
            assert.deepEqual(
              (await store.actionsOf(id)).map((action) => [action.kind, action.fromStatus]),
              [['cancel', status]],
            );
          } else {
            await assert.rejects(store.cancel(id, Date.now(), { evenRunning: true }), InvalidStateError);
            assert.equal((await store.get(id))?.status, status);
          }
        });

        it(`requeue of a ${status} job follows the state machine`, async () => {
          const id = await jobIn(store, status);
          const before = (await store.get(id))!;
          if (ALLOWED_FROM.requeue.includes(status)) {
            const job = await store.requeue(id, Date.now());
            assert.equal(job.status, 'QUEUED');
            assert.equal(job.retries, before.retries, 'retries are not reset, as in KIE');
            assert.equal(job.executions, before.executions);
            assert.equal(job.workerId, null);
          } else {
            await assert.rejects(store.requeue(id, Date.now()), InvalidStateError);
            assert.equal((await store.get(id))?.status, status);
          }
        });

        it(`update data of a ${status} job follows the state machine`, async () => {
          const id = await jobIn(store, status, {
            businessKey: 'bk',
            requestData: { keep: 1, change: 'old' },
          });
          if (ALLOWED_FROM.updateData.includes(status)) {
            await store.updateData(id, { change: 'new', added: [1] });
            const job = await store.get(id, { withData: true });
            assert.deepEqual(job?.requestData, { keep: 1, change: 'new', added: [1] });
            assert.equal(job?.status, status);
          } else {
            await assert.rejects(store.updateData(id, { change: 'new' }), InvalidStateError);
            assert.deepEqual((await store.get(id, { withData: true }))?.requestData, {
              keep: 1,
              change: 'old',
            });
          }
        });
      }

      it('refuses unknown ids with JobNotFoundError', async () => {
        await assert.rejects(store.cancel(424242, Date.now()), JobNotFoundError);
        await assert.rejects(store.requeue(424242, Date.now()), JobNotFoundError);
        await assert.rejects(store.updateData(424242, {}), JobNotFoundError);
      });

      it('does not change indexed columns on update data (as KIE)', async () => {
        const id = await jobIn(store, 'QUEUED', {
          businessKey: 'before',
          requestData: { businessKey: 'before' },
        });
        await store.updateData(id, { businessKey: 'after' });
        assert.equal((await store.get(id))?.businessKey, 'before');
      });
    });

    describe('maintenance queries', () => {
      it('tells when the next waiting job is due', async () => {
        const now = Date.now();
        assert.equal(await store.nextDueIn(now), null);
        const at = now + 12_345;
        await store.schedule([newJob({ scheduledAt: at + 1000 }), newJob({ scheduledAt: at })]);
        await jobIn(store, 'DONE', { scheduledAt: at - 100_000 });
        assert.equal(await store.nextDueIn(now), 12_345);
        // Jobs due at or before the time asked about are left out: the next one due after it counts.
        assert.equal(await store.nextDueIn(at), 1000);
        assert.equal(await store.nextDueIn(at - 1), 1);
        assert.equal(await store.nextDueIn(at + 1000), null);
      });

      it('counts jobs by status', async () => {
        await jobIn(store, 'QUEUED');
        await jobIn(store, 'QUEUED');
        await jobIn(store, 'ERROR');
        const counts = await store.countByStatus();
        assert.deepEqual(counts, { QUEUED: 2, RUNNING: 0, DONE: 0, ERROR: 1, RETRYING: 0, CANCELLED: 0 });
      });

      it('deletes finished jobs older than a time, by status and container, with their errors', async () => {
        const done = await jobIn(store, 'DONE', { containerId: 'x' });
        const error = await jobIn(store, 'ERROR', { containerId: 'x' });
        const otherContainer = await jobIn(store, 'DONE', { containerId: 'y' });
        const queued = await jobIn(store, 'QUEUED', { containerId: 'x' });
        const removed = await store.deleteFinished({
          olderThan: Date.now() + 1000,
          statuses: [],
          containerId: 'x',
        });
        assert.deepEqual(removed, { jobs: 2, errors: 1 });
        assert.equal(await store.get(done), undefined);
        assert.equal(await store.get(error), undefined);
        assert.equal((await store.get(otherContainer))?.status, 'DONE', 'another container: kept');
        assert.equal((await store.get(queued))?.status, 'QUEUED', 'not finished: kept');
        const none = await store.deleteFinished({ olderThan: 0, statuses: ['DONE'] });
        assert.deepEqual(none, { jobs: 0, errors: 0 });
      });

      it('deletes at most `limit` finished jobs at a time (retention batches)', async () => {
        const ids = [
          await jobIn(store, 'DONE'),
          await jobIn(store, 'ERROR'),
          await jobIn(store, 'CANCELLED'),
        ];
        const queued = await jobIn(store, 'QUEUED');
        const query = { olderThan: Date.now() + 1000, statuses: [], limit: 2 };
        assert.equal((await store.deleteFinished(query)).jobs, 2);
        const left = [];
        for (const id of ids) if (await store.get(id)) left.push(id);
        assert.equal(left.length, 1);
        assert.equal((await store.deleteFinished(query)).jobs, 1);
        assert.equal((await store.deleteFinished(query)).jobs, 0);
        assert.ok(await store.get(queued));
      });

      it('deletes the actions of deleted jobs with them', async () => {
        const id = await jobIn(store, 'QUEUED');
        await store.cancel(id, Date.now());
        assert.equal((await store.actionsOf(id)).length, 1);
        await store.deleteFinished({ olderThan: Date.now() + 1000, statuses: [] });
        assert.deepEqual(await store.actionsOf(id), []);
      });
    });

    describe('console: statistics, breakdown, timeline and bulk actions', () => {
      const MINUTE = 60_000;

      it('records each failed attempt with its start, and cancels and requeues as actions', async () => {
        const id = await jobIn(store, 'ERROR');
        const job = await store.get(id, { withErrors: true });
        const [error] = job!.errors!;
        assert.equal(typeof error!.startedAt, 'number');
        assert.equal(error!.startedAt, job!.startedAt, 'the attempt started when the job last started');
        assert.ok(error!.startedAt! <= error!.date);
        await store.requeue(id, 1000);
        await store.cancel(id, 2000);
        assert.deepEqual(await store.actionsOf(id), [
          { kind: 'requeue', at: 1000, fromStatus: 'ERROR' },
          { kind: 'cancel', at: 2000, fromStatus: 'QUEUED' },
        ]);
        // A refused action records nothing.
        await assert.rejects(store.cancel(id, 3000), InvalidStateError);
        assert.equal((await store.actionsOf(id)).length, 2);
      });

      it('samples finished jobs per minute and waiting jobs, and reads minutes back in order', async () => {
        const done = [await jobIn(store, 'DONE'), await jobIn(store, 'DONE')];
        await jobIn(store, 'ERROR');
        await jobIn(store, 'QUEUED');
        await jobIn(store, 'RETRYING');
        await jobIn(store, 'CANCELLED');
        const finishedAt = (await store.get(done[0]!))!.finishedAt!;
        const now = Date.now() + 1;
        const minute = Math.floor(now / MINUTE) * MINUTE;
        await store.recordStats({ now, since: now - 10 * MINUTE, keepBefore: 0, forgetBefore: 0 });
        const rows = await store.readStats(now - 60 * MINUTE, now + MINUTE);
        const finishedMinute = Math.floor(finishedAt / MINUTE) * MINUTE;
        const total = rows.reduce(
          (sum, row) => ({ done: sum.done + row.done, error: sum.error + row.error }),
          {
            done: 0,
            error: 0,
          },
        );
        assert.deepEqual(total, { done: 2, error: 1 });
        assert.ok(rows.some((row) => row.minute === finishedMinute && row.done >= 1));
        assert.equal(rows.find((row) => row.minute === minute)?.waiting, 2, 'QUEUED + RETRYING');
        assert.deepEqual(
          rows.map((row) => row.minute),
          [...rows.map((row) => row.minute)].sort((a, b) => a - b),
        );
        // A later sample of the same minute replaces its numbers; older rows are forgotten.
        await jobIn(store, 'QUEUED');
        await store.recordStats({ now, since: now - 10 * MINUTE, keepBefore: 0, forgetBefore: 0 });
        const again = await store.readStats(minute, minute + MINUTE);
        assert.equal(again[0]?.waiting, 3);
        await store.recordStats({ now, since: now, keepBefore: 0, forgetBefore: minute });
        assert.deepEqual(
          (await store.readStats(0, now + MINUTE)).map((row) => row.minute),
          [minute],
        );
        // Minutes before keepBefore keep their counts even when recomputing would change them.
        const stored = await store.readStats(0, now + MINUTE);
        assert.ok(stored.every((row) => row.minute >= minute));
      });

      it('breaks jobs down by command and container: counts per status and runs since a time', async () => {
        const since = Date.now() - 1;
        await jobIn(store, 'DONE', { command: 'a.Send', containerId: 'acme' });
        await jobIn(store, 'ERROR', { command: 'a.Send', containerId: 'acme' });
        await jobIn(store, 'QUEUED', { command: 'b.Print' });
        const byCommand = await store.breakdown('command', since);
        const counts = (key: string | null) =>
          Object.fromEntries(
            byCommand.counts.filter((row) => row.key === key).map((row) => [row.status, Number(row.n)]),
          );
        assert.deepEqual(counts('a.Send'), { DONE: 1, ERROR: 1 });
        assert.deepEqual(counts('b.Print'), { QUEUED: 1 });
        const runs = byCommand.runs.filter((run) => run.key === 'a.Send');
        assert.deepEqual(runs.map((run) => run.failed).sort(), [false, true]);
        for (const run of runs) assert.ok(run.ms !== null && run.ms >= 0);
        const byContainer = await store.breakdown('container', since);
        assert.deepEqual(byContainer.counts.map((row) => `${row.key}:${row.status}:${row.n}`).sort(), [
          'acme:DONE:1',
          'acme:ERROR:1',
          'null:QUEUED:1',
        ]);
        assert.deepEqual(await store.breakdown('command', Date.now() + 60_000).then((b) => b.runs), []);
      });

      it('cancels jobs by id: the allowed ones change, the others are reported', async () => {
        const queued = await jobIn(store, 'QUEUED');
        const error = await jobIn(store, 'ERROR');
        const done = await jobIn(store, 'DONE');
        const result = await store.bulk({
          event: 'cancel',
          selection: { ids: [done, queued, error, 999_999, queued] },
          now: 5000,
          max: 10,
        });
        assert.equal(result.matched, 4);
        assert.deepEqual(result.changed, [queued, error]);
        assert.deepEqual(
          result.refused.map(({ id, status }) => ({ id, status })),
          [
            { id: done, status: 'DONE' },
            { id: 999_999, status: null },
          ],
        );
        assert.equal((await store.get(queued))?.status, 'CANCELLED');
        assert.equal((await store.get(error))?.finishedAt, 5000);
        assert.equal((await store.get(done))?.status, 'DONE');
        assert.deepEqual(await store.actionsOf(error), [{ kind: 'cancel', at: 5000, fromStatus: 'ERROR' }]);
      });

      it('requeues the ERROR jobs of a filter, and refuses a unique one whose key is active', async () => {
        const a = await jobIn(store, 'ERROR', { command: 'a.Send' });
        const b = await jobIn(store, 'ERROR', { command: 'a.Send' });
        const other = await jobIn(store, 'ERROR', { command: 'b.Print' });
        const doneA = await jobIn(store, 'DONE', { command: 'a.Send' });
        const unique = await jobIn(store, 'ERROR', {
          command: 'a.Send',
          businessKey: 'k-1',
          requestData: { businessKey: 'k-1', unique: true },
        });
        await jobIn(store, 'QUEUED', { command: 'c.Other', businessKey: 'k-1' });
        const result = await store.bulk({
          event: 'requeue',
          selection: { filter: { by: 'command', value: 'a.Send' }, statuses: ['ERROR'] },
          now: 7000,
          max: 10,
        });
        assert.equal(result.matched, 3);
        assert.deepEqual(result.changed, [a, b]);
        assert.deepEqual(
          result.refused.map(({ id, status }) => ({ id, status })),
          [{ id: unique, status: 'ERROR' }],
        );
        assert.match(result.refused[0]!.reason, /already active/);
        for (const id of [a, b]) {
          const job = await store.get(id);
          assert.equal(job?.status, 'QUEUED');
          assert.equal(job?.finishedAt, null);
        }
        assert.equal((await store.get(other))?.status, 'ERROR', 'another command: untouched');
        assert.equal((await store.get(doneA))?.status, 'DONE');
      });

      it('refuses a selection past the limit and changes nothing', async () => {
        const ids = [
          await jobIn(store, 'QUEUED'),
          await jobIn(store, 'QUEUED'),
          await jobIn(store, 'QUEUED'),
        ];
        await assert.rejects(
          store.bulk({ event: 'cancel', selection: { ids }, now: 1, max: 2 }),
          (error: Error) => error.name === 'TooManyJobsError' && /more than 2 jobs/.test(error.message),
        );
        await assert.rejects(
          store.bulk({
            event: 'cancel',
            selection: { filter: { by: 'status' }, statuses: ['QUEUED'] },
            now: 1,
            max: 2,
          }),
          (error: Error) => error.name === 'TooManyJobsError',
        );
        for (const id of ids) assert.equal((await store.get(id))?.status, 'QUEUED');
        const all = await store.bulk({
          event: 'cancel',
          selection: { filter: { by: 'status' }, statuses: ['QUEUED'] },
          now: 1,
          max: 3,
        });
        assert.deepEqual(all.changed, ids);
      });
    });

    dependencyCases(() => store);
    progressCases(() => store);
  });
}
