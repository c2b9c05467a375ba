import { ValidationError } from './errors.js';
import type { DataMap, JobReference, JobStatus, ParentFailurePolicy } from './job.js';

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
}

/** Decides the links of a job (the same rule as the stores' trigger, for parents that already ended). */
export function planDependencies(
  parents: readonly { id: number; status: JobStatus }[],
  policy: ParentFailurePolicy,
): DependencyPlan {
  const plan: DependencyPlan = { edges: [], waitingFor: 0, cancelledBy: null };
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

/** The error record of a child cancelled because of its parent (the stores' trigger writes the same). */
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
