import Database from 'better-sqlite3';
import pino, { type Logger } from 'pino';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACTIVE_STATUSES,
  allowedFrom,
  canApply,
  DuplicateJobError,
  InvalidStateError,
  JobNotFoundError,
  FINAL_STATUSES,
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
  MAX_ERROR_MESSAGE,
  trimAttemptError,
  type ClaimOptions,
  type Completion,
  type ConcurrencyLimits,
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
  type PausedTarget,
  type JobStore,
  type StatsMinute,
  type StatsSample,
  type ListQuery,
  type ScheduleOptions,
  type StatusCounts,
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
  pickWithinLimits,
  rateScope,
  type CandidateRow,
  type LimitState,
  type RunningCount,
  type RunningKeyCount,
  type StartRow,
} from '../limits.js';
import {
  releaseChildren,
  RELEASE_AFTER_END,
  RELEASE_IN_BACKGROUND,
  ReleaseWatchers,
  type ReleaseBudget,
  type ReleaseOperations,
  type ReleaseOutcome,
} from '../dependency-release.js';
import { linkParents, type LinkStep } from '../dependency-links.js';
import { KJOBS_VERSION } from '../../version.js';
import { guardMigrations, readMigrations } from '../migrations.js';
import { drive } from '../rule-driver.js';
import {
  refuseDuplicateRequeues,
  resolveDuplicates,
  runUnique,
  type ActiveJob,
  type RequeueCandidate,
  type UniqueOperations,
} from '../unique-jobs.js';
import { SqliteWorkerLocks } from './worker-locks.js';
import {
  claimOrder,
  LIST_COLUMN,
  SUMMARY_COLUMNS,
  toJob as rowToJob,
  toJobError,
  type ErrorRow,
  type JobRow as Row,
} from '../rows.js';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throwaway store. Its folder is created if missing. */
  path: string;
  /**
   * SQLite's `synchronous`: NORMAL (default) keeps every committed job through a process crash, and may lose the
   * last commits on power loss; FULL survives power loss too, at the cost of an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Where failures the store gets over by itself are logged (a release left to the background). Default: silent. */
  logger?: Logger;
}

const MARK_RUNNING = `UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = @now,
  started_at = @now, worker_id = @workerId, lease_expires_at = @now + @leaseMs`;

/** Named parameters of the claim statements. */
function claimParams(options: CandidateOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {
    now: options.now,
    limit: options.limit,
    workerId: options.workerId,
    leaseMs: options.leaseMs,
  };
  if (options.owner !== undefined) params.owner = options.owner;
  options.containers?.forEach((name, i) => (params[`c${i}`] = name));
  options.excludeCommands?.forEach((name, i) => (params[`x${i}`] = name));
  options.excludeContainers?.forEach((name, i) => (params[`y${i}`] = name));
  options.excludeKeys?.forEach((name, i) => (params[`k${i}`] = name));
  options.commands?.forEach((pattern, i) => (params[`g${i}`] = pattern.replace(/[?[]/g, '[$&]')));
  return params;
}

/** A claim's options with what the limits leave out, and whether to leave paused commands and containers out. */
type CandidateOptions = ClaimOptions & {
  excludeContainers?: readonly string[];
  excludeKeys?: readonly string[];
  skipPaused?: boolean;
};

/** The request-data key of fair concurrency, as text. */
const CONCURRENCY_KEY = `CAST(json_extract(request_data, '$.concurrencyKey') AS TEXT)`;

/** The statuses of a job that waits to start: what replace and debounce update. */
const WAITING_STATUSES: readonly JobStatus[] = ['QUEUED', 'RETRYING'];

const sqlList = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');

/** The embedded store: one SQLite file in WAL mode, shared safely by the processes of one machine. */
/** Rows of a list read at once; larger pages are read in chunks of this many. */
const LIST_CHUNK = 500;

/** Runs `work` again while SQLite answers SQLITE_BUSY without waiting (a few times, 20 ms apart). */
function whileBusy<T>(work: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || attempt >= 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export class SqliteJobStore implements JobStore {
  readonly db: Database.Database;
  private prepared: ReturnType<SqliteJobStore['prepare']> | undefined;
  private readonly statementCache = new Map<string, Database.Statement>();
  /** Told when a parent's end released children in this process (other processes poll). */
  private readonly listeners = new Set<() => void>();

  /** Worker locks next to the database file; none for an in-memory store, which no other process can open. */
  private readonly workerLocks: SqliteWorkerLocks | undefined;

  private readonly log: Logger;

  constructor(options: SqliteStoreOptions) {
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ store: 'sqlite' });
    if (options.path !== ':memory:') {
      mkdirSync(dirname(options.path), { recursive: true });
      this.workerLocks = new SqliteWorkerLocks(options.path);
    }
    this.db = new Database(options.path);
    // First, so that processes opening one file at once (--workers) wait for each other rather than fail.
    this.db.pragma('busy_timeout = 5000');
    // Switching a new file to WAL needs it alone for a moment; another process opening it at once can refuse.
    whileBusy(() => this.db.pragma('journal_mode = WAL'));
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
  }

  async migrate(): Promise<void> {
    // In a write transaction from its start: as an autocommit statement, two processes creating a new file's
    // table at once would read the old snapshot and then fail to write it (SQLITE_BUSY_SNAPSHOT, "database is
    // locked") instead of waiting their turn.
    const known = readMigrations(MIGRATIONS_FOLDER);
    this.db
      .transaction(() => {
        this.db.exec(`CREATE TABLE IF NOT EXISTS kjobs_migrations (
          version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
        // What the guard reads (migrations.ts), added to the table of a database of an earlier release.
        const columns = new Set(
          (this.db.prepare('PRAGMA table_info(kjobs_migrations)').all() as { name: string }[]).map(
            (c) => c.name,
          ),
        );
        for (const [column, type] of [
          ['checksum', 'TEXT'],
          ['breaking', 'INTEGER'],
          ['kjobs_version', 'TEXT'],
        ]) {
          if (!columns.has(column!))
            this.db.exec(`ALTER TABLE kjobs_migrations ADD COLUMN ${column} ${type}`);
        }
        const applied = (
          this.db
            .prepare('SELECT version, name, checksum, breaking, kjobs_version FROM kjobs_migrations')
            .all() as {
            version: number;
            name: string;
            checksum: string | null;
            breaking: number | null;
            kjobs_version: string | null;
          }[]
        ).map((row) => ({
          version: row.version,
          name: row.name,
          checksum: row.checksum,
          breaking: row.breaking === null ? null : row.breaking === 1,
          kjobsVersion: row.kjobs_version,
        }));
        guardMigrations(applied, known, KJOBS_VERSION);
        // Migrations applied by an earlier release get their checksum now (what the files say today).
        const fill = this.db.prepare(
          'UPDATE kjobs_migrations SET checksum = ?, breaking = ? WHERE version = ? AND checksum IS NULL',
        );
        for (const migration of known)
          fill.run(migration.checksum, migration.breaking ? 1 : 0, migration.version);
      })
      .immediate();
    const applied = new Set(
      this.db
        .prepare('SELECT version FROM kjobs_migrations')
        .all()
        .map((row) => (row as { version: number }).version),
    );
    for (const migration of known) {
      if (applied.has(migration.version)) continue;
      this.db
        .transaction(() => {
          // Another process may have applied it while this one waited for the write lock.
          if (this.db.prepare('SELECT 1 FROM kjobs_migrations WHERE version = ?').get(migration.version))
            return;
          this.db.exec(migration.sql);
          this.db
            .prepare(
              `INSERT INTO kjobs_migrations (version, name, applied_at, checksum, breaking, kjobs_version)
              VALUES (?, ?, ?, ?, ?, ?)`,
            )
            .run(
              migration.version,
              migration.name,
              Date.now(),
              migration.checksum,
              migration.breaking ? 1 : 0,
              KJOBS_VERSION,
            );
        })
        .immediate();
    }
    this.prepared = this.prepare();
  }

  /** Statements of the hot paths, prepared once after migrating. */
  private prepare() {
    const db = this.db;
    const due = sqlList(allowedFrom('claim'));
    return {
      insert:
        db.prepare(`INSERT INTO jobs (status, command, business_key, container_id, process_instance_id, owner,
          message, priority, retries, executions, scheduled_at, request_data, created_at, trace_parent)
        VALUES ('QUEUED', @command, @businessKey, @containerId, @processInstanceId, @owner,
          @message, @priority, @retries, 0, @scheduledAt, @requestData, @createdAt, @traceParent)`),
      getFull: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      replaceWaiting: db.prepare(
        `UPDATE jobs SET request_data = ?, scheduled_at = coalesce(?, scheduled_at)
        WHERE id = ? AND status IN (${sqlList(WAITING_STATUSES)})`,
      ),
      getSummary: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE id = ?`),
      errorsOf: db.prepare('SELECT * FROM job_errors WHERE job_id = ? ORDER BY id'),
      succeed: db.prepare(`UPDATE jobs SET status = 'DONE', response_data = ?, finished_at = ?,
          worker_id = NULL, lease_expires_at = NULL
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      failOrRetry: db.prepare(`UPDATE jobs SET status = ?, retries = ?, scheduled_at = ?, finished_at = ?,
          worker_id = NULL, lease_expires_at = NULL
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      release: db.prepare(`UPDATE jobs SET status = 'QUEUED', executions = executions - 1,
          worker_id = NULL, lease_expires_at = NULL
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      // After the failure's update, which leaves started_at: the attempt's start.
      insertError: db.prepare(`INSERT INTO job_errors (job_id, message, stacktrace, error_date, started_at)
        VALUES (?, ?, ?, ?, (SELECT started_at FROM jobs WHERE id = ?))`),
      insertAction: db.prepare('INSERT INTO job_actions (job_id, kind, at, from_status) VALUES (?, ?, ?, ?)'),
      actionsOf: db.prepare('SELECT kind, at, from_status FROM job_actions WHERE job_id = ? ORDER BY id'),
      statsFinished: db.prepare(`INSERT INTO job_stats (minute, done, error)
          SELECT (finished_at / 60000) * 60000, sum(status = 'DONE'), sum(status = 'ERROR')
          FROM jobs WHERE finished_at >= @since AND finished_at < @now AND status IN ('DONE', 'ERROR')
          GROUP BY 1
        ON CONFLICT (minute) DO UPDATE SET done = excluded.done, error = excluded.error
          WHERE job_stats.minute >= @keepBefore`),
      statsWaiting: db.prepare(`INSERT INTO job_stats (minute, waiting)
          SELECT @minute, count(*) FROM jobs INDEXED BY jobs_by_status WHERE status IN (${due})
        ON CONFLICT (minute) DO UPDATE SET waiting = excluded.waiting`),
      statsForget: db.prepare('DELETE FROM job_stats WHERE minute < ?'),
      readStats: db.prepare(
        'SELECT minute, done, error, waiting FROM job_stats WHERE minute >= ? AND minute < ? ORDER BY minute',
      ),
      renew: db.prepare(`UPDATE jobs SET lease_expires_at = ?
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      expired: db.prepare(`SELECT * FROM jobs WHERE status = 'RUNNING' AND lease_expires_at < ?
        ORDER BY lease_expires_at LIMIT ?`),
      runningWorkers: db.prepare(
        `SELECT DISTINCT worker_id FROM jobs WHERE status = 'RUNNING' AND worker_id IS NOT NULL`,
      ),
      expireLeasesOf: db.prepare(
        `UPDATE jobs SET lease_expires_at = 0 WHERE status = 'RUNNING' AND worker_id = ?`,
      ),
      nextDue: db.prepare(
        `SELECT min(scheduled_at) AS next FROM jobs INDEXED BY jobs_due_time
          WHERE status IN (${due}) AND waiting_for = 0 AND scheduled_at > ?`,
      ),
      counts: db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status'),
      setStatus:
        db.prepare(`UPDATE jobs SET status = ?, finished_at = ?, worker_id = NULL, lease_expires_at = NULL
        WHERE id = ?`),
      requeue: db.prepare(`UPDATE jobs SET status = 'QUEUED', finished_at = NULL, worker_id = NULL,
          lease_expires_at = NULL WHERE id = ?`),
      setData: db.prepare('UPDATE jobs SET request_data = ? WHERE id = ?'),
      paused: db.prepare('SELECT kind, name, paused_at FROM paused ORDER BY kind, name'),
      anyPaused: db.prepare('SELECT 1 FROM paused LIMIT 1'),
      pausedCount: db.prepare('SELECT count(*) FROM paused').pluck(),
      pause: db.prepare(
        'INSERT INTO paused (kind, name, paused_at) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO NOTHING',
      ),
      resume: db.prepare('DELETE FROM paused WHERE kind = ? AND name = ?'),
      runningKeys: db.prepare(`SELECT command, ${CONCURRENCY_KEY} AS concurrency_key, count(*) AS n FROM jobs
        WHERE status = 'RUNNING' AND ${CONCURRENCY_KEY} IS NOT NULL GROUP BY 1, 2`),
      statusOf: db.prepare('SELECT status FROM jobs WHERE id = ?'),
      parentOf: db.prepare('SELECT status, dependency_depth FROM jobs WHERE id = ?'),
      setProgress: db.prepare(`UPDATE jobs SET progress = ?, progress_at = ?
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      markParent: db.prepare('UPDATE jobs SET has_children = 1 WHERE id = ? AND has_children = 0'),
      insertEdge: db.prepare(`INSERT INTO job_dependencies (parent_id, job_id, run_on_failure, resolved)
        VALUES (?, ?, ?, ?)`),
      hasChildren: db.prepare('SELECT has_children FROM jobs WHERE id = ?').pluck(),
      setLinks: db.prepare('UPDATE jobs SET waiting_for = ?, dependency_depth = ? WHERE id = ?'),
      // The release of ended parents' children (dependency-release.ts); parents by id are read with
      // cachedStatement, one shape per count.
      pendingParents: db.prepare(`SELECT id, status, finished_at FROM jobs INDEXED BY jobs_release_pending
        WHERE release_pending = 1 ORDER BY id LIMIT ?`),
      releaseOne: db.prepare(
        'UPDATE jobs SET waiting_for = max(waiting_for - ?, 0) WHERE id = ? AND waiting_for > 0',
      ),
      cancelForParent: db.prepare(`UPDATE jobs SET status = 'CANCELLED', finished_at = ?
        WHERE id = ? AND status = 'QUEUED' AND waiting_for > 0 RETURNING has_children`),
      parentError: db.prepare(
        'INSERT INTO job_errors (job_id, message, stacktrace, error_date) VALUES (?, ?, NULL, ?)',
      ),
      abandonRelease: db.prepare('UPDATE jobs SET release_pending = 0 WHERE id = ? AND release_pending = 1'),
      resolveLink: db.prepare('UPDATE job_dependencies SET resolved = 1 WHERE parent_id = ? AND job_id = ?'),
      unmarkParent: db.prepare(`UPDATE jobs SET release_pending = 0 WHERE id = ? AND release_pending = 1
        AND (status NOT IN (${sqlList(FINAL_STATUSES)})
          OR NOT EXISTS (SELECT 1 FROM job_dependencies WHERE parent_id = jobs.id AND resolved = 0))`),
      parents: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs
        WHERE id IN (SELECT parent_id FROM job_dependencies WHERE job_id = ?) ORDER BY id`),
      parentsFull: db.prepare(`SELECT * FROM jobs
        WHERE id IN (SELECT parent_id FROM job_dependencies WHERE job_id = ?) ORDER BY id`),
      children: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM jobs
        WHERE id IN (SELECT job_id FROM job_dependencies WHERE parent_id = ?) ORDER BY id LIMIT ?`),
    };
  }

  private get sql() {
    if (!this.prepared) throw new Error('SqliteJobStore: call migrate() before using the store');
    return this.prepared;
  }

  async schedule(jobs: readonly NewJob[], options: ScheduleOptions = {}): Promise<number[]> {
    const now = Date.now();
    const insert = this.sql.insert;
    return this.db
      .transaction(() => {
        const replaced = runUnique(this.uniqueOperations, resolveDuplicates(jobs));
        const ids: number[] = [];
        jobs.forEach((job, index) => {
          const id =
            replaced[index] ??
            Number(
              insert.run({
                ...job,
                requestData: JSON.stringify(job.requestData),
                traceParent: job.traceParent ?? null,
                createdAt: job.createdAt ?? now,
              }).lastInsertRowid,
            );
          ids.push(id);
          if (replaced[index] === undefined && job.dependsOn?.length)
            drive(
              linkParents(
                id,
                job,
                resolveReferences(job.dependsOn, ids, index),
                now,
                options.maxDependencyDepth,
              ),
              (step) => this.linkStep(step),
            );
        });
        return ids;
      })
      .immediate();
  }

  /** Links a new job to its parents (inside the schedule's write transaction): it waits, or is cancelled. */
  /** The SQL of the dependency links (dependency-links.ts), inside the schedule's write transaction. */
  private linkStep(step: LinkStep): unknown {
    const sql = this.sql;
    switch (step.op) {
      case 'parents':
        return step.ids.flatMap((id) => {
          const row = sql.parentOf.get(id) as { status: JobStatus; dependency_depth: number } | undefined;
          return row ? [{ id, status: row.status, depth: row.dependency_depth }] : [];
        });
      case 'link':
        for (const edge of step.plan.edges) {
          sql.insertEdge.run(edge.parentId, step.childId, step.runOnFailure ? 1 : 0, edge.resolved ? 1 : 0);
          if (!edge.resolved) sql.markParent.run(edge.parentId);
        }
        sql.setLinks.run(step.plan.waitingFor, step.plan.depth, step.childId);
        return undefined;
      case 'cancel':
        sql.setStatus.run('CANCELLED', step.at, step.childId);
        sql.insertError.run(step.childId, step.message, null, step.at, step.childId);
        return undefined;
    }
  }

  async dependencies(id: number, options: DependencyOptions = {}): Promise<JobDependencies> {
    return this.db.transaction(() => ({
      parents: ((options.withData ? this.sql.parentsFull : this.sql.parents).all(id) as JobRow[]).map(toJob),
      children: (this.sql.children.all(id, options.childLimit ?? DEFAULT_CHILD_LIMIT) as JobRow[]).map(toJob),
    }))();
  }

  /**
   * The SQL of the unique rule (unique-jobs.ts), inside the write transaction, which SQLite runs one at a time: no
   * key needs a lock of its own.
   */
  private readonly uniqueOperations: UniqueOperations = {
    active: (keys) => {
      const found = new Map<string, ActiveJob>();
      // In slices: SQLite takes at most 32,766 parameters.
      for (let i = 0; i < keys.length; i += 500) {
        const slice = keys.slice(i, i + 500);
        const rows = this.cachedStatement(
          `SELECT business_key, id, status FROM jobs WHERE business_key IN (${slice.map(() => '?').join(', ')})
          AND status IN (${sqlList(ACTIVE_STATUSES)}) ORDER BY id`,
        ).all(...slice) as { business_key: string; id: number; status: JobStatus }[];
        for (const row of rows) {
          if (!found.has(row.business_key))
            found.set(row.business_key, { businessKey: row.business_key, id: row.id, status: row.status });
        }
      }
      return [...found.values()];
    },
    replace: (id, requestData, scheduledAt) =>
      this.sql.replaceWaiting.run(JSON.stringify(requestData), scheduledAt, id).changes > 0,
  };

  async get(id: number, options: GetOptions = {}): Promise<Job | undefined> {
    return this.getSync(id, options);
  }

  private getSync(id: number, options: GetOptions = {}): Job | undefined {
    const row = (options.withData ? this.sql.getFull : this.sql.getSummary).get(id) as JobRow | undefined;
    if (!row) return undefined;
    const job = toJob(row);
    if (options.withErrors) {
      job.errors = (this.sql.errorsOf.all(id) as ErrorRow[]).map(toJobError);
    }
    return job;
  }

  async list(query: ListQuery): Promise<Job[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const column = LIST_COLUMN[query.filter.by];
    if (column && 'value' in query.filter) {
      where.push(`${column} = ?`);
      params.push(query.filter.value);
    }
    if (query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    const direction = query.order === 'desc' ? 'DESC' : 'ASC';
    const filter = where.length ? 'WHERE ' + where.join(' AND ') : '';
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM jobs ${filter} ORDER BY id ${direction} LIMIT ? OFFSET ?`;
    if (query.limit <= LIST_CHUNK) {
      return (this.cachedStatement(sql).all(...params, query.limit, query.offset) as JobRow[]).map(toJob);
    }
    // A large page (up to the largest page size, 10,000 by default) is read LIST_CHUNK rows at a time, the event
    // loop let go in between: SQLite reads are synchronous, and 10,000 rows at once would stall other requests
    // for 50 to 150 ms. After the first chunk, the next ones continue from the last id read.
    const after = `SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE id ${direction === 'DESC' ? '<' : '>'} ?
      ${where.length ? 'AND ' + where.join(' AND ') : ''} ORDER BY id ${direction} LIMIT ?`;
    const rows = this.cachedStatement(sql).all(...params, LIST_CHUNK, query.offset) as JobRow[];
    let last = rows;
    while (last.length === LIST_CHUNK && rows.length < query.limit) {
      await new Promise((resolve) => setImmediate(resolve));
      const lastId = last[last.length - 1]!.id;
      last = this.cachedStatement(after).all(
        lastId,
        ...params,
        Math.min(LIST_CHUNK, query.limit - rows.length),
      ) as JobRow[];
      rows.push(...last);
    }
    return rows.map(toJob);
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    if (options.limit <= 0) return [];
    const rows = this.db
      .transaction(() => {
        // Paused commands and containers are left out by the claim's SQL (an anti-join on the paused table's key,
        // whatever its size), only when something is paused.
        const claiming = { ...options, skipPaused: this.sql.anyPaused.get() !== undefined };
        if (!hasLimits(options.limits))
          return this.claimStatement(claiming, 'claim').all(claimParams(options));
        // With limits: count what runs (and started lately), then pick due jobs that fit. The write transaction
        // keeps other workers out meanwhile.
        const limits = options.limits;
        const chosen = pickWithinLimits(
          options,
          limits,
          this.limitState(limits, options.now),
          (query) =>
            this.claimStatement({ ...claiming, ...query }, 'candidates').all(
              claimParams({ ...options, ...query }),
            ) as CandidateRow[],
        );
        if (chosen.length === 0) return [];
        return this.db
          .prepare(`${MARK_RUNNING} WHERE id IN (${chosen.map(() => '?').join(', ')}) RETURNING *`)
          .all({ now: options.now, workerId: options.workerId, leaseMs: options.leaseMs }, ...chosen);
      })
      .immediate() as JobRow[];
    return rows.map((row) => toJob(row) as ClaimedJob).sort(claimOrder);
  }

  /** The claim statements, built once per shape of options and kept prepared. */
  private claimStatement(options: CandidateOptions, kind: 'claim' | 'candidates') {
    // waiting_for = 0: jobs waiting for parents are not due (and match jobs_due's predicate).
    const where = [`status IN (${sqlList(allowedFrom('claim'))})`, 'waiting_for = 0', 'scheduled_at <= @now'];
    where.push(options.owner !== undefined ? '(owner IS NULL OR owner = @owner)' : 'owner IS NULL');
    if (options.containers !== undefined) {
      const names = options.containers.map((_, i) => `@c${i}`);
      where.push(`(container_id IS NULL${names.length ? ` OR container_id IN (${names.join(', ')})` : ''})`);
    }
    if (options.excludeCommands?.length) {
      where.push(`command NOT IN (${options.excludeCommands.map((_, i) => `@x${i}`).join(', ')})`);
    }
    if (options.excludeContainers?.length) {
      const names = options.excludeContainers.map((_, i) => `@y${i}`).join(', ');
      where.push(`(container_id IS NULL OR container_id NOT IN (${names}))`);
    }
    if (options.excludeKeys?.length) {
      const names = options.excludeKeys.map((_, i) => `@k${i}`).join(', ');
      where.push(`(${CONCURRENCY_KEY} IS NULL OR ${CONCURRENCY_KEY} NOT IN (${names}))`);
    }
    if (options.onlyContainers) where.push('container_id IS NOT NULL');
    if (options.commands) {
      // GLOB, not LIKE: case-sensitive, and `*` is its own wildcard (`?` and `[` are escaped).
      where.push(`(${options.commands.map((_, i) => `command GLOB @g${i}`).join(' OR ') || '0'})`);
    }
    if (options.skipPaused) {
      where.push(`NOT EXISTS (SELECT 1 FROM paused WHERE kind = 'command' AND name = jobs.command)`);
      where.push(`(container_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM paused WHERE kind = 'container' AND name = jobs.container_id))`);
    }
    const key =
      kind === 'candidates' && hasKeyLimits(options.limits) ? `, ${CONCURRENCY_KEY} AS concurrency_key` : '';
    const due = `SELECT id, command, container_id${key} FROM jobs INDEXED BY jobs_due WHERE ${where.join(' AND ')}
      ORDER BY priority DESC, scheduled_at, id LIMIT @limit`;
    const sql = kind === 'claim' ? `${MARK_RUNNING} WHERE id IN (SELECT id FROM (${due})) RETURNING *` : due;
    return this.cachedStatement(sql);
  }

  /** Statements whose SQL depends on the query's shape (lists, claims), prepared once per shape. */
  private cachedStatement(sql: string): Database.Statement {
    let statement = this.statementCache.get(sql);
    if (!statement) {
      if (this.statementCache.size > 500) this.statementCache.clear(); // shapes are few; this only bounds it
      statement = this.db.prepare(sql);
      this.statementCache.set(sql, statement);
    }
    return statement;
  }

  /** What the limits need to know, read inside the claim's transaction. */
  private limitState(limits: ConcurrencyLimits, now: number): LimitState {
    const state: LimitState = { running: this.runningCounts() };
    if (hasKeyLimits(limits)) state.runningKeys = this.sql.runningKeys.all() as RunningKeyCount[];
    const rates = rateScope(limits);
    if (rates) {
      const commands = rates.commands.map((_, i) => `@rc${i}`).join(', ') || 'NULL';
      const containers = rates.containers.map((_, i) => `@rk${i}`).join(', ') || 'NULL';
      const params: Record<string, unknown> = { since: now - rates.longestMs };
      rates.commands.forEach((name, i) => (params[`rc${i}`] = name));
      rates.containers.forEach((name, i) => (params[`rk${i}`] = name));
      state.starts = this.cachedStatement(
        `SELECT command, container_id, started_at FROM jobs INDEXED BY jobs_started
        WHERE started_at > @since AND (command IN (${commands}) OR container_id IN (${containers}))`,
      ).all(params) as StartRow[];
    }
    return state;
  }

  private pausedSync(): PausedTarget[] {
    return (this.sql.paused.all() as { kind: FlowTarget['kind']; name: string; paused_at: number }[]).map(
      (row) => ({ kind: row.kind, name: row.name, pausedAt: row.paused_at }),
    );
  }

  async pause(target: FlowTarget, now: number): Promise<void> {
    this.sql.pause.run(target.kind, target.name, now);
  }

  async resume(target: FlowTarget): Promise<boolean> {
    return this.sql.resume.run(target.kind, target.name).changes > 0;
  }

  async listPaused(): Promise<PausedTarget[]> {
    return this.pausedSync();
  }

  /** Jobs RUNNING now, by command and container. */
  private runningCounts(): RunningCount[] {
    return this.db
      .prepare(
        `SELECT command, container_id, count(*) AS n FROM jobs WHERE status = 'RUNNING' GROUP BY command, container_id`,
      )
      .all() as RunningCount[];
  }

  async complete(outcomes: readonly Completion[]): Promise<boolean[]> {
    const sql = this.sql;
    const ended: number[] = [];
    const written = this.db
      .transaction(() =>
        outcomes.map((outcome) => {
          let changes: number;
          switch (outcome.kind) {
            case 'succeed':
              changes = sql.succeed.run(
                JSON.stringify(outcome.responseData),
                outcome.now,
                outcome.jobId,
                outcome.workerId,
              ).changes;
              break;
            case 'retry':
            case 'fail': {
              const status = outcome.kind === 'retry' ? 'RETRYING' : 'ERROR';
              const finishedAt = outcome.kind === 'fail' ? outcome.now : null;
              changes = sql.failOrRetry.run(
                status,
                outcome.retries,
                outcome.scheduledAt,
                finishedAt,
                outcome.jobId,
                outcome.workerId,
              ).changes;
              if (changes > 0) {
                const error = trimAttemptError(outcome.error);
                sql.insertError.run(
                  outcome.jobId,
                  error.message,
                  error.stacktrace,
                  outcome.now,
                  outcome.jobId,
                );
              }
              break;
            }
            case 'release':
              changes = sql.release.run(outcome.jobId, outcome.workerId).changes;
              break;
          }
          if (
            changes > 0 &&
            outcome.kind !== 'retry' &&
            outcome.kind !== 'release' &&
            sql.hasChildren.get(outcome.jobId)
          )
            ended.push(outcome.jobId);
          if (changes > 0 && outcome.kind !== 'release' && outcome.reschedule) {
            sql.insert.run({
              ...outcome.reschedule,
              requestData: JSON.stringify(outcome.reschedule.requestData),
              traceParent: outcome.reschedule.traceParent ?? null,
              createdAt: outcome.now,
            });
          }
          return changes > 0;
        }),
      )
      .immediate();
    this.releaseAfterEnd(ended);
    return written;
  }

  /**
   * Right after the transaction that ended `ids` (jobs with children): releases their children, and what follows,
   * within a small budget, in a transaction of its own; a larger graph is left marked for releasePending, and so
   * is this part when it fails: the end is written whatever the release does.
   */
  private releaseAfterEnd(ids: readonly number[]): void {
    if (ids.length === 0) return;
    try {
      const outcome = this.db
        .transaction(() => releaseChildren(this.releaseOperations, ids, RELEASE_AFTER_END))
        .immediate();
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
    return this.db
      .transaction(() => releaseChildren(this.releaseOperations, parentIds ?? null, budget))
      .immediate();
  }

  async pendingReleases(limit: number): Promise<number[]> {
    return (this.sql.pendingParents.all(limit) as { id: number }[]).map((row) => row.id);
  }

  async abandonRelease(parentId: number, message: string, now: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (this.sql.abandonRelease.run(parentId).changes === 0) return false;
        this.sql.parentError.run(parentId, message.slice(0, MAX_ERROR_MESSAGE), now);
        return true;
      })
      .immediate();
  }

  /** The SQL of the release walk (dependency-release.ts), run inside a write transaction. */
  private readonly releaseOperations: ReleaseOperations = {
    parents: (ids, limit) => {
      const rows = (
        ids === null
          ? this.sql.pendingParents.all(limit)
          : this.cachedStatement(
              `SELECT id, status, finished_at FROM jobs WHERE id IN (${ids.map(() => '?').join(', ')})
              AND release_pending = 1 ORDER BY id LIMIT ?`,
            ).all(...ids, limit)
      ) as { id: number; status: JobStatus; finished_at: number | null }[];
      return rows.map((row) => ({ id: row.id, status: row.status, finishedAt: row.finished_at }));
    },
    links: (parentIds, limit) => {
      const rows = this.cachedStatement(
        `SELECT parent_id, job_id, run_on_failure FROM job_dependencies
        WHERE parent_id IN (${parentIds.map(() => '?').join(', ')}) AND resolved = 0
        ORDER BY parent_id, job_id LIMIT ?`,
      ).all(...parentIds, limit) as { parent_id: number; job_id: number; run_on_failure: number }[];
      return rows.map((row) => ({
        parentId: row.parent_id,
        childId: row.job_id,
        runOnFailure: row.run_on_failure === 1,
      }));
    },
    apply: (plan, parentIds) => {
      const sql = this.sql;
      let released = 0;
      for (const { childId, by } of plan.decrements) released += sql.releaseOne.run(by, childId).changes;
      const cascade: number[] = [];
      let cancelled = 0;
      for (const { childId, message, at } of plan.cancels) {
        const row = sql.cancelForParent.get(at, childId) as { has_children: number } | undefined;
        if (!row) continue;
        cancelled++;
        sql.parentError.run(childId, message, at);
        if (row.has_children === 1) cascade.push(childId);
      }
      for (const link of plan.links) sql.resolveLink.run(link.parentId, link.childId);
      for (const id of parentIds) sql.unmarkParent.run(id);
      if (released > 0) this.wakeListeners();
      return { cascade, cancelled, released };
    },
  };

  async setProgress(jobId: number, workerId: string, progress: ProgressReport, at: number): Promise<boolean> {
    return this.sql.setProgress.run(JSON.stringify(progress), at, jobId, workerId).changes > 0;
  }

  async renewLeases(
    workerId: string,
    jobIds: readonly number[],
    now: number,
    leaseMs: number,
  ): Promise<number[]> {
    const renew = this.sql.renew;
    const leaseExpiresAt = now + leaseMs;
    return this.db.transaction(() =>
      jobIds.filter((id) => renew.run(leaseExpiresAt, id, workerId).changes === 0),
    )();
  }

  async findExpiredLeases(now: number, limit: number): Promise<ClaimedJob[]> {
    return (this.sql.expired.all(now, limit) as JobRow[]).map((row) => toJob(row) as ClaimedJob);
  }

  /** Children of this process's releases may be due now: tell the listeners (after the transaction commits). */
  private wakeListeners(): void {
    if (this.listeners.size === 0) return;
    setImmediate(() => {
      for (const listener of this.listeners) listener();
    });
  }

  /** In this process only: called when a parent's end may have made children due. */
  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    return async () => {
      this.listeners.delete(listener);
    };
  }

  async runningWorkers(): Promise<string[]> {
    return (this.sql.runningWorkers.all() as { worker_id: string }[]).map((row) => row.worker_id);
  }

  async expireLeasesOf(workerId: string): Promise<number> {
    return this.sql.expireLeasesOf.run(workerId).changes;
  }

  async holdWorkerLock(workerId: string): Promise<WorkerLock | undefined> {
    return this.workerLocks?.hold(workerId);
  }

  async isWorkerGone(workerId: string): Promise<boolean> {
    return this.workerLocks?.isGone(workerId) ?? false;
  }

  async cancel(id: number, now: number, options: { evenRunning?: boolean } = {}): Promise<Job> {
    let hasChildren = false;
    const job = this.transition(id, options.evenRunning ? 'cancelEvenRunning' : 'cancel', (row) => {
      this.cancelRow(row, now);
      hasChildren = row.has_children === 1;
    });
    if (hasChildren) this.releaseAfterEnd([id]);
    return job;
  }

  async requeue(id: number, now: number): Promise<Job> {
    return this.transition(id, 'requeue', (row) => this.requeueRow(row, now));
  }

  private cancelRow(row: { id: number; status: JobStatus }, now: number): void {
    this.sql.setStatus.run('CANCELLED', now, row.id);
    this.sql.insertAction.run(row.id, 'cancel', now, row.status);
  }

  /** Inside a write transaction, the status already checked: refused when its unique key is taken. */
  private requeueRow(
    row: { id: number; status: JobStatus; business_key: string | null; request_data?: string },
    now: number,
  ): void {
    const refused = runUnique(this.uniqueOperations, refuseDuplicateRequeues([requeueCandidate(row)]));
    const error = refused.get(row.id);
    if (error) throw error;
    this.sql.requeue.run(row.id);
    this.sql.insertAction.run(row.id, 'requeue', now, row.status);
  }

  async bulk(query: BulkQuery): Promise<BulkResult> {
    checkBulkIds(query);
    const parents: number[] = [];
    const columns = `id, status, command, container_id, business_key${query.event === 'requeue' ? ', request_data' : ''}`;
    const outcome = this.db
      .transaction(() => {
        let rows: BulkSqlRow[];
        if ('ids' in query.selection) {
          const ids = selectedIds(query);
          rows = [];
          // In slices: SQLite takes at most 32,766 parameters.
          for (let i = 0; i < ids.length; i += 500) {
            const slice = ids.slice(i, i + 500);
            rows.push(
              ...(this.db
                .prepare(`SELECT ${columns} FROM jobs WHERE id IN (${slice.map(() => '?').join(', ')})`)
                .all(...slice) as BulkSqlRow[]),
            );
          }
        } else {
          const { filter, statuses } = query.selection;
          const where: string[] = [];
          const params: unknown[] = [];
          const column = LIST_COLUMN[filter.by];
          if (column && 'value' in filter) {
            where.push(`${column} = ?`);
            params.push(filter.value);
          }
          if (statuses.length > 0) {
            where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
            params.push(...statuses);
          }
          rows = this.cachedStatement(
            `SELECT ${columns} FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
            ORDER BY id LIMIT ?`,
          ).all(...params, query.max + 1) as BulkSqlRow[];
          checkBulkMatches(query, rows.length);
        }
        rows.sort((a, b) => a.id - b.id);
        const { apply, result } = splitBulk(query, rows);
        const changed = new Set<number>();
        const duplicates =
          query.event === 'requeue'
            ? runUnique(
                this.uniqueOperations,
                refuseDuplicateRequeues((apply as BulkSqlRow[]).map(requeueCandidate)),
              )
            : new Map<number, DuplicateJobError>();
        for (const row of apply as BulkSqlRow[]) {
          const duplicate = duplicates.get(row.id);
          if (duplicate) {
            result.refused.push({ id: row.id, status: row.status, reason: duplicate.message });
            continue;
          }
          if (query.event === 'cancel') this.cancelRow(row, query.now);
          else {
            this.sql.requeue.run(row.id);
            this.sql.insertAction.run(row.id, 'requeue', query.now, row.status);
          }
          changed.add(row.id);
        }
        if (query.event === 'cancel')
          parents.push(...[...changed].filter((id) => this.sql.hasChildren.get(id)));
        recordChanged(result, rows, changed);
        return result;
      })
      .immediate();
    this.releaseAfterEnd(parents);
    return outcome;
  }

  async actionsOf(jobId: number): Promise<JobAction[]> {
    return (
      this.sql.actionsOf.all(jobId) as { kind: JobAction['kind']; at: number; from_status: JobStatus }[]
    ).map((row) => ({ kind: row.kind, at: row.at, fromStatus: row.from_status }));
  }

  async recordStats(sample: StatsSample): Promise<void> {
    const sql = this.sql;
    this.db
      .transaction(() => {
        sql.statsFinished.run({ since: sample.since, now: sample.now, keepBefore: sample.keepBefore });
        sql.statsWaiting.run({ minute: Math.floor(sample.now / 60_000) * 60_000 });
        sql.statsForget.run(sample.forgetBefore);
      })
      .immediate();
  }

  async readStats(from: number, to: number): Promise<StatsMinute[]> {
    return this.sql.readStats.all(from, to) as StatsMinute[];
  }

  async breakdown(by: 'command' | 'container', since: number): Promise<BreakdownData> {
    const key = by === 'command' ? 'command' : 'container_id';
    // Grouped in the index's order first (no sort of a million rows), then by the key.
    const counts = this.cachedStatement(
      `SELECT ${key} AS key, status, sum(n) AS n FROM (
        SELECT command, container_id, status, count(*) AS n FROM jobs INDEXED BY jobs_by_command_container
        GROUP BY command, container_id, status)
      GROUP BY ${key}, status`,
    ).all() as BreakdownData['counts'];
    const runs = this.cachedStatement(
      `SELECT ${key} AS key, 0 AS failed, finished_at - started_at AS ms FROM jobs INDEXED BY jobs_finished
        WHERE finished_at >= ? AND status = 'DONE'
      UNION ALL
      SELECT j.${key}, 1, e.error_date - e.started_at FROM job_errors AS e JOIN jobs AS j ON j.id = e.job_id
        WHERE e.error_date >= ?`,
    ).all(since, since) as { key: string | null; failed: number; ms: number | null }[];
    return { counts, runs: runs.map((run) => ({ ...run, failed: run.failed === 1 })) };
  }

  async updateData(id: number, patch: DataMap): Promise<Job> {
    return this.transition(id, 'updateData', (row) => {
      const data = { ...(JSON.parse(row.request_data ?? '{}') as DataMap), ...patch };
      this.sql.setData.run(JSON.stringify(data), id);
    });
  }

  /** Applies `event` to a job inside one write transaction, after checking the state machine allows it. */
  private transition(id: number, event: JobEvent, apply: (row: JobRow) => void): Job {
    return this.db
      .transaction(() => {
        const row = this.sql.getFull.get(id) as JobRow | undefined;
        if (!row) throw new JobNotFoundError(id);
        if (!canApply(event, row.status)) throw new InvalidStateError(id, event, row.status);
        apply(row);
        return this.getSync(id, { withData: true }) as Job;
      })
      .immediate();
  }

  async nextDueIn(now: number): Promise<number | null> {
    const row = this.sql.nextDue.get(now) as { next: number | null };
    return row.next === null ? null : row.next - now;
  }

  async deleteFinished(query: DeleteFinishedQuery): Promise<{ jobs: number; errors: number }> {
    const statuses = query.statuses.length ? query.statuses : FINAL_STATUSES;
    // A parent whose children are not all released yet is kept until they are: its links go with it.
    const where = [
      `status IN (${statuses.map(() => '?').join(', ')})`,
      'finished_at < ?',
      'release_pending = 0',
    ];
    const params: unknown[] = [...statuses, query.olderThan];
    if (query.containerId) {
      where.push('container_id = ?');
      params.push(query.containerId);
    }
    let condition = where.join(' AND ');
    if (query.limit !== undefined) {
      // The oldest first, a bounded batch: the write lock is held briefly.
      condition = `id IN (SELECT id FROM jobs WHERE ${condition} ORDER BY finished_at LIMIT ?)`;
      params.push(query.limit);
    }
    return this.db
      .transaction(() => {
        const errors = this.db
          .prepare(`DELETE FROM job_errors WHERE job_id IN (SELECT id FROM jobs WHERE ${condition})`)
          .run(...params).changes;
        const jobs = this.db.prepare(`DELETE FROM jobs WHERE ${condition}`).run(...params).changes;
        return { jobs, errors };
      })
      .immediate();
  }

  async countByStatus(): Promise<StatusCounts> {
    const counts = emptyCounts();
    for (const row of this.sql.counts.all() as { status: JobStatus; n: number }[]) counts[row.status] = row.n;
    return counts;
  }

  async close(): Promise<void> {
    await this.workerLocks?.releaseAll();
    if (this.db.open) this.db.close();
  }
}

/** A row about to be requeued, for the unique rule. */
function requeueCandidate(row: {
  id: number;
  status: JobStatus;
  business_key: string | null;
  request_data?: string;
}): RequeueCandidate {
  let requestData: DataMap | undefined;
  try {
    requestData = row.request_data === undefined ? undefined : (JSON.parse(row.request_data) as DataMap);
  } catch {
    requestData = undefined;
  }
  return { id: row.id, status: row.status, businessKey: row.business_key, requestData };
}

type JobRow = Row<string>;
type BulkSqlRow = BulkRow & { business_key: string | null; request_data?: string };

const toJob = (row: JobRow): Job => rowToJob(row, (data) => JSON.parse(data) as DataMap);
