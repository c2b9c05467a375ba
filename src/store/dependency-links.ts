/**
 * Linking a new job to its parents (request data `dependsOn`), one rule for every store: the parents must exist
 * (locked until the schedule commits, so that a parent ending meanwhile waits for the links and then releases
 * them), the job must not be deeper than the limit, and it waits for the parents not yet ended, or is cancelled at
 * once for one that already failed (the release rule of planRelease, for parents that ended). The stores run the
 * SQL of three operations.
 */
import {
  parentFailureMessage,
  planDependencies,
  ValidationError,
  type DependencyPlan,
  type LinkedParent,
  type NewJob,
} from '../core/index.js';

export type LinkStep =
  /** The parents among `ids` (id, status, depth), locked for the transaction. */
  | { op: 'parents'; ids: readonly number[] }
  /**
   * Writes the links of `childId`: an edge per parent (resolved for those ended), `has_children` on the parents it
   * waits for, and its waiting count and depth.
   */
  | { op: 'link'; childId: number; plan: DependencyPlan; runOnFailure: boolean }
  /** Cancels the new job for a parent that failed, with the error record `message`, at `at`. */
  | { op: 'cancel'; childId: number; message: string; at: number };

export function* linkParents(
  childId: number,
  job: Pick<NewJob, 'onParentFailure'>,
  parentIds: readonly number[],
  now: number,
  maxDepth: number | undefined,
): Generator<LinkStep, void, unknown> {
  const found = new Map(
    ((yield { op: 'parents', ids: parentIds }) as LinkedParent[]).map((parent) => [parent.id, parent]),
  );
  const parents = parentIds.map((parentId) => {
    const parent = found.get(parentId);
    if (!parent) throw new ValidationError(`dependsOn names job ${parentId}, which does not exist`);
    return parent;
  });
  const plan = planDependencies(parents, job.onParentFailure ?? 'cancel', maxDepth);
  yield { op: 'link', childId, plan, runOnFailure: job.onParentFailure === 'run' };
  if (plan.cancelledBy) {
    const { parentId, status } = plan.cancelledBy;
    yield { op: 'cancel', childId, message: parentFailureMessage(parentId, status), at: now };
  }
}
