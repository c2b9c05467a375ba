/**
 * Releasing the children of ended parents, one rule for every store: an iterative walk in bounded steps, never a
 * recursion. A parent's end only marks it `release_pending` (a trigger, in the same statement); then the store
 * walks, right after the end, a bounded part of what follows from it (children due now, children cancelled, and
 * their own children), and leaves the rest marked, for its background releaser (DependencyReleaser) to walk in
 * more bounded transactions. So no write waits on a graph's size, and a release that stops halfway (a crash, a
 * failover) goes on from the marks.
 *
 * The stores only run the SQL of three operations (see ReleaseOperations); the walk is written once, as a
 * generator both the synchronous (SQLite) and the asynchronous (PostgreSQL) store drive, as limits.ts does.
 */
import { isFinal, planRelease, type EndedParent, type OpenLink, type ReleasePlan } from '../core/index.js';
import { drive, driveAsync } from './rule-driver.js';

/** How much one walk may do: steps (each a few statements) and links released. */
export interface ReleaseBudget {
  steps: number;
  links: number;
}

/** Right after an end, in the writer's call: enough for every ordinary graph, and a few milliseconds at most. */
export const RELEASE_AFTER_END: ReleaseBudget = { steps: 20, links: 1_000 };
/** One transaction of the background releaser. */
export const RELEASE_IN_BACKGROUND: ReleaseBudget = { steps: 100, links: 5_000 };

/** Parents read per step. */
const PARENTS_PER_STEP = 100;
/** Links read per step. */
const LINKS_PER_STEP = 1_000;

/** What writing a plan did. */
export interface AppliedRelease {
  /** Children cancelled by this step that have children of their own: their release is now pending too. */
  cascade: number[];
  /** Children cancelled. */
  cancelled: number;
  /** Children that wait for fewer parents (some may be due now: the store wakes the workers). */
  released: number;
}

/** What a store runs for the walk, inside one transaction. */
export type ReleaseStep =
  /**
   * Parents marked `release_pending`, at most `limit`, in id order: among `ids`, or any when null. The store
   * locks them for its transaction where others could walk them at once (PostgreSQL: FOR UPDATE SKIP LOCKED).
   * Answers EndedParent[].
   */
  | { op: 'parents'; ids: readonly number[] | null; limit: number }
  /** Links of these parents not yet released, at most `limit`, in (parent, child) order. Answers OpenLink[]. */
  | { op: 'links'; parentIds: readonly number[]; limit: number }
  /**
   * Writes the plan: decrements, cancels (only of children still QUEUED and waiting) with their error records,
   * the links released; then clears the mark of each of `parentIds` that is not ended any more (requeued) or has
   * no open link left. Answers AppliedRelease.
   */
  | { op: 'apply'; plan: ReleasePlan; parentIds: readonly number[] };

/** What a walk did. */
export interface ReleaseOutcome {
  links: number;
  cancelled: number;
  released: number;
  /** It stopped at its budget: marked parents may be left. */
  more: boolean;
}

/**
 * The walk: from the marked parents among `start` (right after their end) or from any marked parent (null: the
 * background releaser), step by step, the children each step cancels that have children joining the walk.
 */
export function* releaseSteps(
  start: readonly number[] | null,
  budget: ReleaseBudget,
): Generator<ReleaseStep, ReleaseOutcome, unknown> {
  const outcome: ReleaseOutcome = { links: 0, cancelled: 0, released: 0, more: false };
  const queue: number[] | null = start === null ? null : [...new Set(start)];
  for (let step = 0; ; step++) {
    if (queue !== null && queue.length === 0) return outcome;
    if (step >= budget.steps || outcome.links >= budget.links) {
      outcome.more = true;
      return outcome;
    }
    const asked = queue === null ? null : queue.splice(0, PARENTS_PER_STEP);
    const parents = (yield { op: 'parents', ids: asked, limit: PARENTS_PER_STEP }) as EndedParent[];
    if (parents.length === 0) {
      if (queue === null) return outcome;
      continue;
    }
    const ended = parents.filter((parent) => isFinal(parent.status)).map((parent) => parent.id);
    const limit = Math.min(budget.links - outcome.links, LINKS_PER_STEP);
    const links = ended.length === 0 ? [] : ((yield { op: 'links', parentIds: ended, limit }) as OpenLink[]);
    const plan = planRelease(parents, links);
    const applied = (yield {
      op: 'apply',
      plan,
      parentIds: parents.map((parent) => parent.id),
    }) as AppliedRelease;
    outcome.links += links.length;
    outcome.cancelled += applied.cancelled;
    outcome.released += applied.released;
    if (queue !== null) {
      // A parent with more links than this step read stays marked: read it again.
      if (links.length === limit) queue.unshift(...ended);
      queue.push(...applied.cascade);
    }
  }
}

/**
 * Who to tell when a release right after an end left work (JobStore.watchReleases): the background releaser of
 * this process, told once the caller's write is answered.
 */
export class ReleaseWatchers {
  private readonly watchers = new Set<() => void>();

  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Work was left: tell the watchers, after this turn of the event loop. */
  left(): void {
    if (this.watchers.size === 0) return;
    setImmediate(() => {
      for (const watcher of this.watchers) watcher();
    });
  }
}

/** The operations a synchronous store runs the walk with (inside its own write transaction). */
export interface ReleaseOperations {
  parents(ids: readonly number[] | null, limit: number): EndedParent[];
  links(parentIds: readonly number[], limit: number): OpenLink[];
  apply(plan: ReleasePlan, parentIds: readonly number[]): AppliedRelease;
}

/** As ReleaseOperations, for a store whose statements are asynchronous. */
export interface AsyncReleaseOperations {
  parents(ids: readonly number[] | null, limit: number): Promise<EndedParent[]>;
  links(parentIds: readonly number[], limit: number): Promise<OpenLink[]>;
  apply(plan: ReleasePlan, parentIds: readonly number[]): Promise<AppliedRelease>;
}

/** Runs the walk with synchronous operations. */
export function releaseChildren(
  operations: ReleaseOperations,
  start: readonly number[] | null,
  budget: ReleaseBudget,
): ReleaseOutcome {
  return drive(releaseSteps(start, budget), (step) => perform(operations, step));
}

/** Runs the walk with asynchronous operations. */
export function releaseChildrenAsync(
  operations: AsyncReleaseOperations,
  start: readonly number[] | null,
  budget: ReleaseBudget,
): Promise<ReleaseOutcome> {
  return driveAsync(releaseSteps(start, budget), (step) => perform(operations, step));
}

function perform(operations: ReleaseOperations | AsyncReleaseOperations, step: ReleaseStep): unknown {
  switch (step.op) {
    case 'parents':
      return operations.parents(step.ids, step.limit);
    case 'links':
      return operations.links(step.parentIds, step.limit);
    case 'apply':
      return operations.apply(step.plan, step.parentIds);
  }
}
