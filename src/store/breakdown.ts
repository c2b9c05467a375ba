/**
 * The breakdown by command or container, from the numbers both stores read (JobStore.breakdown): counts per
 * status, runs since a time, failure rate and run-duration percentiles. One owner of the arithmetic.
 */
import { emptyCounts, type BreakdownData, type StatusCounts } from './job-store.js';

/** One row of the breakdown. */
export interface BreakdownRow {
  /** The command name or container id; null: jobs without a container. */
  key: string | null;
  counts: StatusCounts;
  /** Attempts that ended in the window (successes and failures). */
  runs: number;
  /** Of those, failed. */
  failures: number;
  /** failures / runs, or null without runs. */
  failureRate: number | null;
  /** Median and 95th percentile of the runs' durations, ms; null without runs of known duration. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Rows by key, most jobs first (then by key). */
export function breakdownRows(data: BreakdownData): BreakdownRow[] {
  const rows = new Map<
    string | null,
    { counts: StatusCounts; runs: number; failures: number; ms: number[] }
  >();
  const rowOf = (key: string | null) => {
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { counts: emptyCounts(), runs: 0, failures: 0, ms: [] }));
    return row;
  };
  for (const { key, status, n } of data.counts) rowOf(key).counts[status] += Number(n);
  for (const run of data.runs) {
    const row = rowOf(run.key);
    row.runs += 1;
    if (run.failed) row.failures += 1;
    if (run.ms !== null) row.ms.push(Math.max(0, Number(run.ms)));
  }
  const total = (counts: StatusCounts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  return [...rows.entries()]
    .map(([key, row]) => {
      const sorted = row.ms.sort((a, b) => a - b);
      return {
        key,
        counts: row.counts,
        runs: row.runs,
        failures: row.failures,
        failureRate: row.runs > 0 ? row.failures / row.runs : null,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
      };
    })
    .sort((a, b) => total(b.counts) - total(a.counts) || String(a.key).localeCompare(String(b.key)));
}
