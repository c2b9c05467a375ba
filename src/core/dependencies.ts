import { ValidationError } from './errors.js';
import type { DataMap, JobReference, JobStatus, ParentFailurePolicy } from './job.js';
import { isFinal } from './states.js';

/**
 * Bounds of a dependency graph, checked when jobs are scheduled: no sane workflow meets them, and they keep what
 * one request can make a parent's end do (its release walks the graph) small.
 */
export interface DependencyLimits {
  /** Parents one job may name in `dependsOn`. */
  parents: number;
  /** Longest chain of parents above a job: a job without parents is at depth 0, its child at 1, and so on. */
  depth: number;
  /** Links (one per parent named) in one schedule call: a batch, or a single job. */
  linksPerCall: number;
}

export const DEFAULT_DEPENDENCY_LIMITS: Readonly<DependencyLimits> = {
  parents: 100,
  depth: 1000,
  linksPerCall: 10_000,
};

/** The setting behind each limit, as the errors name them. */
const LIMIT_SETTINGS: Record<keyof DependencyLimits, string> = {
  parents: 'dependencyLimits.parents, --max-parents',
  depth: 'dependencyLimits.depth, --max-dependency-depth',
  linksPerCall: 'dependencyLimits.linksPerCall, --max-dependency-links',
};

/** Refuses a job naming more parents than the limit. */
export function checkParentCount(entries: readonly DependsOnEntry[], limits: DependencyLimits): void {
  if (entries.length > limits.parents) {
    throw new ValidationError(
      `dependsOn names ${entries.length} jobs, more than the limit of ${limits.parents} parents per job ` +
        `(${LIMIT_SETTINGS.parents})`,
    );
  }
}

/** Refuses a schedule call whose jobs name more parents, all together, than the limit. */
export function checkLinkCount(links: number, limits: DependencyLimits): void {
  if (links > limits.linksPerCall) {
    throw new ValidationError(
      `the jobs of this request name ${links} parents in all, more than the limit of ${limits.linksPerCall} ` +
        `dependency links per request (${LIMIT_SETTINGS.linksPerCall}): schedule the graph in several requests`,
    );
  }
}

/** The depth of a job with these parents; refused past the limit. */
export function dependencyDepth(parentDepths: readonly number[], maxDepth: number): number {
  const depth = parentDepths.length === 0 ? 0 : Math.max(...parentDepths) + 1;
  if (depth > maxDepth) {
    throw new ValidationError(
      `dependsOn would put this job ${depth} parents deep (the longest chain of jobs above it), more than the ` +
        `limit of ${maxDepth} (${LIMIT_SETTINGS.depth})`,
    );
  }
  return depth;
}

/** A `dependsOn` entry: an existing job's id, or (in a batch) the index of an earlier request, written `$0`. */
export type DependsOnEntry = { id: number } | { batchIndex: number };

/**
 * Reads request data `dependsOn`: job ids as a list or a comma-separated string; in a batch, `"$2"` names the
 * batch's request 2. Answers no entries when the key is absent; duplicates are dropped.
 */
export function dependsOnOf(data: DataMap): DependsOnEntry[] {
  const value = data.dependsOn;
  if (value === undefined || value === null || value === '') return [];
  const items: unknown[] =
    typeof value === 'string'
      ? value.split(',').map((item) => item.trim())
      : Array.isArray(value)
        ? value
        : [value];
  const entries: DependsOnEntry[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (item === '') continue;
    const entry = readEntry(item);
    const key = 'id' in entry ? `#${entry.id}` : `$${entry.batchIndex}`;
    if (!seen.has(key)) entries.push(entry);
    seen.add(key);
  }
  return entries;
}

function readEntry(item: unknown): DependsOnEntry {
  if (typeof item === 'number' && Number.isSafeInteger(item) && item > 0) return { id: item };
  if (typeof item === 'string') {
    const text = item.trim();
    if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text)) && Number(text) > 0)
      return { id: Number(text) };
    const batch = /^\$(\d{1,9})$/.exec(text);
    if (batch) return { batchIndex: Number(batch[1]) };
  }
  throw new ValidationError(
    `dependsOn must list job ids (or "$n" for request n of the same batch), got ${JSON.stringify(item)}`,
  );
}

/** Request data `onParentFailure`: `cancel` (default) or `run`. */
export function onParentFailureOf(data: DataMap): ParentFailurePolicy {
  const value = data.onParentFailure;
  if (value === undefined || value === null || value === '' || value === 'cancel') return 'cancel';
  if (value === 'run') return 'run';
  throw new ValidationError(`onParentFailure must be "cancel" or "run", got ${JSON.stringify(value)}`);
}

/**
 * Turns the entries of request `index` into references. A batch reference must name an earlier request of the
 * same batch: that is what keeps dependencies free of cycles (a job can only wait for jobs that exist before it).
 */
export function toReferences(
  entries: readonly DependsOnEntry[],
  index: number,
  inBatch: boolean,
): JobReference[] {
  return entries.map((entry) => {
    if ('id' in entry) return entry.id;
    if (!inBatch) {
      throw new ValidationError(
        `dependsOn "$${entry.batchIndex}" names a request of a batch: use it in /jobs/batch`,
      );
    }
    if (entry.batchIndex >= index) {
      throw new ValidationError(
        `dependsOn "$${entry.batchIndex}" must name an earlier request of the batch (a job cannot wait for ` +
          `itself or a later one: that would be a cycle)`,
      );
    }
    return { earlier: index - entry.batchIndex };
  });
}

/** How a new job is linked to its parents, given their statuses now. */
export interface DependencyPlan {
  edges: { parentId: number; resolved: boolean }[];
  /** Parents not yet ended. */
  waitingFor: number;
  /** A parent that already ended ERROR or CANCELLED, when the job is to be cancelled for it. */
  cancelledBy: { parentId: number; status: JobStatus } | null;
  /** The job's dependency depth (dependencyDepth). */
  depth: number;
}

/** A parent as the link reads it when a child is scheduled. */
export interface LinkedParent {
  id: number;
  status: JobStatus;
  /** Its dependency depth. */
  depth: number;
}

/**
 * Decides the links of a job (the release rule of planRelease, for parents that already ended); refuses a job
 * deeper than `maxDepth`.
 */
export function planDependencies(
  parents: readonly LinkedParent[],
  policy: ParentFailurePolicy,
  maxDepth: number = DEFAULT_DEPENDENCY_LIMITS.depth,
): DependencyPlan {
  const depth = dependencyDepth(
    parents.map((parent) => parent.depth),
    maxDepth,
  );
  const plan: DependencyPlan = { edges: [], waitingFor: 0, cancelledBy: null, depth };
  for (const parent of parents) {
    const failed = parent.status === 'ERROR' || parent.status === 'CANCELLED';
    const ended = parent.status === 'DONE' || failed;
    plan.edges.push({ parentId: parent.id, resolved: ended });
    if (!ended) plan.waitingFor++;
    if (failed && policy === 'cancel' && !plan.cancelledBy) {
      plan.cancelledBy = { parentId: parent.id, status: parent.status };
    }
  }
  return plan;
}

/** A parent whose children are being released: its status now, and when it ended. */
export interface EndedParent {
  id: number;
  status: JobStatus;
  finishedAt: number | null;
}

/** A link from a parent to a child that the parent's end has not released yet. */
export interface OpenLink {
  parentId: number;
  childId: number;
  runOnFailure: boolean;
}

/** What the end of some parents does to their children (store/dependency-release.ts writes it). */
export interface ReleasePlan {
  /** Children waiting for fewer parents, and by how many: a parent DONE, or failed for a child that runs anyway. */
  decrements: { childId: number; by: number }[];
  /**
   * Children cancelled, if they still wait, for a parent that ended ERROR or CANCELLED; the error record names it.
   * A child is in one list only: one failed parent cancels it, whatever its other parents did.
   */
  cancels: { childId: number; message: string; at: number }[];
  /** The links this plan releases (each counted once). */
  links: OpenLink[];
}

/**
 * The release rule: a parent DONE counts one less for each child; a parent ERROR or CANCELLED cancels each child
 * that waits for it, unless the child asked to run anyway (`onParentFailure: "run"`), for which it counts one
 * less. Links of parents that are not ended (requeued since) are left as they are.
 */
export function planRelease(parents: readonly EndedParent[], links: readonly OpenLink[]): ReleasePlan {
  const ended = new Map(parents.filter((parent) => isFinal(parent.status)).map((p) => [p.id, p]));
  const decrements = new Map<number, number>();
  const cancels = new Map<number, ReleasePlan['cancels'][number]>();
  const released: OpenLink[] = [];
  for (const link of links) {
    const parent = ended.get(link.parentId);
    if (!parent) continue;
    released.push(link);
    if (parent.status === 'DONE' || link.runOnFailure) {
      decrements.set(link.childId, (decrements.get(link.childId) ?? 0) + 1);
    } else if (!cancels.has(link.childId)) {
      cancels.set(link.childId, {
        childId: link.childId,
        message: parentFailureMessage(parent.id, parent.status),
        at: parent.finishedAt ?? 0,
      });
    }
  }
  for (const childId of cancels.keys()) decrements.delete(childId);
  const byId = (a: { childId: number }, b: { childId: number }) => a.childId - b.childId;
  return {
    decrements: [...decrements].map(([childId, by]) => ({ childId, by })).sort(byId),
    cancels: [...cancels.values()].sort(byId),
    links: released,
  };
}

/** The error record of a child cancelled because of its parent. */
export function parentFailureMessage(parentId: number, status: JobStatus): string {
  return `Parent job ${parentId} ended ${status}`;
}

/** Job ids of references, resolving `earlier` ones against the ids of the batch inserted so far. */
export function resolveReferences(
  references: readonly JobReference[],
  ids: readonly number[],
  index: number,
): number[] {
  return [
    ...new Set(
      references.map((ref) => {
        if (typeof ref === 'number') return ref;
        const id = ids[index - ref.earlier];
        if (id === undefined) throw new ValidationError(`dependsOn names a request outside the batch`);
        return id;
      }),
    ),
  ];
}
