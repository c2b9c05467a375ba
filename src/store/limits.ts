/**
 * Concurrency limits, one rule for every store: what each limited command and container may still start, and
 * which due jobs fit it. The stores only run the SQL (count what runs, select candidates, mark the chosen).
 */
import type { ClaimOptions, ConcurrencyLimits } from './job-store.js';

/** Jobs RUNNING now of one command and container, as both stores count them. */
export interface RunningCount {
  command: string;
  container_id: string | null;
  n: number;
}

/** A due job a claim may pick. */
export interface CandidateRow {
  id: number;
  command: string;
  container_id: string | null;
}

/** Which due jobs to select next: none of these commands or (non-null) containers, whose limit is used up. */
export interface CandidateQuery {
  excludeCommands: string[];
  excludeContainers: string[];
}

interface Remaining {
  commands: Map<string, number>;
  containers: Map<string, number>;
}

/** Up to this many rounds of candidates: a round's picks may all be of saturated commands or containers. */
const CANDIDATE_ROUNDS = 3;

export function hasLimits(limits: ConcurrencyLimits | undefined): limits is ConcurrencyLimits {
  return Object.keys(limits?.commands ?? {}).length + Object.keys(limits?.containers ?? {}).length > 0;
}

/**
 * Picks the ids of due jobs to claim within the limits, asking `selectCandidates` for due jobs in claim order
 * (at most `options.limit`); for SQLite's synchronous transactions.
 */
export function pickWithinLimits(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  running: readonly RunningCount[],
  selectCandidates: (query: CandidateQuery) => readonly CandidateRow[],
): number[] {
  const picking = picker(options, limits, running);
  let step = picking.next();
  while (!step.done) step = picking.next(selectCandidates(step.value));
  return step.value;
}

/** As pickWithinLimits, with candidates selected asynchronously (PostgreSQL). */
export async function pickWithinLimitsAsync(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  running: readonly RunningCount[],
  selectCandidates: (query: CandidateQuery) => Promise<readonly CandidateRow[]>,
): Promise<number[]> {
  const picking = picker(options, limits, running);
  let step = picking.next();
  while (!step.done) step = picking.next(await selectCandidates(step.value));
  return step.value;
}

/** The candidate loop: yields a query, receives its candidates, returns the chosen ids. */
function* picker(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  running: readonly RunningCount[],
): Generator<CandidateQuery, number[], readonly CandidateRow[]> {
  const remaining = remainingCapacity(limits, running);
  const chosen: number[] = [];
  for (let round = 0; round < CANDIDATE_ROUNDS && chosen.length < options.limit; round++) {
    const candidates = yield {
      excludeCommands: [...(options.excludeCommands ?? []), ...saturatedKeys(remaining.commands)],
      excludeContainers: saturatedKeys(remaining.containers),
    };
    const fit = fitLimits(
      candidates.filter((candidate) => !chosen.includes(candidate.id)),
      remaining,
      options.limit - chosen.length,
    );
    chosen.push(...fit.map((candidate) => candidate.id));
    if (candidates.length < options.limit) break;
  }
  return chosen;
}

/** What each limited command and container may still start: its limit less what RUNNING now. */
function remainingCapacity(limits: ConcurrencyLimits, running: readonly RunningCount[]): Remaining {
  const commands = new Map(Object.entries(limits.commands ?? {}));
  const containers = new Map(Object.entries(limits.containers ?? {}));
  for (const row of running) {
    const byCommand = commands.get(row.command);
    if (byCommand !== undefined) commands.set(row.command, byCommand - row.n);
    const byContainer = row.container_id === null ? undefined : containers.get(row.container_id);
    if (byContainer !== undefined) containers.set(row.container_id!, byContainer - row.n);
  }
  return { commands, containers };
}

/** Commands or containers whose concurrency limit is used up. */
function saturatedKeys(remaining: Map<string, number>): string[] {
  return [...remaining].filter(([, left]) => left <= 0).map(([key]) => key);
}

/**
 * Picks, from due candidates in claim order, those that fit the remaining capacity of their command and
 * container (`remaining` is decremented).
 */
function fitLimits(candidates: readonly CandidateRow[], remaining: Remaining, max: number): CandidateRow[] {
  const chosen: CandidateRow[] = [];
  for (const candidate of candidates) {
    if (chosen.length >= max) break;
    const byCommand = remaining.commands.get(candidate.command);
    const byContainer =
      candidate.container_id === null ? undefined : remaining.containers.get(candidate.container_id);
    if (byCommand !== undefined && byCommand <= 0) continue;
    if (byContainer !== undefined && byContainer <= 0) continue;
    if (byCommand !== undefined) remaining.commands.set(candidate.command, byCommand - 1);
    if (byContainer !== undefined) remaining.containers.set(candidate.container_id!, byContainer - 1);
    chosen.push(candidate);
  }
  return chosen;
}
