import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACTIVE_STATUSES,
  allowedFrom,
  canApply,
  DuplicateJobError,
  isUnique,
  ValidationError,
  InvalidStateError,
  JobNotFoundError,
  FINAL_STATUSES,
  parentFailureMessage,
  planDependencies,
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
  type DependencyOptions,
  type ProgressReport,
  type JobDependencies,
  DEFAULT_CHILD_LIMIT,
  type GetOptions,
  type JobStore,
  type ListQuery,
  type StatusCounts,
} from '../job-store.js';
import { hasLimits, pickWithinLimits, type CandidateRow, type RunningCount } from '../limits.js';
import { readMigrations } from '../migrations.js';
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
}

const MARK_RUNNING = `UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = @now,
  started_at = @now, worker_id = @workerId, lease_expires_at = @now + @leaseMs`;

/** Named parameters of the claim statements. */
function claimParams(
  options: ClaimOptions & { excludeContainers?: readonly string[] },
): Record<string, unknown> {
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
  return params;
}

const sqlList = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');

/** The embedded store: one SQLite file in WAL mode, shared safely by the processes of one machine. */
export class SqliteJobStore implements JobStore {
  readonly db: Database.Database;
  private prepared: ReturnType<SqliteJobStore['prepare']> | undefined;
  private readonly statementCache = new Map<string, Database.Statement>();
  /** Told when a parent's end released children in this process (other processes poll). */
  private readonly listeners = new Set<() => void>();

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    // First, so that processes opening one file at once (--workers) wait for each other rather than fail.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    // A child cancelled for its parent ends too: its own children follow (jobs_release_children, migration 005).
    this.db.pragma('recursive_triggers = ON');
  }

  async migrate(): Promise<void> {
    this.db.exec(`CREATE TABLE IF NOT EXISTS kjobs_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const applied = new Set(
      this.db
        .prepare('SELECT version FROM kjobs_migrations')
        .all()
        .map((row) => (row as { version: number }).version),
    );
    for (const migration of readMigrations(MIGRATIONS_FOLDER)) {
      if (applied.has(migration.version)) continue;
      this.db
        .transaction(() => {
          // Another process may have applied it while this one waited for the write lock.
          if (this.db.prepare('SELECT 1 FROM kjobs_migrations WHERE version = ?').get(migration.version))
            return;
          this.db.exec(migration.sql);
          this.db
            .prepare('INSERT INTO kjobs_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(migration.version, migration.name, Date.now());
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
      activeByKey: db.prepare(
        `SELECT id FROM jobs WHERE business_key = ? AND status IN (${sqlList(ACTIVE_STATUSES)}) ORDER BY id LIMIT 1`,
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
      insertError: db.prepare(
        'INSERT INTO job_errors (job_id, message, stacktrace, error_date) VALUES (?, ?, ?, ?)',
      ),
      renew: db.prepare(`UPDATE jobs SET lease_expires_at = ?
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      expired: db.prepare(`SELECT * FROM jobs WHERE status = 'RUNNING' AND lease_expires_at < ?
        ORDER BY lease_expires_at LIMIT ?`),
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
      statusOf: db.prepare('SELECT status FROM jobs WHERE id = ?'),
      setProgress: db.prepare(`UPDATE jobs SET progress = ?, progress_at = ?
        WHERE id = ? AND status = 'RUNNING' AND worker_id = ?`),
      hasChildren: db.prepare('SELECT has_children FROM jobs WHERE id = ?').pluck(),
      markParent: db.prepare('UPDATE jobs SET has_children = 1 WHERE id = ? AND has_children = 0'),
      insertEdge: db.prepare(`INSERT INTO job_dependencies (parent_id, job_id, run_on_failure, resolved)
        VALUES (?, ?, ?, ?)`),
      setWaiting: db.prepare('UPDATE jobs SET waiting_for = ? WHERE id = ?'),
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

  async schedule(jobs: readonly NewJob[]): Promise<number[]> {
    const now = Date.now();
    const insert = this.sql.insert;
    return this.db
      .transaction(() => {
        this.refuseDuplicates(jobs);
        const ids: number[] = [];
        jobs.forEach((job, index) => {
          const id = Number(
            insert.run({
              ...job,
              requestData: JSON.stringify(job.requestData),
              traceParent: job.traceParent ?? null,
              createdAt: now,
            }).lastInsertRowid,
          );
          ids.push(id);
          if (job.dependsOn?.length)
            this.linkParents(id, job, resolveReferences(job.dependsOn, ids, index), now);
        });
        return ids;
      })
      .immediate();
  }

  /** Links a new job to its parents (inside the schedule's write transaction): it waits, or is cancelled. */
  private linkParents(id: number, job: NewJob, parentIds: readonly number[], now: number): void {
    const parents = parentIds.map((parentId) => {
      const row = this.sql.statusOf.get(parentId) as { status: JobStatus } | undefined;
      if (!row) throw new ValidationError(`dependsOn names job ${parentId}, which does not exist`);
      return { id: parentId, status: row.status };
    });
    const runOnFailure = job.onParentFailure === 'run' ? 1 : 0;
    const plan = planDependencies(parents, job.onParentFailure ?? 'cancel');
    for (const edge of plan.edges) {
      this.sql.insertEdge.run(edge.parentId, id, runOnFailure, edge.resolved ? 1 : 0);
      if (!edge.resolved) this.sql.markParent.run(edge.parentId);
    }
    if (plan.waitingFor > 0) this.sql.setWaiting.run(plan.waitingFor, id);
    if (plan.cancelledBy) {
      this.sql.setStatus.run('CANCELLED', now, id);
      const { parentId, status } = plan.cancelledBy;
      this.sql.insertError.run(id, parentFailureMessage(parentId, status), null, now);
    }
  }

  async dependencies(id: number, options: DependencyOptions = {}): Promise<JobDependencies> {
    return this.db.transaction(() => ({
      parents: ((options.withData ? this.sql.parentsFull : this.sql.parents).all(id) as JobRow[]).map(toJob),
      children: (this.sql.children.all(id, options.childLimit ?? DEFAULT_CHILD_LIMIT) as JobRow[]).map(toJob),
    }))();
  }

  /** Unique jobs: checked inside the write transaction, which SQLite runs one at a time. */
  private refuseDuplicates(jobs: readonly NewJob[]): void {
    const seen = new Set<string>();
    for (const job of jobs) {
      if (!job.unique || job.businessKey === null) continue;
      const active = this.sql.activeByKey.get(job.businessKey) as { id: number } | undefined;
      if (active) throw new DuplicateJobError(job.businessKey, active.id);
      if (seen.has(job.businessKey)) {
        throw new ValidationError(`Two unique jobs with business key "${job.businessKey}" in one batch`);
      }
      seen.add(job.businessKey);
    }
  }

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
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY id ${query.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`;
    params.push(query.limit, query.offset);
    return (this.cachedStatement(sql).all(...params) as JobRow[]).map(toJob);
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    if (options.limit <= 0) return [];
    const rows = this.db
      .transaction(() => {
        if (!hasLimits(options.limits))
          return this.claimStatement(options, 'claim').all(claimParams(options));
        // With concurrency limits: count what runs, then pick due jobs that fit. The write transaction
        // keeps other workers out meanwhile.
        const chosen = pickWithinLimits(
          options,
          options.limits,
          this.runningCounts(),
          (query) =>
            this.claimStatement({ ...options, ...query }, 'candidates').all(
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
  private claimStatement(
    options: ClaimOptions & { excludeContainers?: readonly string[] },
    kind: 'claim' | 'candidates',
  ) {
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
    const due = `SELECT id, command, container_id FROM jobs INDEXED BY jobs_due WHERE ${where.join(' AND ')}
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
    return this.db
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
                sql.insertError.run(outcome.jobId, error.message, error.stacktrace, outcome.now);
              }
              break;
            }
            case 'release':
              changes = sql.release.run(outcome.jobId, outcome.workerId).changes;
              break;
          }
          if (changes > 0 && outcome.kind !== 'retry' && outcome.kind !== 'release')
            this.noteEnd(outcome.jobId);
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
  }

  async setProgress(jobId: number, workerId: string, progress: ProgressReport, at: number): Promise<boolean> {
    return this.sql.setProgress.run(JSON.stringify(progress), at, jobId, workerId).changes > 0;
  }

  async renewLeases(workerId: string, jobIds: readonly number[], leaseExpiresAt: number): Promise<void> {
    const renew = this.sql.renew;
    this.db.transaction(() => {
      for (const id of jobIds) renew.run(leaseExpiresAt, id, workerId);
    })();
  }

  async findExpiredLeases(now: number, limit: number): Promise<ClaimedJob[]> {
    return (this.sql.expired.all(now, limit) as JobRow[]).map((row) => toJob(row) as ClaimedJob);
  }

  async cancel(id: number, now: number): Promise<Job> {
    return this.transition(id, 'cancel', () => {
      this.sql.setStatus.run('CANCELLED', now, id);
      this.noteEnd(id);
    });
  }

  /** After a job ended (in the write transaction): when it has children, some may be due now; wake listeners. */
  private noteEnd(id: number): void {
    if (this.listeners.size === 0 || !this.sql.hasChildren.get(id)) return;
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

  async requeue(id: number, _now: number): Promise<Job> {
    return this.transition(id, 'requeue', (row) => {
      // A unique job back in the queue is a new active job for its key: the same check as scheduling one.
      if (
        !ACTIVE_STATUSES.includes(row.status) &&
        row.business_key !== null &&
        isUniqueData(row.request_data)
      ) {
        const active = this.sql.activeByKey.get(row.business_key) as { id: number } | undefined;
        if (active && active.id !== id) throw new DuplicateJobError(row.business_key, active.id);
      }
      this.sql.requeue.run(id);
    });
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

  async nextDueAt(after = Number.MIN_SAFE_INTEGER): Promise<number | null> {
    const row = this.sql.nextDue.get(after) as { next: number | null };
    return row.next;
  }

  async deleteFinished(query: DeleteFinishedQuery): Promise<{ jobs: number; errors: number }> {
    const statuses = query.statuses.length ? query.statuses : FINAL_STATUSES;
    const where = [`status IN (${statuses.map(() => '?').join(', ')})`, 'finished_at < ?'];
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
    if (this.db.open) this.db.close();
  }
}

function isUniqueData(requestData: string | undefined): boolean {
  try {
    return isUnique(JSON.parse(requestData ?? '{}') as DataMap);
  } catch {
    return false;
  }
}

type JobRow = Row<string>;

const toJob = (row: JobRow): Job => rowToJob(row, (data) => JSON.parse(data) as DataMap);
