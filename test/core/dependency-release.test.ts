// The release rule and walk (store/dependency-release.ts) against a small in-memory model of the jobs table: the
// stores' contract (test/store/dependencies-contract.ts) checks their SQL; this checks the walk's bounds and
// decisions, which no store can change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRelease, type JobStatus, type OpenLink } from '../../src/core/index.js';
import { releaseChildren, type ReleaseOperations } from '../../src/store/dependency-release.js';

interface ModelJob {
  status: JobStatus;
  waitingFor: number;
  marked: boolean;
  finishedAt: number | null;
  errors: string[];
}

/** Jobs and links in memory, with the release operations a store would run, counting each call. */
function model() {
  const jobs = new Map<number, ModelJob>();
  const links: (OpenLink & { resolved: boolean })[] = [];
  const calls = { parents: 0, links: 0, apply: 0 };
  const add = (id: number, parents: number[] = [], runOnFailure = false) => {
    jobs.set(id, {
      status: 'QUEUED',
      waitingFor: parents.length,
      marked: false,
      finishedAt: null,
      errors: [],
    });
    for (const parentId of parents) links.push({ parentId, childId: id, runOnFailure, resolved: false });
  };
  const end = (id: number, status: JobStatus, at = 1000) => {
    const job = jobs.get(id)!;
    job.status = status;
    job.finishedAt = at;
    job.marked = links.some((link) => link.parentId === id);
  };
  const operations: ReleaseOperations = {
    parents(ids, limit) {
      calls.parents++;
      return [...jobs.entries()]
        .filter(([id, job]) => job.marked && (ids === null || ids.includes(id)))
        .slice(0, limit)
        .map(([id, job]) => ({ id, status: job.status, finishedAt: job.finishedAt }));
    },
    links(parentIds, limit) {
      calls.links++;
      return links.filter((link) => parentIds.includes(link.parentId) && !link.resolved).slice(0, limit);
    },
    apply(plan, parentIds) {
      calls.apply++;
      let released = 0;
      for (const { childId, by } of plan.decrements) {
        const child = jobs.get(childId)!;
        if (child.waitingFor > 0) {
          child.waitingFor = Math.max(child.waitingFor - by, 0);
          released++;
        }
      }
      const cascade: number[] = [];
      let cancelled = 0;
      for (const { childId, message, at } of plan.cancels) {
        const child = jobs.get(childId)!;
        if (child.status !== 'QUEUED' || child.waitingFor === 0) continue;
        end(childId, 'CANCELLED', at);
        child.errors.push(message);
        cancelled++;
        if (child.marked) cascade.push(childId);
      }
      for (const released of plan.links) {
        links.find((l) => l.parentId === released.parentId && l.childId === released.childId)!.resolved =
          true;
      }
      for (const id of parentIds) {
        const parent = jobs.get(id)!;
        const open = links.some((link) => link.parentId === id && !link.resolved);
        if (!['DONE', 'ERROR', 'CANCELLED'].includes(parent.status) || !open) parent.marked = false;
      }
      return { cascade, cancelled, released };
    },
  };
  return { jobs, links, calls, add, end, operations };
}

describe('the release rule', () => {
  it('DONE counts one parent less; ERROR cancels unless the child runs anyway; one failure is enough', () => {
    const plan = planRelease(
      [
        { id: 1, status: 'DONE', finishedAt: 10 },
        { id: 2, status: 'ERROR', finishedAt: 20 },
        { id: 3, status: 'QUEUED', finishedAt: null },
      ],
      [
        { parentId: 1, childId: 10, runOnFailure: false },
        { parentId: 1, childId: 11, runOnFailure: false },
        { parentId: 2, childId: 11, runOnFailure: false },
        { parentId: 2, childId: 12, runOnFailure: true },
        { parentId: 3, childId: 13, runOnFailure: false },
      ],
    );
    assert.deepEqual(plan.decrements, [
      { childId: 10, by: 1 },
      { childId: 12, by: 1 },
    ]);
    assert.deepEqual(plan.cancels, [{ childId: 11, message: 'Parent job 2 ended ERROR', at: 20 }]);
    assert.deepEqual(
      plan.links.map((link) => `${link.parentId}>${link.childId}`),
      ['1>10', '1>11', '2>11', '2>12'],
      'a parent that is not ended (requeued since) keeps its links',
    );
  });
});

describe('the release walk', () => {
  it('walks a chain of 3,000 without recursion, within its budget per call, and ends it whole', () => {
    const m = model();
    m.add(1);
    for (let id = 2; id <= 3000; id++) m.add(id, [id - 1]);
    m.end(1, 'ERROR');
    const first = releaseChildren(m.operations, [1], { steps: 20, links: 1000 });
    assert.equal(first.more, true, 'the budget stops the walk');
    assert.ok(m.calls.apply <= 20, `at most 20 steps (${m.calls.apply})`);
    assert.equal(first.cancelled, 20);
    let rounds = 0;
    while (releaseChildren(m.operations, null, { steps: 100, links: 5000 }).more) rounds++;
    assert.ok(rounds >= 29, `the rest in bounded rounds (${rounds})`);
    const statuses = [...m.jobs.values()].map((job) => job.status);
    assert.equal(statuses.filter((status) => status === 'CANCELLED').length, 2999);
    assert.deepEqual(m.jobs.get(3000)!.errors, ['Parent job 2999 ended CANCELLED']);
    assert.ok(
      [...m.jobs.values()].every((job) => !job.marked),
      'no mark left',
    );
  });

  it('reads a parent again when it has more links than a step reads', () => {
    const m = model();
    m.add(1);
    for (let id = 2; id <= 2501; id++) m.add(id, [1]);
    m.end(1, 'DONE');
    const outcome = releaseChildren(m.operations, [1], { steps: 10, links: 5000 });
    assert.equal(outcome.released, 2500);
    assert.equal(outcome.more, false);
    assert.equal(m.calls.links, 3, '1,000 links a step');
    assert.ok([...m.jobs.values()].slice(1).every((job) => job.waitingFor === 0));
  });

  it("leaves a requeued parent's children waiting and clears its mark", () => {
    const m = model();
    m.add(1);
    m.add(2, [1]);
    m.end(1, 'ERROR');
    m.jobs.get(1)!.status = 'QUEUED'; // requeued before the release ran
    const outcome = releaseChildren(m.operations, null, { steps: 10, links: 100 });
    assert.deepEqual(outcome, { links: 0, cancelled: 0, released: 0, more: false });
    assert.equal(m.jobs.get(2)!.status, 'QUEUED');
    assert.equal(m.jobs.get(2)!.waitingFor, 1);
    assert.equal(m.jobs.get(1)!.marked, false, 'its next end marks it again');
  });
});
