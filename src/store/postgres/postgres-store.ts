import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import {
  canApply,
  FINAL_STATUSES,
  InvalidStateError,
  JOB_STATUSES,
  JobNotFoundError,
  ValidationError,
  resolveReferences,
  type ClaimedJob,
  type DataMap,
  type Job,
  type JobEvent,
  type JobStatus,
  type NewJob,
} from '../../core/index.js';
import {
  emptyCounts,
  trimAttemptError,
  type ClaimOptions,
  type Completion,
  type DeleteFinishedQuery,
  type BreakdownData,
  type BulkQuery,
  type BulkResult,
  type FlowTarget,
  type DependencyOptions,
  type ProgressReport,
  type JobDependencies,
  DEFAULT_CHILD_LIMIT,
  type GetOptions,
  type JobAction,
  type LimitReport,
  type PausedTarget,
  type JobStore,
  type StatsMinute,
  type StatsSample,
  type ListQuery,
  type StatusCounts,
  type ConcurrencyLimits,
  type ScheduleOptions,
  type WorkerLock,
} from '../job-store.js';
import {
  checkBulkIds,
  checkBulkMatches,
  recordChanged,
  selectedIds,
  splitBulk,
  type BulkRow,
} from '../bulk.js';
import {
  hasKeyLimits,
  hasLimits,
  pickWithinLimitsAsync,
  rateScope,
  type CandidateRow,
  type LimitState,
  type RunningCount,
  type RunningKeyCount,
  type StartRow,
} from '../limits.js';
import {
  releaseChildrenAsync,
  RELEASE_AFTER_END,
  RELEASE_IN_BACKGROUND,
  ReleaseWatchers,
  type AsyncReleaseOperations,
  type ReleaseBudget,
  type ReleaseOutcome,
} from '../dependency-release.js';
import { linkParents, type LinkStep } from '../dependency-links.js';
import { KJOBS_VERSION } from '../../version.js';
import { guardMigrations, readMigrations } from '../migrations.js';
import { driveAsync } from '../rule-driver.js';
import {
  refuseDuplicateRequeues,
  resolveDuplicates,
  runUniqueAsync,
  uniqueKeyOf,
  type AsyncUniqueOperations,
  type RequeueCandidate,
} from '../unique-jobs.js';
import {
  claimOrder,
  LIST_COLUMN,
  toJob as rowToJob,
  toJobError,
  type ErrorRow,
  type JobRow as Row,
} from '../rows.js';

import {
  CLAIM_POSITIONS_DEFAULTS,
  ClaimPositions,
  type ClaimPosition,
  type ClaimPositionsOptions,
} from './claim-positions.js';
import { Notifier } from './notifier.js';
import { PostgresWorkerLock, WORKER_LOCK_KEY } from './worker-lock.js';
import {
  channelOf,
  migrationStatements,
  SCHEMA_PATTERN,
  storeStatements,
  type Statement,
  type StoreStatements,
} from './statements.js';
import { isConnectionError, isRetryable, toStoreError } from './unavailable.js';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Options of the PostgreSQL store; only the connection string is needed. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` (any libpq-style URL the pg driver reads). */
  connectionString: string;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Schema of the store's tables, created by migrate(). Default `kjobs`. */
  schema?: string;
  /** How long to wait for a connection before the operation fails with StoreUnavailableError. Default 5000 ms. */
  connectionTimeoutMs?: number;
  /** The connections' application_name, as pg_stat_activity shows it. Default `kjobs`. */
  applicationName?: string;
  /** Where lost connections and reconnections are logged. Default: silent. */
  logger?: Logger;
  /**
   * Whose clock decides leases, due times and rescues. `database` (default): PostgreSQL's `now()`, one clock for
   * every node, so a node whose clock is off cannot rescue live jobs or start jobs early; the times callers pass
   * are then only used as offsets (a retry delay: moved onto the database's clock), and jobs scheduled without a
   * date are due at the database's now. Dates (a job's scheduled date, the next occurrence of a reoccurring job)
   * are kept as given. `caller`: the times the callers pass, as the SQLite store does (the contract tests use it to travel in
   * time).
   */
  clock?: 'database' | 'caller';
  /** When claims start from looked-up positions instead of the start of the index (claim-positions.ts); tests. */
  claimPositions?: Partial<ClaimPositionsOptions>;
}

/** Positions as claim_jobs_from and claim_candidates_from take them: priorities, scheduled times, ids. */
function positionArrays(positions: readonly ClaimPosition[]): [number[], number[], number[]] {
  return [positions.map((p) => p.priority), positions.map((p) => p.scheduledAt), positions.map((p) => p.id)];
}

/** A row of claim_positions (migration 006). */
interface PositionRow {
  priority: number;
  scheduled_at: number;
  id: number;
  took_ms: number;
}

/** bigint columns (ids, epoch milliseconds, counts) come back as JS numbers: all stay below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Retries of a transaction that PostgreSQL aborted as a deadlock or serialization failure. */
const TRANSACTION_ATTEMPTS = 3;

type Queryable = pg.Pool | pg.PoolClient;

/**
 * The store for many kjobs nodes: one PostgreSQL database (one schema) shared by every API and worker process.
 * Claims are one `FOR UPDATE SKIP LOCKED` statement per batch, completions one statement per kind of outcome,
 * and scheduling NOTIFYs the nodes listening (subscribe). A database that cannot be reached makes operations fail
 * at once with StoreUnavailableError; the pool reconnects by itself when it is back.
 */
export class PostgresJobStore implements JobStore {
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly sql: StoreStatements;
  private readonly channel: string;
  private readonly clientConfig: pg.ClientConfig;
  private readonly log: Logger;
  private notifier: Notifier | undefined;
  /** Where plain claims start reading jobs_due while a long transaction holds VACUUM back (claim-positions.ts). */
  private readonly claimPositions: ClaimPositions;
  /** The worker locks held through this store, given back when it closes. */
  private readonly workerLocks = new Set<PostgresWorkerLock>();
  private closed = false;
  /** Leases, due times and rescues on PostgreSQL's clock (see PostgresStoreOptions.clock). */
  readonly databaseClock: boolean;

  constructor(options: PostgresStoreOptions) {
    this.schema = options.schema ?? 'kjobs';
    if (!SCHEMA_PATTERN.test(this.schema)) {
      throw new ValidationError(
        `PostgreSQL schema name "${this.schema}": use letters, digits and underscores (at most 51), not starting with a digit`,
      );
    }
    this.log = (options.logger ?? pino({ level: 'silent' })).child({
      store: 'postgres',
      schema: this.schema,
    });
    this.sql = storeStatements(this.schema);
    this.databaseClock = (options.clock ?? 'database') === 'database';
    this.claimPositions = new ClaimPositions({ ...CLAIM_POSITIONS_DEFAULTS, ...options.claimPositions });
    this.channel = channelOf(this.schema);
    this.clientConfig = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: options.applicationName ?? 'kjobs',
      types: TYPES,
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    // An idle client whose server went away emits here; without a listener the process would crash.
    this.pool.on('error', (error) => {
      this.log.warn({ err: error }, 'an idle PostgreSQL connection was lost; the pool will open new ones');
    });
    // The pool listens only to idle clients. A checked-out client whose server goes away between two statements
    // (no statement running to fail) emits 'error' with nobody listening, which would crash the process; its next
    // statement fails as 'not queryable' instead, and the transaction drops it from the pool.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Applies the numbered migrations not yet recorded, under an advisory lock: nodes may start at once. */
  async migrate(): Promise<void> {
    const statements = migrationStatements(this.schema);
    await this.guard(() =>
      this.transaction(async (client) => {
        await client.query(statements.lock, [this.schema]);
        await client.query(statements.createSchema);
        await client.query(statements.createTable);
        await client.query(statements.guardColumns);
        const known = readMigrations(MIGRATIONS_FOLDER);
        const rows = (
          await client.query<{
            version: number;
            name: string;
            checksum: string | null;
            breaking: boolean | null;
            kjobs_version: string | null;
          }>(statements.applied)
        ).rows;
        guardMigrations(
          rows.map((row) => ({
            version: row.version,
            name: row.name,
            checksum: row.checksum,
            breaking: row.breaking,
            kjobsVersion: row.kjobs_version,
          })),
          known,
          KJOBS_VERSION,
        );
        for (const migration of known) {
          await client.query(statements.fill, [migration.version, migration.checksum, migration.breaking]);
        }
        const applied = new Set(rows.map((row) => row.version));
        for (const migration of known) {
          if (applied.has(migration.version)) continue;
          await client.query(statements.searchPath);
          await client.query(migration.sql);
          await client.query(statements.record, [
            migration.version,
            migration.name,
            migration.checksum,
            migration.breaking,
            KJOBS_VERSION,
          ]);
          this.log.info({ migration: migration.name }, 'applied migration');
        }
      }),
    );
  }

  async schedule(jobs: readonly NewJob[], options: ScheduleOptions = {}): Promise<number[]> {
    if (jobs.length === 0) return [];
    const uniqueKeys = jobs
      .filter((job) => job.unique && job.businessKey !== null)
      .map((job) => job.businessKey!);
    return this.guard(async () => {
      const linked = jobs.some((job) => job.dependsOn?.length);
      if (uniqueKeys.length === 0 && !linked) return this.insert(this.pool, jobs, Date.now());
      return this.transaction(async (client) => {
        const replaced = await runUniqueAsync(this.uniqueOperations(client), resolveDuplicates(jobs));
        const now = Date.now();
        const fresh = jobs.filter((_, n) => replaced[n] === undefined);
        const freshIds = fresh.length > 0 ? await this.insert(client, fresh, now) : [];
        const ids = replaced.map((id) => id ?? freshIds.shift()!);
        // In batch order: a request's earlier requests are linked (or cancelled) before it reads their status.
        for (const [index, job] of jobs.entries()) {
          if (!job.dependsOn?.length || replaced[index] !== undefined) continue;
          const parents = resolveReferences(job.dependsOn, ids, index);
          await driveAsync(linkParents(ids[index]!, job, parents, now, options.maxDependencyDepth), (step) =>
            this.linkStep(client, step),
          );
        }
        return ids;
      });
    });
  }

  /** The `now` to pass to a statement: null when the database's clock decides. */
  private nowParam(now: number): number | null {
    return this.databaseClock ? null : now;
  }

  /** One statement for the whole batch (arrays unnested in order); NOTIFYs the channel on commit. */
  private async insert(
    db: Queryable,
    jobs: readonly NewJob[],
    createdAt: number | number[],
  ): Promise<number[]> {
    const rows = await this.query<{ id: number }>(db, this.sql.insert, [
      jobs.map((job) => job.command),
      jobs.map((job) => job.businessKey),
      jobs.map((job) => job.containerId),
      jobs.map((job) => job.processInstanceId),
      jobs.map((job) => job.owner),
      jobs.map((job) => job.message),
      jobs.map((job) => job.priority),
      jobs.map((job) => job.retries),
      jobs.map((job) => job.scheduledAt),
      jobs.map((job) => JSON.stringify(job.requestData)),
      Array.isArray(createdAt) ? createdAt : jobs.map((job) => job.createdAt ?? createdAt),
      this.channel,
      this.databaseClock,
      jobs.map((job) => job.traceParent ?? null),
    ]);
    return rows.map((row) => row.id);
  }

  /** The SQL of the dependency links (dependency-links.ts), in the schedule's transaction. */
  private async linkStep(client: pg.PoolClient, step: LinkStep): Promise<unknown> {
    switch (step.op) {
      case 'parents':
        return (
          await this.query<{ id: number; status: JobStatus; dependency_depth: number }>(
            client,
            this.sql.parentsForUpdate,
            [step.ids],
          )
        ).map((row) => ({ id: row.id, status: row.status, depth: row.dependency_depth }));
      case 'link': {
        const { plan } = step;
        const waitingOn = plan.edges.filter((edge) => !edge.resolved).map((edge) => edge.parentId);
        if (waitingOn.length > 0) await this.query(client, this.sql.markParents, [waitingOn]);
        await this.query(client, this.sql.insertEdges, [
          step.childId,
          plan.edges.map((edge) => edge.parentId),
          plan.edges.map((edge) => edge.resolved),
          step.runOnFailure,
        ]);
        if (plan.waitingFor > 0 || plan.depth > 0)
          await this.query(client, this.sql.setLinks, [step.childId, plan.waitingFor, plan.depth]);
        return undefined;
      }
      case 'cancel':
        await this.query(client, this.sql.cancelForParent, [step.childId, step.at, step.message]);
        return undefined;
    }
  }

  async dependencies(id: number, options: DependencyOptions = {}): Promise<JobDependencies> {
    return this.guard(async () => {
      const [parents, children] = await Promise.all([
        this.query<JobRow>(this.pool, options.withData ? this.sql.parentsFull : this.sql.parents, [id]),
        this.query<JobRow>(this.pool, this.sql.children, [id, options.childLimit ?? DEFAULT_CHILD_LIMIT]),
      ]);
      return { parents: parents.map(toJob), children: children.map(toJob) };
    });
  }

  /**
   * The SQL of the unique rule (unique-jobs.ts): the keys are locked (advisory, per key) for the transaction, so two
   * schedules (or requeues) of one key take turns, and the second sees the first's job.
   */
  private uniqueOperations(client: pg.PoolClient): AsyncUniqueOperations {
    return {
      active: async (keys) => {
        await this.query(client, this.sql.lockKeys, [`kjobs.unique:${this.schema}`, keys]);
        const rows = await this.query<{ business_key: string; id: number; status: JobStatus }>(
          client,
          this.sql.activeByKeys,
          [keys],
        );
        return rows.map((row) => ({ businessKey: row.business_key, id: row.id, status: row.status }));
      },
      replace: async (id, requestData, scheduledAt) =>
        (await this.query(client, this.sql.replaceWaiting, [id, JSON.stringify(requestData), scheduledAt]))
          .length > 0,
    };
  }

  async get(id: number, options: GetOptions = {}): Promise<Job | undefined> {
    return this.guard(async () => {
      const [rows, errors] = await Promise.all([
        this.query<JobRow>(this.pool, options.withData ? this.sql.getFull : this.sql.getSummary, [id]),
        options.withErrors ? this.query<ErrorRow>(this.pool, this.sql.errorsOf, [id]) : undefined,
      ]);
      const row = rows[0];
      if (!row) return undefined;
      const job = toJob(row);
      if (errors) job.errors = errors.map(toJobError);
      return job;
    });
  }

  async list(query: ListQuery): Promise<Job[]> {
    const column = LIST_COLUMN[query.filter.by];
    const values: unknown[] = [query.limit, query.offset];
    if (column && 'value' in query.filter) values.push(query.filter.value);
    const statuses = [...new Set(query.statuses)];
    values.push(...statuses);
    const statement = this.sql.list(column, statuses.length, query.order);
    return this.guard(async () => (await this.query<JobRow>(this.pool, statement, values)).map(toJob));
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    if (options.limit <= 0) return [];
    const due = [
      this.nowParam(options.now),
      options.owner ?? null,
      options.containers ? [...options.containers] : null,
      [...(options.excludeCommands ?? [])],
    ];
    const rows = await this.guard(async () => {
      // Paused commands and containers: claim_jobs leaves them out itself (one round trip), the claim with limits
      // reads them under its lock.
      const positions = await this.claimPositionsNow(due[0]);
      // A remote worker's claim (its containers only, some commands) goes through the candidates too.
      const remote = options.onlyContainers === true || options.commands !== undefined;
      return hasLimits(options.limits) || remote
        ? this.transaction((client) =>
            this.claimWithinLimits(
              client,
              options,
              due,
              options.limits ?? {},
              remote ? undefined : positions,
            ),
          )
        : this.claimDue(options, due, positions);
    });
    return rows.map((row) => toJob(row) as ClaimedJob).sort(claimOrder);
  }

  /**
   * Where this claim starts reading jobs_due: undefined for its start (normally), or, while that is slow because a
   * long transaction keeps VACUUM from removing the entries of claimed jobs, from where each priority's waiting
   * jobs begin, looked up now and then (claim-positions.ts). Looked up outside the claim's transaction.
   */
  private async claimPositionsNow(dueBy: unknown): Promise<readonly ClaimPosition[] | undefined> {
    if (this.claimPositions.shouldLook(Date.now())) {
      this.claimPositions.looking();
      const look = this.lookForPositions(dueBy).catch((error: unknown) => {
        this.claimPositions.lookFailed();
        this.log.warn({ err: error }, 'looking up where the waiting jobs begin failed');
      });
      // The first look is waited for (the claim from the start would be slow); later ones run beside the claims,
      // which use the positions they have meanwhile, so that no claim waits for a look.
      if (this.claimPositions.waitsForLook()) await look;
    }
    return this.claimPositions.current();
  }

  private async lookForPositions(dueBy: unknown): Promise<void> {
    const rows = await this.query<PositionRow>(this.pool, this.sql.claimPositions, [dueBy]);
    // Each row tells the time so far when it was made: the last row, the whole look.
    const tookMs = Math.max(0, ...rows.map((row) => row.took_ms));
    const change = this.claimPositions.found(
      rows.map((row) => ({ priority: row.priority, scheduledAt: row.scheduled_at, id: row.id })),
      tookMs,
      Date.now(),
    );
    if (change === 'started') await this.warnOfHeldVacuum(tookMs);
    if (change === 'ended') this.log.info('claims read the queue from its start again: it is clean');
  }

  /** A claim without limits: claim_jobs from the start of jobs_due, or claim_jobs_from the positions. */
  private async claimDue(
    options: ClaimOptions,
    due: unknown[],
    positions: readonly ClaimPosition[] | undefined,
  ): Promise<JobRow[]> {
    const claim = [...due, options.workerId, options.leaseMs, options.limit];
    if (positions)
      return this.query<JobRow>(this.pool, this.sql.claimFrom, [...claim, ...positionArrays(positions)]);
    const started = performance.now();
    const rows = await this.query<JobRow>(this.pool, this.sql.claim, claim);
    this.claimPositions.claimedFromStart(performance.now() - started);
    return rows;
  }

  /**
   * Claims got slow because something keeps VACUUM from removing finished rows: says so, naming the oldest
   * transaction that holds it back when this connection may see it (pg_stat_activity), so an operator can end it.
   */
  private async warnOfHeldVacuum(tookMs: number): Promise<void> {
    const [oldest] = await this.pool
      .query<{ pid: number; seconds: number; state: string; query: string }>(
        `SELECT pid, extract(epoch FROM now() - xact_start)::integer AS seconds, state, left(query, 200) AS query
         FROM pg_stat_activity WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()
         ORDER BY age(backend_xmin) DESC LIMIT 1`,
      )
      .then((result) => result.rows)
      .catch(() => []);
    this.log.warn(
      { lookMs: Math.round(tookMs * 10) / 10, oldestTransaction: oldest },
      `claims are slow: reading where the waiting jobs begin took ${Math.round(tookMs)} ms, as VACUUM cannot ` +
        'remove the index entries of claimed jobs' +
        (oldest
          ? ` while transaction ${oldest.pid} (${oldest.state}, open ${oldest.seconds} s) may still see them`
          : '') +
        '; claims now start from where the waiting jobs begin, looked up now and then',
    );
  }

  /**
   * With concurrency limits, claims take turns (an advisory lock held to commit): count what RUNNING across all
   * workers, pick due jobs that fit (the rule of ../limits.ts), mark them RUNNING.
   */
  private async claimWithinLimits(
    client: pg.PoolClient,
    options: ClaimOptions,
    due: unknown[],
    limits: ConcurrencyLimits,
    positions: readonly ClaimPosition[] | undefined,
  ): Promise<JobRow[]> {
    await this.query(client, this.sql.limitsLock, [`kjobs.limits:${this.schema}`]);
    await this.query(client, this.sql.noSorts, []);
    const state: LimitState = {
      running: await this.query<RunningCount>(client, this.sql.runningCounts, []),
      // Read again under the lock: a pause committed meanwhile holds from this claim on.
      paused: await this.pausedRows(client),
    };
    if (hasKeyLimits(limits)) {
      state.runningKeys = await this.query<RunningKeyCount>(client, this.sql.runningKeys, []);
    }
    const rates = rateScope(limits);
    let limitOptions = options;
    if (rates) {
      // Start times are written on the database's clock: rate windows are counted on it too, and the time a window
      // opens is handed back on the caller's clock.
      if (this.databaseClock) limitOptions = await this.onDatabaseClock(client, options);
      state.starts = await this.query<StartRow>(client, this.sql.recentStarts, [
        limitOptions.now - rates.longestMs,
        rates.commands,
        rates.containers,
      ]);
    }
    const chosen = await pickWithinLimitsAsync(limitOptions, limits, state, async (query) => {
      const values = [
        due[0],
        due[1],
        due[2],
        query.excludeCommands,
        options.limit,
        query.excludeContainers,
        query.excludeKeys,
      ];
      if (options.onlyContainers || options.commands) {
        const patterns = options.commands ? options.commands.map(likePattern) : null;
        return this.query<CandidateRow>(client, this.sql.remoteCandidates, [...values, patterns]);
      }
      if (positions) {
        return this.query<CandidateRow>(client, this.sql.candidatesFrom, [
          ...values,
          ...positionArrays(positions),
        ]);
      }
      const started = performance.now();
      const rows = await this.query<CandidateRow>(client, this.sql.candidates, values);
      this.claimPositions.claimedFromStart(performance.now() - started);
      return rows;
    });
    if (chosen.length === 0) return [];
    return this.query<JobRow>(client, this.sql.claimChosen, [
      due[0],
      options.workerId,
      options.leaseMs,
      chosen,
    ]);
  }

  /** Claim options whose `now` is the database's, with the rate report's times moved back to the caller's. */
  private async onDatabaseClock(client: pg.PoolClient, options: ClaimOptions): Promise<ClaimOptions> {
    const [row] = await this.query<{ now: string | number }>(client, this.sql.dbNow, []);
    const databaseNow = Number(row!.now);
    const offset = options.now - databaseNow;
    const onLimits = options.onLimits;
    return {
      ...options,
      now: databaseNow,
      ...(onLimits
        ? {
            onLimits: (report: LimitReport) =>
              onLimits({
                ...report,
                rateOpensAt: report.rateOpensAt === null ? null : report.rateOpensAt + offset,
              }),
          }
        : {}),
    };
  }

  /**
   * Writes a batch of outcomes: one statement per kind (fenced on RUNNING and the worker), so a batch of
   * successes is one round trip. Outcomes needing more (errors of several kinds, reschedules, a NOTIFY for jobs
   * that wait again) share one transaction.
   */
  async complete(outcomes: readonly Completion[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    const rounds = roundsOf(outcomes);
    const wakesOthers = outcomes.some(
      (outcome) => outcome.kind === 'release' || outcome.kind === 'retry' || outcome.reschedule !== undefined,
    );
    const single = rounds.length === 1 && !wakesOthers && new Set(outcomes.map((o) => o.kind)).size === 1;
    // Jobs given back are due again where they were claimed: claims from positions must not start past them.
    if (outcomes.some((outcome) => outcome.kind === 'release')) this.claimPositions.forget();
    const written = new Set<number>();
    const parents: number[] = [];
    const result = await this.guard(async () => {
      const write = async (db: Queryable) => {
        for (const round of rounds) {
          for (const row of await this.writeRound(db, outcomes, round)) {
            written.add(row.n);
            if (row.has_children) parents.push(outcomes[row.n]!.jobId);
          }
        }
        const reschedules = outcomes.flatMap((outcome, n) =>
          written.has(n) && outcome.kind !== 'release' && outcome.reschedule
            ? [{ job: outcome.reschedule, now: outcome.now }]
            : [],
        );
        if (reschedules.length > 0) {
          await this.insert(
            db,
            reschedules.map((r) => r.job),
            // Next occurrences are dates (a cron's at whole seconds), computed on the node's clock: kept as given.
            reschedules.map((r) => r.now),
          );
        }
        if (wakesOthers) await this.query(db, this.sql.notify, [this.channel]);
      };
      if (single) await write(this.pool);
      else await this.transaction(write);
      return outcomes.map((_, n) => written.has(n));
    });
    await this.releaseAfterEnd(parents);
    return result;
  }

  /**
   * Right after the write that ended `ids` (jobs with children) committed: releases their children, and what
   * follows, within a small budget, in a transaction of its own; a larger graph is left marked for releasePending,
   * and so is this part when it fails: the end is written whatever the release does.
   */
  private async releaseAfterEnd(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const outcome = await this.transaction((client) =>
        releaseChildrenAsync(this.releaseOperations(client), ids, RELEASE_AFTER_END),
      );
      if (outcome.more) this.releaseWatchers.left();
    } catch (error) {
      this.releaseWatchers.left();
      this.log.warn(
        { err: error, jobs: ids.slice(0, 10) },
        'releasing the children of ended jobs failed; the background release will try again',
      );
    }
  }

  private readonly releaseWatchers = new ReleaseWatchers();

  watchReleases(listener: () => void): () => void {
    return this.releaseWatchers.watch(listener);
  }

  async releasePending(
    budget: ReleaseBudget = RELEASE_IN_BACKGROUND,
    parentIds?: readonly number[],
  ): Promise<ReleaseOutcome> {
    return this.guard(() =>
      this.transaction((client) =>
        releaseChildrenAsync(this.releaseOperations(client), parentIds ?? null, budget),
      ),
    );
  }

  async pendingReleases(limit: number): Promise<number[]> {
    return this.guard(async () =>
      (await this.query<{ id: number }>(this.pool, this.sql.pendingReleaseIds, [limit])).map((row) => row.id),
    );
  }

  async abandonRelease(parentId: number, message: string, now: number): Promise<boolean> {
    const rows = await this.guard(() =>
      this.query(this.pool, this.sql.abandonRelease, [
        parentId,
        storableError({ message, stacktrace: null }).message,
        now,
      ]),
    );
    return rows.length > 0;
  }

  /** The SQL of the release walk (dependency-release.ts), on the connection of its transaction. */
  private releaseOperations(client: pg.PoolClient): AsyncReleaseOperations {
    return {
      parents: async (ids, limit) => {
        const rows = await this.query<{ id: number; status: JobStatus; finished_at: number | null }>(
          client,
          ids === null ? this.sql.pendingParents : this.sql.pendingParentsOf,
          ids === null ? [limit] : [ids, limit],
        );
        return rows.map((row) => ({ id: row.id, status: row.status, finishedAt: row.finished_at }));
      },
      links: async (parentIds, limit) =>
        (
          await this.query<{ parent_id: number; job_id: number; run_on_failure: boolean }>(
            client,
            this.sql.openLinks,
            [parentIds, limit],
          )
        ).map((row) => ({ parentId: row.parent_id, childId: row.job_id, runOnFailure: row.run_on_failure })),
      apply: async (plan, parentIds) => {
        const children = [...plan.decrements.map((d) => d.childId), ...plan.cancels.map((c) => c.childId)];
        let rows: { kind: 'cancelled' | 'released'; id: number; has_children: boolean }[] = [];
        if (children.length > 0 || plan.links.length > 0) {
          if (children.length > 0) await this.query(client, this.sql.lockChildren, [children]);
          rows = await this.query(client, this.sql.applyRelease, [
            plan.decrements.map((d) => d.childId),
            plan.decrements.map((d) => d.by),
            plan.cancels.map((c) => c.childId),
            plan.cancels.map((c) => c.message),
            plan.cancels.map((c) => c.at),
            plan.links.map((link) => link.parentId),
            plan.links.map((link) => link.childId),
          ]);
        }
        const cancelled = rows.filter((row) => row.kind === 'cancelled');
        const released = rows.length - cancelled.length;
        await this.query(client, this.sql.unmarkParents, [parentIds, released > 0, this.channel]);
        return {
          cascade: cancelled.filter((row) => row.has_children).map((row) => row.id),
          cancelled: cancelled.length,
          released,
        };
      },
    };
  }

  /** Writes the outcomes at `indexes` (no job twice), answering the indexes written. */
  private async writeRound(
    db: Queryable,
    outcomes: readonly Completion[],
    indexes: number[],
  ): Promise<WrittenRow[]> {
    const succeeded: number[] = [];
    const failed: number[] = [];
    const released: number[] = [];
    for (const n of indexes) {
      const kind = outcomes[n]!.kind;
      (kind === 'succeed' ? succeeded : kind === 'release' ? released : failed).push(n);
    }
    const written: WrittenRow[] = [];
    const pick = <T>(list: number[], value: (outcome: Completion) => T) =>
      list.map((n) => value(outcomes[n]!));
    if (succeeded.length > 0) {
      const rows = await this.query<WrittenRow>(db, this.sql.succeed, [
        pick(succeeded, (o) => o.jobId),
        pick(succeeded, (o) => o.workerId),
        pick(succeeded, (o) => (o.kind === 'succeed' ? JSON.stringify(o.responseData) : '{}')),
        pick(succeeded, (o) => o.now),
        succeeded,
        this.databaseClock,
      ]);
      written.push(...rows);
    }
    if (failed.length > 0) {
      const failures = failed.map((n) => outcomes[n] as Extract<Completion, { kind: 'retry' | 'fail' }>);
      const errors = failures.map((o) => storableError(o.error));
      const rows = await this.query<WrittenRow>(db, this.sql.failOrRetry, [
        failures.map((o) => o.jobId),
        failures.map((o) => o.workerId),
        failures.map((o) => (o.kind === 'retry' ? 'RETRYING' : 'ERROR')),
        failures.map((o) => o.retries),
        failures.map((o) => o.scheduledAt),
        failures.map((o) => (o.kind === 'fail' ? o.now : null)),
        failed,
        errors.map((e) => e.message),
        errors.map((e) => e.stacktrace),
        failures.map((o) => o.now),
        this.databaseClock,
      ]);
      written.push(...rows);
    }
    if (released.length > 0) {
      const rows = await this.query<WrittenRow>(db, this.sql.release, [
        pick(released, (o) => o.jobId),
        pick(released, (o) => o.workerId),
        released,
      ]);
      written.push(...rows);
    }
    return written;
  }

  async setProgress(jobId: number, workerId: string, progress: ProgressReport, at: number): Promise<boolean> {
    return this.guard(async () => {
      const result = await this.pool.query({
        name: this.sql.setProgress.name,
        text: this.sql.setProgress.text,
        values: [jobId, workerId, JSON.stringify(progress), at],
      });
      return (result.rowCount ?? 0) > 0;
    });
  }

  async renewLeases(
    workerId: string,
    jobIds: readonly number[],
    now: number,
    leaseMs: number,
  ): Promise<number[]> {
    if (jobIds.length === 0) return [];
    const held = await this.guard(() =>
      this.query<{ id: number }>(this.pool, this.sql.renew, [
        this.nowParam(now),
        [...jobIds],
        workerId,
        leaseMs,
      ]),
    );
    const renewed = new Set(held.map((row) => row.id));
    return jobIds.filter((id) => !renewed.has(id));
  }

  async findExpiredLeases(now: number, limit: number): Promise<ClaimedJob[]> {
    return this.guard(async () =>
      (await this.query<JobRow>(this.pool, this.sql.expired, [this.nowParam(now), limit])).map(
        (row) => toJob(row) as ClaimedJob,
      ),
    );
  }

  private async pausedRows(db: Queryable): Promise<PausedTarget[]> {
    const rows = await this.query<{ kind: FlowTarget['kind']; name: string; paused_at: number }>(
      db,
      this.sql.paused,
      [],
    );
    return rows.map((row) => ({ kind: row.kind, name: row.name, pausedAt: row.paused_at }));
  }

  async pause(target: FlowTarget, now: number): Promise<void> {
    await this.guard(() => this.query(this.pool, this.sql.pause, [target.kind, target.name, now]));
  }

  async resume(target: FlowTarget): Promise<boolean> {
    this.claimPositions.forget(); // the jobs it held back are where they were
    const rows = await this.guard(() =>
      this.query<{ n: number }>(this.pool, this.sql.resume, [target.kind, target.name, this.channel]),
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  async listPaused(): Promise<PausedTarget[]> {
    return this.guard(() => this.pausedRows(this.pool));
  }

  async runningWorkers(): Promise<string[]> {
    return this.guard(async () =>
      (await this.query<{ worker_id: string }>(this.pool, this.sql.runningWorkers, [])).map(
        (row) => row.worker_id,
      ),
    );
  }

  async holdWorkerLock(workerId: string): Promise<WorkerLock | undefined> {
    const lock = await this.guard(() =>
      PostgresWorkerLock.hold(this.clientConfig, this.schema, workerId, this.log),
    );
    this.workerLocks.add(lock);
    return {
      release: async () => {
        this.workerLocks.delete(lock);
        await lock.release();
      },
    };
  }

  /** Tries the worker's lock in a transaction of its own (so it is given back at once): taken means free. */
  async isWorkerGone(workerId: string): Promise<boolean> {
    return this.guard(async () => {
      const result = await this.pool.query<{ free: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${WORKER_LOCK_KEY}) AS free`,
        [this.schema, workerId],
      );
      return result.rows[0]!.free;
    });
  }

  async expireLeasesOf(workerId: string): Promise<number> {
    return this.guard(async () => {
      const result = await this.pool.query({
        name: this.sql.expireLeasesOf.name,
        text: this.sql.expireLeasesOf.text,
        values: [workerId],
      });
      return result.rowCount ?? 0;
    });
  }

  async cancel(id: number, now: number, options: { evenRunning?: boolean } = {}): Promise<Job> {
    let hasChildren = false;
    const event = options.evenRunning ? 'cancelEvenRunning' : 'cancel';
    const job = await this.guard(() =>
      this.transition(id, event, this.sql[event], [id, this.nowParam(now)], this.pool, (row) => {
        hasChildren = row.has_children === true;
      }),
    );
    if (hasChildren) await this.releaseAfterEnd([id]);
    return job;
  }

  async requeue(id: number, now: number): Promise<Job> {
    const job = await this.requeueJob(id, now);
    // It keeps its scheduled time (as in KIE): claims from positions must not start past it.
    this.claimPositions.rewind(job.priority, job.scheduledAt, job.id);
    return job;
  }

  private async requeueJob(id: number, now: number): Promise<Job> {
    return this.guard(async () => {
      const [job] = await this.query<JobRow>(this.pool, this.sql.getFull, [id]);
      const candidate = job ? requeueCandidate(job) : undefined;
      if (!candidate || uniqueKeyOf(candidate) === null)
        return this.transition(id, 'requeue', this.sql.requeue, [id, this.channel, now]);
      // A unique job back in the queue is a new active job for its key: the same check as scheduling one.
      return this.transaction(async (client) => {
        const refused = await runUniqueAsync(
          this.uniqueOperations(client),
          refuseDuplicateRequeues([candidate]),
        );
        const error = refused.get(id);
        if (error) throw error;
        return this.transition(id, 'requeue', this.sql.requeue, [id, this.channel, now], client);
      });
    });
  }

  /** One guarded statement; when it changes nothing, the job is missing or its status refuses `event`. */
  private async transition(
    id: number,
    event: JobEvent,
    statement: Statement,
    values: unknown[],
    db: Queryable = this.pool,
    onRow?: (row: JobRow) => void,
  ): Promise<Job> {
    const [row] = await this.query<JobRow>(db, statement, values);
    if (row) {
      onRow?.(row);
      return toJob(row);
    }
    const [current] = await this.query<{ status: JobStatus }>(db, this.sql.statusOf, [id]);
    if (!current) throw new JobNotFoundError(id);
    throw new InvalidStateError(id, event, current.status);
  }

  async updateData(id: number, patch: DataMap): Promise<Job> {
    return this.guard(() =>
      this.transaction(async (client) => {
        const [row] = await this.query<{ status: JobStatus; request_data: DataMap }>(
          client,
          this.sql.dataForUpdate,
          [id],
        );
        if (!row) throw new JobNotFoundError(id);
        if (!canApply('updateData', row.status)) throw new InvalidStateError(id, 'updateData', row.status);
        // Merged here, not with jsonb's ||, so that the keys keep their order.
        const data = { ...row.request_data, ...patch };
        const [updated] = await this.query<JobRow>(client, this.sql.setData, [id, JSON.stringify(data)]);
        return toJob(updated!);
      }),
    );
  }

  async nextDueIn(now: number): Promise<number | null> {
    return this.guard(async () => {
      const [row] = await this.query<{ wait: number | null }>(this.pool, this.sql.nextDue, [
        this.nowParam(now),
      ]);
      return row?.wait ?? null;
    });
  }

  async deleteFinished(query: DeleteFinishedQuery): Promise<{ jobs: number; errors: number }> {
    const statuses = query.statuses.length ? query.statuses : FINAL_STATUSES;
    return this.guard(async () => {
      const [row] = await this.query<{ jobs: number; errors: number }>(this.pool, this.sql.deleteFinished, [
        statuses,
        query.olderThan,
        query.containerId || null,
        query.limit ?? null,
        this.databaseClock && query.now !== undefined ? query.now : null,
      ]);
      return { jobs: row?.jobs ?? 0, errors: row?.errors ?? 0 };
    });
  }

  async countByStatus(): Promise<StatusCounts> {
    return this.guard(async () => {
      const counts = emptyCounts();
      for (const row of await this.query<{ status: JobStatus; n: number }>(this.pool, this.sql.counts, [])) {
        counts[row.status] = row.n;
      }
      return counts;
    });
  }

  async bulk(query: BulkQuery): Promise<BulkResult> {
    checkBulkIds(query);
    const parents: number[] = [];
    const outcome = await this.guard(() =>
      this.transaction(async (client) => {
        let rows: BulkPgRow[];
        if ('ids' in query.selection) {
          rows = await this.query<BulkPgRow>(client, this.sql.bulkByIds, [selectedIds(query)]);
        } else {
          const { filter, statuses } = query.selection;
          const column = LIST_COLUMN[filter.by];
          const values: unknown[] = [query.max + 1, statuses.length > 0 ? statuses : JOB_STATUSES];
          if (column && 'value' in filter) values.push(filter.value);
          rows = await this.query<BulkPgRow>(client, this.sql.bulkByFilter(column), values);
          checkBulkMatches(query, rows.length);
        }
        const { apply, result } = splitBulk(query, rows);
        let chosen = apply as BulkPgRow[];
        if (query.event === 'requeue') {
          const refused = await runUniqueAsync(
            this.uniqueOperations(client),
            refuseDuplicateRequeues(chosen.map(requeueCandidate)),
          );
          for (const row of chosen) {
            const error = refused.get(row.id);
            if (error) result.refused.push({ id: row.id, status: row.status, reason: error.message });
          }
          chosen = chosen.filter((row) => !refused.has(row.id));
        }
        const ids = chosen.map((row) => row.id);
        if (ids.length > 0) {
          const changed =
            query.event === 'cancel'
              ? await this.query<{ id: number; has_children: boolean }>(client, this.sql.bulkCancel, [
                  ids,
                  query.now,
                ])
              : await this.query<{ id: number }>(client, this.sql.bulkRequeue, [
                  ids,
                  query.now,
                  this.channel,
                ]);
          recordChanged(result, rows, new Set(changed.map((row) => row.id)));
          parents.push(
            ...changed.filter((row) => 'has_children' in row && row.has_children).map((row) => row.id),
          );
          if (query.event === 'requeue') this.claimPositions.forget();
        }
        result.refused.sort((a, b) => a.id - b.id);
        return result;
      }),
    );
    await this.releaseAfterEnd(parents);
    return outcome;
  }

  async actionsOf(jobId: number): Promise<JobAction[]> {
    return this.guard(async () =>
      (
        await this.query<{ kind: JobAction['kind']; at: number; from_status: JobStatus }>(
          this.pool,
          this.sql.actionsOf,
          [jobId],
        )
      ).map((row) => ({ kind: row.kind, at: row.at, fromStatus: row.from_status })),
    );
  }

  async recordStats(sample: StatsSample): Promise<void> {
    await this.guard(() =>
      this.transaction(async (client) => {
        await this.query(client, this.sql.statsFinished, [sample.since, sample.now, sample.keepBefore]);
        await this.query(client, this.sql.statsWaiting, [Math.floor(sample.now / 60_000) * 60_000]);
        await this.query(client, this.sql.statsForget, [sample.forgetBefore]);
      }),
    );
  }

  async readStats(from: number, to: number): Promise<StatsMinute[]> {
    return this.guard(() => this.query<StatsMinute>(this.pool, this.sql.readStats, [from, to]));
  }

  async breakdown(by: 'command' | 'container', since: number): Promise<BreakdownData> {
    const key = by === 'command' ? 'command' : 'container_id';
    return this.guard(async () => {
      const [counts, runs] = await Promise.all([
        this.query<BreakdownData['counts'][number]>(this.pool, this.sql.breakdownCounts(key), []),
        this.query<BreakdownData['runs'][number]>(this.pool, this.sql.breakdownRuns(key), [since]),
      ]);
      return { counts, runs };
    });
  }

  /** LISTENs on a dedicated connection; `listener` is called on every schedule, requeue, retry and release. */
  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    this.notifier ??= new Notifier(this.clientConfig, this.channel, this.log);
    return this.notifier.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.notifier?.close();
    // Locks of workers not stopped: their connections would keep the process alive.
    await Promise.all([...this.workerLocks].map((lock) => lock.release()));
    await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow>(
    db: Queryable,
    statement: Statement,
    values: unknown[],
  ): Promise<R[]> {
    return (await db.query<R>({ name: statement.name, text: statement.text, values })).rows;
  }

  /**
   * Runs `work` in a transaction on one pooled connection; a deadlock or serialization failure runs it again.
   * A connection that broke is dropped from the pool rather than given back.
   */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        let broken = isConnectionError(error);
        if (!broken)
          broken = await client.query('ROLLBACK').then(
            () => false,
            () => true,
          );
        client.release(broken ? toError(error) : undefined);
        if (!broken && isRetryable(error) && attempt < TRANSACTION_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  /** Maps a lost database to StoreUnavailableError (HTTP 503); domain errors pass as they are. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/**
 * Splits a batch into rounds in which no job appears twice (a job can appear twice only in odd cases, e.g. the
 * outcome of its worker and a rescue); rounds are written in order, as the SQLite store writes outcomes one by one.
 */
function roundsOf(outcomes: readonly Completion[]): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<number, number>();
  outcomes.forEach((outcome, n) => {
    const round = seen.get(outcome.jobId) ?? 0;
    seen.set(outcome.jobId, round + 1);
    (rounds[round] ??= []).push(n);
  });
  return rounds;
}

/** Trimmed as KIE trims it; U+0000, which PostgreSQL text cannot hold, becomes U+FFFD (same length). */
function storableError(error: { message: string | null; stacktrace: string | null }) {
  const trimmed = trimAttemptError(error);
  const clean = (text: string | null) => (text === null ? null : text.replace(/\0/g, '\uFFFD'));
  return { message: clean(trimmed.message), stacktrace: clean(trimmed.stacktrace) };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A command pattern (`*`: any run of characters) as a LIKE pattern; `%`, `_` and `\` match themselves. */
function likePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

/** A row about to be requeued, for the unique rule. */
function requeueCandidate(row: {
  id: number;
  status: JobStatus;
  business_key: string | null;
  request_data?: unknown;
}): RequeueCandidate {
  const data = row.request_data;
  return {
    id: row.id,
    status: row.status,
    businessKey: row.business_key,
    requestData: typeof data === 'object' && data !== null ? (data as DataMap) : undefined,
  };
}

type JobRow = Row<DataMap>;
/** An outcome written: its index in the batch, and whether its job ended with children to release. */
type WrittenRow = { n: number; has_children?: boolean };
type BulkPgRow = BulkRow & { business_key: string | null; request_data: DataMap };

const toJob = (row: JobRow): Job => rowToJob(row, (data) => data);
