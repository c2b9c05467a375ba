/**
 * What both stores share of bulk actions: which selected jobs the state machine lets the action through, and
 * what is said of the others. The stores select and lock the rows, check unique keys, and write.
 */
import { canApply, TooManyJobsError, type JobStatus } from '../core/index.js';
import type { BulkQuery, BulkResult } from './job-store.js';

/** A selected job as the stores read it. */
export interface BulkRow {
  id: number;
  status: JobStatus;
  command: string;
  container_id: string | null;
}

/** Refuses a selection of ids longer than the limit before anything is read. */
export function checkBulkIds(query: BulkQuery): void {
  if ('ids' in query.selection && new Set(query.selection.ids).size > query.max) {
    throw new TooManyJobsError(query.max, `The selection names`);
  }
}

/** Refuses a filter that matched more than the limit (the stores select at most `max + 1` rows). */
export function checkBulkMatches(query: BulkQuery, matched: number): void {
  if (matched > query.max) throw new TooManyJobsError(query.max, 'The filter matches');
}

/** The ids the selection names, distinct, in order (none for a filter). */
export function selectedIds(query: BulkQuery): number[] {
  return 'ids' in query.selection ? [...new Set(query.selection.ids)].sort((a, b) => a - b) : [];
}

/**
 * Splits the rows into those the action applies to and the refused ones; ids that were asked for and not found
 * are refused as unknown.
 */
export function splitBulk(
  query: BulkQuery,
  rows: readonly BulkRow[],
): { apply: BulkRow[]; result: BulkResult } {
  const ids = selectedIds(query);
  const found = new Set(rows.map((row) => row.id));
  const result: BulkResult = {
    matched: 'ids' in query.selection ? ids.length : rows.length,
    changed: [],
    changedJobs: [],
    refused: ids
      .filter((id) => !found.has(id))
      .map((id) => ({ id, status: null, reason: `Request with id: ${id} doesn't exist` })),
  };
  const apply: BulkRow[] = [];
  for (const row of rows) {
    if (canApply(query.event, row.status)) apply.push(row);
    else
      result.refused.push({
        id: row.id,
        status: row.status,
        reason:
          query.event === 'cancel'
            ? `it is ${row.status} (only QUEUED, RETRYING and ERROR jobs can be cancelled)`
            : `it is ${row.status} (DONE and CANCELLED jobs cannot be requeued)`,
      });
  }
  result.refused.sort((a, b) => a.id - b.id);
  return { apply, result };
}

/** Fills in the changed jobs' ids and labels, in id order, from the rows the action applied to. */
export function recordChanged(
  result: BulkResult,
  rows: readonly BulkRow[],
  changed: ReadonlySet<number>,
): void {
  const applied = rows.filter((row) => changed.has(row.id)).sort((a, b) => a.id - b.id);
  result.changed = applied.map((row) => row.id);
  result.changedJobs = applied.map((row) => ({
    id: row.id,
    command: row.command,
    containerId: row.container_id,
  }));
  result.refused.sort((a, b) => a.id - b.id);
}
