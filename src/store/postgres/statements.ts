/**
 * Every SQL statement of the PostgreSQL store, side by side (as pg-boss keeps its plans). Tables are qualified with
 * the store's schema; statements with a name are prepared once per connection. Status lists come from the state
 * machine (core/states.ts), so a guard here is the same guard as everywhere else.
 */
import { ACTIVE_STATUSES, allowedFrom, type JobEvent } from '../../core/index.js';
import { SUMMARY_COLUMNS } from '../rows.js';

/** A statement prepared under `name` on each connection. */
export interface Statement {
  name: string;
  text: string;
}

/** Schema names are identifiers we quote ourselves: letters, digits and underscores only. */
export const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const sqlList = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');
/** `status IN (...)` for the statuses `event` may happen from. */
const from = (event: JobEvent, column = 'status') => `${column} IN (${sqlList(allowedFrom(event))})`;

/** The NOTIFY channel of a schema: `kjobs_jobs` for the default schema. */
export function channelOf(schema: string): string {
  return `${schema}_jobs`;
}

/** Migrations: run under an advisory lock of the schema, in one transaction. */
export function migrationStatements(schema: string) {
  const s = quoteIdent(schema);
  return {
    lock: `SELECT pg_advisory_xact_lock(hashtextextended('kjobs.migrate:' || $1::text, 0))`,
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    createTable: `CREATE TABLE IF NOT EXISTS ${s}.kjobs_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    applied: `SELECT version FROM ${s}.kjobs_migrations`,
    searchPath: `SET LOCAL search_path TO ${s}`,
    record: `INSERT INTO ${s}.kjobs_migrations (version, name) VALUES ($1, $2)`,
  };
}

/** The statements of the store's operations, for one schema. */
export function storeStatements(schema: string) {
  const jobs = `${quoteIdent(schema)}.jobs`;
  const errors = `${quoteIdent(schema)}.job_errors`;
  const named = (name: string, text: string): Statement => ({ name: `kjobs_${name}`, text });

  // Claim filters of a claim with concurrency limits, as in claim_jobs.
  // $1 now, $2 owner (null: only jobs without one), $3 containers (null: any), $4 commands left out.
  const dueWhere = `${from('claim')} AND waiting_for = 0 AND scheduled_at <= $1::bigint
      AND (owner IS NULL OR owner = $2::text)
      AND ($3::text[] IS NULL OR container_id IS NULL OR container_id = ANY ($3::text[]))
      AND command <> ALL ($4::text[])`;
  // As in claim_jobs: the scheduled time moves to the start of the run.
  const markRunning = `UPDATE ${jobs} SET status = 'RUNNING', executions = executions + 1, scheduled_at = $1::bigint,
      started_at = $1::bigint, worker_id = $2::text, lease_expires_at = $1::bigint + $3::bigint`;

  return {
    /** Inserts a batch from arrays, in order, and wakes the listening nodes; answers the ids in order. */
    insert: named(
      'insert',
      `WITH inserted AS (
        INSERT INTO ${jobs} (status, command, business_key, container_id, process_instance_id, owner, message,
          priority, retries, scheduled_at, request_data, created_at, trace_parent)
        SELECT 'QUEUED', command, business_key, container_id, process_instance_id, owner, message,
          priority, retries, scheduled_at, request_data::json, created_at, trace_parent
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::integer[],
            $8::integer[], $9::bigint[], $10::text[], $11::bigint[], $13::text[]) WITH ORDINALITY
          AS t (command, business_key, container_id, process_instance_id, owner, message, priority, retries,
            scheduled_at, request_data, created_at, trace_parent, n)
        ORDER BY n
        RETURNING id
      )
      SELECT inserted.id FROM inserted, (SELECT pg_notify($12, '')) AS notified ORDER BY inserted.id`,
    ),
    /** Unique jobs: one transaction at a time per business key ($1 the schema's namespace, $2 the keys). */
    lockKeys: named(
      'lock_keys',
      `SELECT pg_advisory_xact_lock(hashtext($1::text), key_hash)
      FROM (SELECT DISTINCT hashtext(key) AS key_hash FROM unnest($2::text[]) AS key ORDER BY key_hash) AS keys`,
    ),
    activeByKeys: named(
      'active_by_keys',
      `SELECT DISTINCT ON (business_key) business_key, id FROM ${jobs}
      WHERE business_key = ANY ($1::text[]) AND status IN (${sqlList(ACTIVE_STATUSES)})
      ORDER BY business_key, id`,
    ),

    /**
     * Dependencies (migration 005): a new job's parents, locked until the schedule commits so that a parent ending
     * meanwhile waits for the links (and its trigger then sees them); $1 the parents' ids.
     */
    parentsForUpdate: named(
      'parents_for_update',
      `SELECT id, status FROM ${jobs} WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE`,
    ),
    markParents: named(
      'mark_parents',
      `UPDATE ${jobs} SET has_children = true WHERE id = ANY ($1::bigint[]) AND NOT has_children`,
    ),
    /** $1 child, $2 parents, $3 resolved per parent, $4 run on failure. */
    insertEdges: named(
      'insert_edges',
      `INSERT INTO ${quoteIdent(schema)}.job_dependencies (job_id, parent_id, resolved, run_on_failure)
      SELECT $1::bigint, parent_id, resolved, $4::boolean FROM unnest($2::bigint[], $3::boolean[]) AS e (parent_id, resolved)`,
    ),
    setWaiting: named('set_waiting', `UPDATE ${jobs} SET waiting_for = $2 WHERE id = $1`),
    /** A child whose parent already failed: $1 child, $2 now, $3 the error record's message. */
    cancelForParent: named(
      'cancel_for_parent',
      `WITH cancelled AS (
        UPDATE ${jobs} SET status = 'CANCELLED', finished_at = $2::bigint WHERE id = $1 RETURNING id
      )
      INSERT INTO ${errors} (job_id, message, stacktrace, error_date)
      SELECT id, $3::text, NULL, $2::bigint FROM cancelled`,
    ),
    parents: named(
      'parents',
      `SELECT ${SUMMARY_COLUMNS} FROM ${jobs}
      WHERE id IN (SELECT parent_id FROM ${quoteIdent(schema)}.job_dependencies WHERE job_id = $1) ORDER BY id`,
    ),
    parentsFull: named(
      'parents_full',
      `SELECT * FROM ${jobs}
      WHERE id IN (SELECT parent_id FROM ${quoteIdent(schema)}.job_dependencies WHERE job_id = $1) ORDER BY id`,
    ),
    children: named(
      'children',
      `SELECT ${SUMMARY_COLUMNS} FROM ${jobs}
      WHERE id IN (SELECT job_id FROM ${quoteIdent(schema)}.job_dependencies WHERE parent_id = $1)
      ORDER BY id LIMIT $2`,
    ),

    getFull: named('get_full', `SELECT * FROM ${jobs} WHERE id = $1`),
    getSummary: named('get_summary', `SELECT ${SUMMARY_COLUMNS} FROM ${jobs} WHERE id = $1`),
    errorsOf: named('errors_of', `SELECT * FROM ${errors} WHERE job_id = $1 ORDER BY id`),

    /**
     * Claim: one statement (migrations/001_jobs.sql: claim_jobs, planned without sorts so that jobs_due serves it in
     * its ORDER BY order whatever the statistics), FOR UPDATE SKIP LOCKED. $1 now, $2 owner (null: only jobs without
     * one), $3 containers (null: any), $4 commands left out, $5 worker, $6 lease length, $7 limit.
     */
    claim: named(
      'claim',
      `SELECT * FROM ${quoteIdent(schema)}.claim_jobs($1::bigint, $2::text, $3::text[], $4::text[], $5::text,
        $6::bigint, $7::integer)`,
    ),
    /**
     * With concurrency limits (under the limits lock, sorting off as in claim_jobs): due jobs to pick from; $5 limit,
     * $6 containers left out.
     */
    candidates: named(
      'candidates',
      `SELECT id, command, container_id FROM ${jobs}
      WHERE ${dueWhere} AND (container_id IS NULL OR container_id <> ALL ($6::text[]))
      ORDER BY priority DESC, scheduled_at, id
      LIMIT $5
      FOR UPDATE SKIP LOCKED`,
    ),
    /** The chosen candidates: $2 worker, $3 lease length, $4 ids. */
    claimChosen: named(
      'claim_chosen',
      `${markRunning} WHERE id = ANY ($4::bigint[]) AND ${from('claim')} RETURNING *`,
    ),
    /** Claims with limits take turns: each counts what runs, then claims, then commits ($1 the namespace). */
    limitsLock: named('limits_lock', `SELECT pg_advisory_xact_lock(hashtext($1::text), 0)`),
    noSorts: named('no_sorts', 'SET LOCAL enable_sort = off'),
    runningCounts: named(
      'running_counts',
      `SELECT command, container_id, count(*) AS n FROM ${jobs} WHERE status = 'RUNNING'
      GROUP BY command, container_id`,
    ),

    /** Completions, one statement per kind for a whole batch; `n` says which outcome a written row answers. */
    succeed: named(
      'succeed',
      `UPDATE ${jobs} AS j SET status = 'DONE', response_data = u.response_data::json, finished_at = u.now,
        worker_id = NULL, lease_expires_at = NULL
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::integer[])
        AS u (id, worker_id, response_data, now, n)
      WHERE j.id = u.id AND ${from('succeed', 'j.status')} AND j.worker_id = u.worker_id
      RETURNING u.n`,
    ),
    failOrRetry: named(
      'fail_or_retry',
      `WITH written AS (
        UPDATE ${jobs} AS j SET status = u.status, retries = u.retries, scheduled_at = u.scheduled_at,
          finished_at = u.finished_at, worker_id = NULL, lease_expires_at = NULL
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::bigint[], $6::bigint[], $7::integer[])
          AS u (id, worker_id, status, retries, scheduled_at, finished_at, n)
        WHERE j.id = u.id AND j.worker_id = u.worker_id
          AND (u.status = 'RETRYING' AND ${from('retry', 'j.status')} OR u.status = 'ERROR' AND ${from('fail', 'j.status')})
        RETURNING u.n
      ), recorded AS (
        INSERT INTO ${errors} (job_id, message, stacktrace, error_date)
        SELECT e.job_id, e.message, e.stacktrace, e.error_date
        FROM unnest($1::bigint[], $8::text[], $9::text[], $10::bigint[], $7::integer[])
          AS e (job_id, message, stacktrace, error_date, n)
        JOIN written USING (n)
        ORDER BY e.n
      )
      SELECT n FROM written`,
    ),
    release: named(
      'release',
      `UPDATE ${jobs} AS j SET status = 'QUEUED', executions = j.executions - 1, worker_id = NULL,
        lease_expires_at = NULL
      FROM unnest($1::bigint[], $2::text[], $3::integer[]) AS u (id, worker_id, n)
      WHERE j.id = u.id AND ${from('release', 'j.status')} AND j.worker_id = u.worker_id
      RETURNING u.n`,
    ),
    notify: named('notify', `SELECT pg_notify($1, '')`),

    /** The latest progress of a job this worker runs: $1 id, $2 worker, $3 progress, $4 when. */
    setProgress: named(
      'set_progress',
      `UPDATE ${jobs} SET progress = $3::json, progress_at = $4::bigint
      WHERE id = $1 AND status = 'RUNNING' AND worker_id = $2`,
    ),
    renew: named(
      'renew',
      `UPDATE ${jobs} SET lease_expires_at = $1
      WHERE id = ANY ($2::bigint[]) AND status = 'RUNNING' AND worker_id = $3`,
    ),
    expired: named(
      'expired',
      `SELECT * FROM ${jobs} WHERE status = 'RUNNING' AND lease_expires_at < $1 ORDER BY lease_expires_at LIMIT $2`,
    ),

    /** State changes: one guarded statement; no row means the job is missing or in a refusing state. */
    cancel: named(
      'cancel',
      `UPDATE ${jobs} SET status = 'CANCELLED', finished_at = $2, worker_id = NULL, lease_expires_at = NULL
      WHERE id = $1 AND ${from('cancel')}
      RETURNING *`,
    ),
    requeue: named(
      'requeue',
      `WITH requeued AS (
        UPDATE ${jobs} SET status = 'QUEUED', finished_at = NULL, worker_id = NULL, lease_expires_at = NULL
        WHERE id = $1 AND ${from('requeue')}
        RETURNING *
      )
      SELECT requeued.* FROM requeued, (SELECT pg_notify($2, '')) AS notified`,
    ),
    statusOf: named('status_of', `SELECT status FROM ${jobs} WHERE id = $1`),
    dataForUpdate: named(
      'data_for_update',
      `SELECT status, request_data FROM ${jobs} WHERE id = $1 FOR UPDATE`,
    ),
    setData: named('set_data', `UPDATE ${jobs} SET request_data = $2::json WHERE id = $1 RETURNING *`),

    nextDue: named(
      'next_due',
      `SELECT min(scheduled_at) AS next FROM ${jobs}
      WHERE ${from('claim')} AND waiting_for = 0 AND scheduled_at > $1::bigint`,
    ),
    counts: named('counts', `SELECT status, count(*) AS n FROM ${jobs} GROUP BY status`),
    deleteFinished: named(
      'delete_finished',
      `WITH doomed AS (
        SELECT id FROM ${jobs}
        WHERE status = ANY ($1::text[]) AND finished_at < $2::bigint AND ($3::text IS NULL OR container_id = $3)
        ORDER BY finished_at LIMIT $4
      ), errors_gone AS (
        DELETE FROM ${errors} WHERE job_id IN (SELECT id FROM doomed) RETURNING 1
      ), jobs_gone AS (
        DELETE FROM ${jobs} WHERE id IN (SELECT id FROM doomed) RETURNING 1
      )
      SELECT (SELECT count(*) FROM jobs_gone) AS jobs, (SELECT count(*) FROM errors_gone) AS errors`,
    ),

    /**
     * A list of one shape: filter column (or none), number of statuses, order. The page's ids come first, from
     * the index alone (OFFSET then skips index entries, not table rows), then their rows; statuses are
     * `IN ($4, $5, ...)`, which the planner matches to the (column, status, id) indexes, unlike `= ANY (array)`.
     */
    list(column: string | null, statusCount: number, order: 'asc' | 'desc'): Statement {
      const where: string[] = [];
      if (column) where.push(`${column} = $3`);
      const first = column ? 4 : 3;
      if (statusCount > 0) {
        const params = Array.from({ length: statusCount }, (_, i) => `$${first + i}`);
        where.push(`status IN (${params.join(', ')})`);
      }
      const direction = order === 'desc' ? 'DESC' : 'ASC';
      return named(
        `list_${column ?? 'all'}_${statusCount}_${order}`,
        `SELECT ${SUMMARY_COLUMNS} FROM ${jobs} WHERE id IN (
          SELECT id FROM ${jobs} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY id ${direction} LIMIT $1 OFFSET $2)
        ORDER BY id ${direction}`,
      );
    },
  };
}

export type StoreStatements = ReturnType<typeof storeStatements>;
