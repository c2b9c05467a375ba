/**
 * Dependencies (issue 18), part of the store contract: run by runStoreContract against SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError, type JobReference, type NewJob } from '../../src/core/index.js';
import type { JobStore } from '../../src/store/job-store.js';
import type { ReleaseBudget } from '../../src/store/dependency-release.js';

const WORKER = 'worker-deps';
const LEASE = 60_000;

function job(overrides: Partial<NewJob> = {}): NewJob {
  return {
    command: 'test.Command',
    businessKey: null,
    containerId: null,
    processInstanceId: null,
    owner: null,
    priority: 5,
    retries: 0,
    scheduledAt: Date.now() - 1,
    message: 'Ready to execute',
    requestData: {},
    ...overrides,
  };
}

const child = (dependsOn: JobReference[], overrides: Partial<NewJob> = {}) =>
  job({ dependsOn, ...overrides });

export function dependencyCases(store: () => JobStore): void {
  /** Claims every due job; answers their ids. */
  async function claimAll(): Promise<number[]> {
    const claimed = await store().claim({ workerId: WORKER, limit: 100, now: Date.now(), leaseMs: LEASE });
    return claimed.map((j) => j.id).sort((a, b) => a - b);
  }
  async function finish(id: number, kind: 'succeed' | 'fail', responseData = {}): Promise<void> {
    const now = Date.now();
    const [written] = await store().complete([
      kind === 'succeed'
        ? { kind, jobId: id, workerId: WORKER, now, responseData }
        : {
            kind,
            jobId: id,
            workerId: WORKER,
            now,
            error: { message: 'boom', stacktrace: null },
            retries: 0,
            scheduledAt: now,
          },
    ]);
    assert.equal(written, true, `outcome of job ${id} written`);
  }

  describe('dependencies', () => {
    it('a child waits QUEUED, unclaimable, until every parent is DONE, then is due', async () => {
      const [a, b] = await store().schedule([job(), job()]);
      const [c] = await store().schedule([child([a!, b!])]);
      const waiting = await store().get(c!);
      assert.equal(waiting?.status, 'QUEUED', 'KIE clients see a waiting child as QUEUED');
      assert.equal(waiting?.waitingFor, 2);
      assert.deepEqual(await claimAll(), [a, b], 'the child is not claimed with its parents');
      assert.equal(await store().nextDueIn(0), null, 'a waiting child is not due');
      await finish(a!, 'succeed');
      assert.equal((await store().get(c!))?.waitingFor, 1);
      assert.deepEqual(await claimAll(), [], 'one parent left');
      await finish(b!, 'succeed');
      assert.equal((await store().get(c!))?.waitingFor, 0);
      assert.deepEqual(await claimAll(), [c], 'due once its last parent is DONE');
    });

    it('refuses an unknown parent id with a ValidationError naming it, and schedules nothing', async () => {
      const before = await store().countByStatus();
      await assert.rejects(store().schedule([job(), child([987654321])]), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /987654321/);
        return true;
      });
      assert.deepEqual(await store().countByStatus(), before, 'all or nothing');
    });

    it('links a batch to its own earlier jobs (fan-out, fan-in) in one call', async () => {
      const [root, left, right, join] = await store().schedule([
        job(),
        child([{ earlier: 1 }]),
        child([{ earlier: 2 }]),
        child([{ earlier: 2 }, { earlier: 1 }]),
      ]);
      assert.deepEqual(await claimAll(), [root]);
      await finish(root!, 'succeed', { from: 'root' });
      assert.deepEqual(await claimAll(), [left, right]);
      await finish(left!, 'succeed');
      assert.deepEqual(await claimAll(), []);
      await finish(right!, 'succeed');
      assert.deepEqual(await claimAll(), [join]);
      const links = await store().dependencies(join!, { withData: true });
      assert.deepEqual(
        links.parents.map((p) => p.id),
        [left, right],
      );
      const rootLinks = await store().dependencies(root!);
      assert.deepEqual(
        rootLinks.children.map((c) => c.id),
        [left, right],
      );
      assert.deepEqual(rootLinks.parents, []);
      const leftLinks = await store().dependencies(left!, { withData: true });
      assert.deepEqual(leftLinks.parents[0]?.responseData, { from: 'root' }, 'parents come with their data');
    });

    it("a parent's ERROR cancels its waiting children, and theirs, with an error naming the parent", async () => {
      const [parent, kid, grandkid, runner] = await store().schedule([
        job(),
        child([{ earlier: 1 }]),
        child([{ earlier: 1 }]),
        child([{ earlier: 3 }], { onParentFailure: 'run' }),
      ]);
      assert.deepEqual(await claimAll(), [parent]);
      await finish(parent!, 'fail');
      const k = await store().get(kid!, { withErrors: true });
      assert.equal(k?.status, 'CANCELLED');
      assert.ok(k?.finishedAt);
      assert.equal(k?.errors?.[0]?.message, `Parent job ${parent} ended ERROR`);
      const g = await store().get(grandkid!, { withErrors: true });
      assert.equal(g?.status, 'CANCELLED', 'the cancellation goes down the chain');
      assert.equal(g?.errors?.[0]?.message, `Parent job ${kid} ended CANCELLED`);
      assert.deepEqual(await claimAll(), [runner], 'onParentFailure "run": runs anyway');
    });

    it('cancelling a parent cancels its children; a child scheduled on an ended parent is decided at once', async () => {
      const [parent] = await store().schedule([job({ scheduledAt: Date.now() + 3_600_000 })]);
      const [kid] = await store().schedule([child([parent!])]);
      await store().cancel(parent!, Date.now());
      assert.equal((await store().get(kid!))?.status, 'CANCELLED');
      const [late, lateRunner] = await store().schedule([
        child([parent!]),
        child([parent!], { onParentFailure: 'run' }),
      ]);
      const lateJob = await store().get(late!, { withErrors: true });
      assert.equal(lateJob?.status, 'CANCELLED');
      assert.equal(lateJob?.errors?.[0]?.message, `Parent job ${parent} ended CANCELLED`);
      assert.equal((await store().get(lateRunner!))?.waitingFor, 0);
      const [done] = await store().schedule([job({ scheduledAt: 1 })]);
      assert.deepEqual(await claimAll(), [lateRunner, done]);
      await finish(done!, 'succeed');
      const [afterDone] = await store().schedule([child([done!])]);
      assert.deepEqual(await claimAll(), [afterDone], 'a DONE parent does not hold its child');
    });

    it('a retried parent holds its children until it is DONE; a requeued waiting child still waits', async () => {
      const [parent] = await store().schedule([job({ retries: 1 })]);
      const [kid] = await store().schedule([child([parent!])]);
      assert.deepEqual(await claimAll(), [parent]);
      const now = Date.now();
      await store().complete([
        {
          kind: 'retry',
          jobId: parent!,
          workerId: WORKER,
          now,
          error: { message: 'x', stacktrace: null },
          retries: 0,
          scheduledAt: now - 1,
        },
      ]);
      assert.equal((await store().get(kid!))?.status, 'QUEUED');
      await store().requeue(kid!, Date.now());
      assert.deepEqual(await claimAll(), [parent], 'the child still waits');
      await finish(parent!, 'succeed');
      assert.deepEqual(await claimAll(), [kid]);
    });

    /** Runs the background release until nothing is left; answers how many transactions it took. */
    async function releaseAll(budget?: ReleaseBudget): Promise<number> {
      for (let rounds = 1; rounds <= 10_000; rounds++) {
        if (!(await store().releasePending(budget)).more) return rounds;
      }
      throw new Error('the release never ended');
    }

    /** A chain scheduled in batches of `$n` links: each job depends on the one before it. */
    async function chain(length: number, first: Partial<NewJob> = {}): Promise<number[]> {
      const [root] = await store().schedule([job(first)]);
      const ids = [root!];
      while (ids.length < length) {
        const size = Math.min(500, length - ids.length);
        const batch = [
          child([ids.at(-1)!]),
          ...Array.from({ length: size - 1 }, () => child([{ earlier: 1 }])),
        ];
        ids.push(...(await store().schedule(batch)));
      }
      return ids;
    }

    it('a chain 1,000 deep whose root fails: the outcome is written, the release goes on in bounded steps, all end CANCELLED', async () => {
      const ids = await chain(1001);
      assert.equal((await store().get(ids.at(-1)!))?.waitingFor, 1);
      assert.deepEqual(await claimAll(), [ids[0]]);
      await finish(ids[0]!, 'fail');
      // What the outcome's own release left: walked by the background release, 50 links a transaction.
      const rounds = await releaseAll({ steps: 50, links: 50 });
      assert.ok(rounds > 1, `the rest took more than one transaction (${rounds})`);
      const counts = await store().countByStatus();
      assert.equal(counts.CANCELLED, 1000, 'every descendant cancelled');
      assert.equal(counts.QUEUED, 0);
      const last = await store().get(ids.at(-1)!, { withErrors: true });
      assert.equal(last?.errors?.[0]?.message, `Parent job ${ids.at(-2)} ended CANCELLED`);
      assert.deepEqual(await store().releasePending(), { links: 0, cancelled: 0, released: 0, more: false });
    });

    it('a chain whose root succeeds runs link by link; a dense graph cancelled at its root ends whole', async () => {
      const ids = await chain(5);
      for (const id of ids) {
        assert.deepEqual(await claimAll(), [id], 'one link at a time');
        await finish(id, 'succeed');
      }
      const [root] = await store().schedule([job({ scheduledAt: Date.now() + 3_600_000 })]);
      // 60 jobs, each waiting for every job before it (1,770 links): more than the release right after an end.
      const dense = await store().schedule(
        Array.from({ length: 60 }, (_, n) =>
          child([root!, ...Array.from({ length: n }, (_, k) => ({ earlier: k + 1 }))]),
        ),
      );
      await store().cancel(root!, Date.now());
      await releaseAll();
      for (const id of dense) assert.equal((await store().get(id))?.status, 'CANCELLED', `job ${id}`);
    });

    it('refuses a job deeper than the depth limit with a ValidationError naming it; the chain below stays', async () => {
      const ids = await chain(4);
      await assert.rejects(
        store().schedule([child([ids[3]!])], { maxDependencyDepth: 3 }),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.match(error.message, /4 parents deep.*limit of 3.*--max-dependency-depth/);
          return true;
        },
      );
      const [ok] = await store().schedule([child([ids[2]!])], { maxDependencyDepth: 3 });
      assert.equal((await store().get(ok!))?.waitingFor, 1, 'depth 3 is within the limit');
    });

    it('keeps a parent whose children are not all released when deleting finished jobs', async () => {
      const [parent] = await store().schedule([job({ scheduledAt: Date.now() + 3_600_000 })]);
      const kids = await store().schedule(Array.from({ length: 1500 }, () => child([parent!])));
      await store().cancel(parent!, Date.now());
      // The release right after the cancel stops at its budget: the parent keeps its mark until the rest is done.
      const deleted = await store().deleteFinished({ olderThan: Date.now() + 60_000, statuses: [] });
      assert.ok(
        (await store().get(parent!)) !== undefined,
        'the parent is kept while its release is pending',
      );
      assert.ok(deleted.jobs > 0, 'its cancelled children are not');
      await releaseAll();
      assert.equal((await store().get(kids.at(-1)!))?.status, 'CANCELLED');
      await store().deleteFinished({ olderThan: Date.now() + 60_000, statuses: [] });
      assert.equal(await store().get(parent!), undefined, 'deleted once released');
    });

    it('many children of one parent are released together by its end', async () => {
      const [parent] = await store().schedule([job()]);
      const kids = await store().schedule(Array.from({ length: 50 }, () => child([parent!])));
      assert.deepEqual(await claimAll(), [parent]);
      await finish(parent!, 'succeed');
      assert.deepEqual(await claimAll(), kids);
    });
  });
}
