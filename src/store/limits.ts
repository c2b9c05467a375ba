/**
 * Limits, one rule for every store: what each limited command, container and concurrency key may still start
 * (concurrency, rate, fair share per key), what is paused, and which due jobs fit. The stores only run the SQL
 * (count what runs and what started lately, select candidates, mark the chosen).
 */
import type { ClaimOptions, ConcurrencyLimits, FlowTarget, LimitReport, LimitUse } from './job-store.js';

/** Jobs RUNNING now of one command and container, as both stores count them. */
export interface RunningCount {
  command: string;
  container_id: string | null;
  n: number;
}

/** Jobs RUNNING now of one command with one `concurrencyKey` value (key limits only). */
export interface RunningKeyCount {
  command: string;
  concurrency_key: string;
  n: number;
}

/** A recent start of a rate-limited command or container (rate limits only). */
export interface StartRow {
  command: string;
  container_id: string | null;
  started_at: number;
}

/** A due job a claim may pick. */
export interface CandidateRow {
  id: number;
  command: string;
  container_id: string | null;
  concurrency_key?: string | null;
}

/** Which due jobs to select next: none of these commands, (non-null) containers or keys, used up or paused. */
export interface CandidateQuery {
  excludeCommands: string[];
  excludeContainers: string[];
  excludeKeys: string[];
}

/** What the stores read inside the claim for the limits. */
export interface LimitState {
  running: readonly RunningCount[];
  runningKeys?: readonly RunningKeyCount[];
  starts?: readonly StartRow[];
  paused?: readonly FlowTarget[];
}

/** Up to this many rounds of candidates: a round's picks may all be of saturated commands or containers. */
const CANDIDATE_ROUNDS = 3;

/** True when a claim must go through the limits: any limit set. */
export function hasLimits(limits: ConcurrencyLimits | undefined): limits is ConcurrencyLimits {
  if (!limits) return false;
  return (
    count(limits.commands) +
      count(limits.containers) +
      count(limits.rates?.commands) +
      count(limits.rates?.containers) +
      count(limits.keys?.commands) +
      (limits.keys?.all !== undefined ? 1 : 0) >
    0
  );
}

const count = (record: object | undefined) => (record ? Object.keys(record).length : 0);

/** Key limits are set: the stores count RUNNING jobs per key and select keys with candidates. */
export function hasKeyLimits(limits: ConcurrencyLimits | undefined): boolean {
  return limits?.keys?.all !== undefined || count(limits?.keys?.commands) > 0;
}

/** What the stores read of recent starts: commands and containers with a rate limit, and the longest period. */
export function rateScope(
  limits: ConcurrencyLimits | undefined,
): { commands: string[]; containers: string[]; longestMs: number } | undefined {
  const commands = Object.entries(limits?.rates?.commands ?? {});
  const containers = Object.entries(limits?.rates?.containers ?? {});
  if (commands.length + containers.length === 0) return undefined;
  return {
    commands: commands.map(([name]) => name),
    containers: containers.map(([name]) => name),
    longestMs: Math.max(...[...commands, ...containers].map(([, rate]) => rate.periodMs)),
  };
}

/**
 * Picks the ids of due jobs to claim within the limits, asking `selectCandidates` for due jobs in claim order
 * (at most `options.limit`); for SQLite's synchronous transactions.
 */
export function pickWithinLimits(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  state: LimitState,
  selectCandidates: (query: CandidateQuery) => readonly CandidateRow[],
): number[] {
  const picking = picker(options, limits, state);
  let step = picking.next();
  while (!step.done) step = picking.next(selectCandidates(step.value));
  return step.value;
}

/** As pickWithinLimits, with candidates selected asynchronously (PostgreSQL). */
export async function pickWithinLimitsAsync(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  state: LimitState,
  selectCandidates: (query: CandidateQuery) => Promise<readonly CandidateRow[]>,
): Promise<number[]> {
  const picking = picker(options, limits, state);
  let step = picking.next();
  while (!step.done) step = picking.next(await selectCandidates(step.value));
  return step.value;
}

/** One limit in play: how much is left of it in this claim. */
interface Budget {
  use: LimitUse;
  left: number;
  /** Rate limits: start times in the current window, ascending (this claim's starts added). */
  starts?: number[];
  periodMs?: number;
}

/** The candidate loop: yields a query, receives its candidates, returns the chosen ids. */
function* picker(
  options: ClaimOptions,
  limits: ConcurrencyLimits,
  state: LimitState,
): Generator<CandidateQuery, number[], readonly CandidateRow[]> {
  const budgets = new Budgets(limits, state, options.now);
  const paused = state.paused ?? [];
  const pausedCommands = paused.filter((t) => t.kind === 'command').map((t) => t.name);
  const pausedContainers = paused.filter((t) => t.kind === 'container').map((t) => t.name);
  const chosen: number[] = [];
  for (let round = 0; round < CANDIDATE_ROUNDS && chosen.length < options.limit; round++) {
    const saturated = budgets.saturated();
    const candidates = yield {
      excludeCommands: [...(options.excludeCommands ?? []), ...pausedCommands, ...saturated.commands],
      excludeContainers: [...pausedContainers, ...saturated.containers],
      excludeKeys: saturated.keys,
    };
    for (const candidate of candidates) {
      if (chosen.length >= options.limit) break;
      if (chosen.includes(candidate.id)) continue;
      if (budgets.take(candidate)) chosen.push(candidate.id);
    }
    if (candidates.length < options.limit) break;
  }
  options.onLimits?.(budgets.report());
  return chosen;
}

const RATE_KINDS = new Set<LimitUse['kind']>(['command-rate', 'container-rate']);

/** The budgets of a claim, by kind and name; key budgets are made as candidates with a new key come. */
class Budgets {
  private readonly byName = new Map<string, Budget>();
  private readonly runningByKey = new Map<string, number>();
  private readonly runningByCommandKey = new Map<string, number>();

  constructor(
    private readonly limits: ConcurrencyLimits,
    state: LimitState,
    private readonly now: number,
  ) {
    for (const [name, limit] of Object.entries(limits.commands ?? {})) this.add('command', name, limit);
    for (const [name, limit] of Object.entries(limits.containers ?? {})) this.add('container', name, limit);
    for (const row of state.running) {
      this.charge('command', row.command, row.n);
      if (row.container_id !== null) this.charge('container', row.container_id, row.n);
    }
    for (const [name, rate] of Object.entries(limits.rates?.commands ?? {})) {
      this.addRate('command-rate', name, rate.starts, rate.periodMs);
    }
    for (const [name, rate] of Object.entries(limits.rates?.containers ?? {})) {
      this.addRate('container-rate', name, rate.starts, rate.periodMs);
    }
    for (const row of [...(state.starts ?? [])].sort((a, b) => a.started_at - b.started_at)) {
      this.recordStart(this.byName.get(nameOf('command-rate', row.command)), row.started_at);
      if (row.container_id !== null) {
        this.recordStart(this.byName.get(nameOf('container-rate', row.container_id)), row.started_at);
      }
    }
    for (const row of state.runningKeys ?? []) {
      const key = String(row.concurrency_key);
      this.runningByKey.set(key, (this.runningByKey.get(key) ?? 0) + row.n);
      const pair = commandKey(row.command, key);
      this.runningByCommandKey.set(pair, (this.runningByCommandKey.get(pair) ?? 0) + row.n);
    }
  }

  /** Takes one job of `candidate` from every budget it falls under, if each has room; else counts it held back. */
  take(candidate: CandidateRow): boolean {
    const budgets = this.of(candidate);
    const full = budgets.filter((budget) => budget.left <= 0);
    if (full.length > 0) {
      for (const budget of full) budget.use.heldBack++;
      return false;
    }
    for (const budget of budgets) {
      budget.left--;
      budget.use.used++;
      budget.starts?.push(this.now);
    }
    return true;
  }

  /** What to leave out of the next candidate query. */
  saturated(): { commands: string[]; containers: string[]; keys: string[] } {
    const result = { commands: [] as string[], containers: [] as string[], keys: [] as string[] };
    for (const budget of this.byName.values()) {
      if (budget.left > 0) continue;
      const { kind, name } = budget.use;
      if (kind === 'command' || kind === 'command-rate') result.commands.push(name);
      else if (kind === 'container' || kind === 'container-rate') result.containers.push(name);
      else if (kind === 'key') result.keys.push(name);
    }
    return result;
  }

  report(): LimitReport {
    let rateOpensAt: number | null = null;
    for (const budget of this.byName.values()) {
      if (!budget.starts || budget.left > 0) continue;
      // The window allows a start again once all but limit - 1 of its starts are older than the period.
      const start = budget.starts[budget.starts.length - budget.use.limit];
      if (start === undefined) continue;
      const opensAt = start + budget.periodMs!;
      if (rateOpensAt === null || opensAt < rateOpensAt) rateOpensAt = opensAt;
    }
    return { uses: [...this.byName.values()].map((budget) => ({ ...budget.use })), rateOpensAt };
  }

  private of(candidate: CandidateRow): Budget[] {
    const names = [
      nameOf('command', candidate.command),
      nameOf('command-rate', candidate.command),
      ...(candidate.container_id === null
        ? []
        : [nameOf('container', candidate.container_id), nameOf('container-rate', candidate.container_id)]),
    ];
    const budgets = names.map((name) => this.byName.get(name)).filter((b): b is Budget => b !== undefined);
    const key = candidate.concurrency_key;
    if (key !== undefined && key !== null) budgets.push(...this.keyBudgets(candidate.command, String(key)));
    return budgets;
  }

  /** The key budgets a job of `command` with `key` falls under, made on first use. */
  private keyBudgets(command: string, key: string): Budget[] {
    const budgets: Budget[] = [];
    const all = this.limits.keys?.all;
    if (all !== undefined) {
      budgets.push(
        this.byName.get(nameOf('key', key)) ?? this.add('key', key, all, this.runningByKey.get(key) ?? 0),
      );
    }
    const perCommand = this.limits.keys?.commands?.[command];
    if (perCommand !== undefined) {
      const pair = commandKey(command, key);
      budgets.push(
        this.byName.get(nameOf('command-key', pair)) ??
          this.add('command-key', pair, perCommand, this.runningByCommandKey.get(pair) ?? 0),
      );
    }
    return budgets;
  }

  private add(kind: LimitUse['kind'], name: string, limit: number, used = 0): Budget {
    const budget: Budget = { use: { kind, name, limit, used, heldBack: 0 }, left: limit - used };
    this.byName.set(nameOf(kind, name), budget);
    return budget;
  }

  private addRate(kind: LimitUse['kind'], name: string, limit: number, periodMs: number): void {
    const budget = this.add(kind, name, limit);
    budget.starts = [];
    budget.periodMs = periodMs;
  }

  private charge(kind: LimitUse['kind'], name: string, n: number): void {
    const budget = this.byName.get(nameOf(kind, name));
    if (!budget) return;
    budget.left -= n;
    budget.use.used += n;
  }

  /** Counts a start into a rate budget when it falls in the window ending now. */
  private recordStart(budget: Budget | undefined, startedAt: number): void {
    if (!budget || !RATE_KINDS.has(budget.use.kind)) return;
    if (startedAt <= this.now - budget.periodMs!) return;
    budget.starts!.push(startedAt);
    budget.left--;
    budget.use.used++;
  }
}

const nameOf = (kind: LimitUse['kind'], name: string) => `${kind}\u0000${name}`;
/** A command and a key value as one name (a space: names of commands have none). */
const commandKey = (command: string, key: string) => `${command} ${key}`;
