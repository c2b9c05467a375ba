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

/**
 * The database's time in epoch milliseconds: the start of the statement's transaction (`now()`, one value for the
 * whole statement, so it can be compared with an index). With the database clock (PostgresStoreOptions.clock), a
 * `now` parameter is passed as null and this stands for it: `coalesce($1::bigint, DB_NOW)`.
 */
export const DB_NOW = `(extract(epoch FROM now()) * 1000)::bigint`;
/** The caller's time `param`, or the database's when it is null. */
const nowOr = (param: string) => `coalesce(${param}::bigint, ${DB_NOW})`;
/** The request-data key of fair concurrency per key (issue 17), as text. */
const CONCURRENCY_KEY = `(request_data ->> 'concurrencyKey')`;

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
    // What the guard reads (../migrations.ts), added to the table of a database of an earlier release.
    guardColumns: `ALTER TABLE ${s}.kjobs_migrations ADD COLUMN IF NOT EXISTS checksum text,
      ADD COLUMN IF NOT EXISTS breaking boolean, ADD COLUMN IF NOT EXISTS kjobs_version text`,
    applied: `SELECT version, name, checksum, breaking, kjobs_version FROM ${s}.kjobs_migrations`,
    /** Migrations applied by an earlier release get their checksum: $1 version, $2 checksum, $3 breaking. */
    fill: `UPDATE ${s}.kjobs_migrations SET checksum = $2, breaking = $3 WHERE version = $1 AND checksum IS NULL`,
    searchPath: `SET LOCAL search_path TO ${s}`,
    record: `INSERT INTO ${s}.kjobs_migrations (version, name, checksum, breaking, kjobs_version)
      VALUES ($1, $2, $3, $4, $5)`,
  };
}

/** The statements of the store's operations, for one schema. */
export function storeStatements(schema: string) {
  const jobs = `${quoteIdent(schema)}.jobs`;
  const errors = `${quoteIdent(schema)}.job_errors`;
  const actions = `${quoteIdent(schema)}.job_actions`;
  const stats = `${quoteIdent(schema)}.job_stats`;
  const named = (name: string, text: string): Statement => ({ name: `kjobs_${name}`, text });
  const schemaOf = quoteIdent(schema);

  // Claim filters of a claim with concurrency limits, as in claim_jobs.
  // $1 now (null: the database's), $2 owner (null: only jobs without one), $3 containers (null: any), $4 commands left out.
  const dueWhere = `${from('claim')} AND waiting_for = 0 AND scheduled_at <= ${nowOr('$1')}
      AND (owner IS NULL OR owner = $2::text)
      AND ($3::text[] IS NULL OR container_id IS NULL OR container_id = ANY ($3::text[]))
      AND command <> ALL ($4::text[])`;
  // As in claim_jobs: the scheduled time moves to the start of the run.
  const markRunning = `UPDATE ${jobs} SET status = 'RUNNING', executions = executions + 1,
      scheduled_at = ${nowOr('$1')}, started_at = ${nowOr('$1')}, worker_id = $2::text,
      lease_expires_at = ${nowOr('$1')} + $3::bigint`;
  // In batches, each row has the caller's time `u.now`; $clock true means the database's clock decides instead,
  // and a time given relative to the caller's now (a retry's due time) is moved onto the database's clock.
  const rowNow = (clock: string) => `(CASE WHEN ${clock}::boolean THEN ${DB_NOW} ELSE u.now END)`;
  const rebased = (time: string, clock: string) =>
    `(CASE WHEN ${clock}::boolean THEN ${time} - u.now + ${DB_NOW} ELSE ${time} END)`;

  /** Cancels job $1 at $2 (null: the database's now) if `event` may happen from its status; logs the action. */
  const cancelStatement = (event: 'cancel' | 'cancelEvenRunning'): Statement =>
    named(
      event === 'cancel' ? 'cancel' : 'cancel_even_running',
      `WITH old AS (
        SELECT id, status FROM ${jobs} WHERE id = $1 AND ${from(event)} FOR UPDATE
      ), cancelled AS (
        UPDATE ${jobs} AS j SET status = 'CANCELLED', finished_at = ${nowOr('$2')}, worker_id = NULL, lease_expires_at = NULL
        FROM old WHERE j.id = old.id
        RETURNING j.*
      ), logged AS (
        INSERT INTO ${actions} (job_id, kind, at, from_status) SELECT id, 'cancel', ${nowOr('$2')}, status FROM old
      )
      SELECT * FROM cancelled`,
    );

  return {
    /**
     * Inserts a batch from arrays, in order, and wakes the listening nodes; answers the ids in order. $13 true: the
     * database's clock: created now by it, and a job due at its creation (no date given) is due at the database's
     * now. Other dates are kept as given.
     */
    insert: named(
      'insert',
      `WITH inserted AS (
        INSERT INTO ${jobs} (status, command, business_key, container_id, process_instance_id, owner, message,
          priority, retries, scheduled_at, request_data, created_at, trace_parent)
        SELECT 'QUEUED', command, business_key, container_id, process_instance_id, owner, message,
          priority, retries,
          CASE WHEN $13::boolean AND scheduled_at = created_at THEN ${DB_NOW} ELSE scheduled_at END,
          request_data::json,
          CASE WHEN $13::boolean THEN ${DB_NOW} ELSE created_at END, trace_parent
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::integer[],
            $8::integer[], $9::bigint[], $10::text[], $11::bigint[], $14::text[]) WITH ORDINALITY
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
      `SELECT DISTINCT ON (business_key) business_key, id, status FROM ${jobs}
      WHERE business_key = ANY ($1::text[]) AND status IN (${sqlList(ACTIVE_STATUSES)})
      ORDER BY business_key, id`,
    ),

    /** Unique "replace" and "debounce": the waiting job takes the new data ($2) and, with $3, a new start. */
    replaceWaiting: named(
      'replace_waiting',
      `UPDATE ${jobs} SET request_data = $2::json, scheduled_at = coalesce($3::bigint, scheduled_at)
      WHERE id = $1 AND status IN ('QUEUED', 'RETRYING') RETURNING id`,
    ),
    /**
     * Dependencies (migration 005): a new job's parents, locked until the schedule commits so that a parent ending
     * meanwhile waits for the links (and its trigger then sees them); $1 the parents' ids.
     */
    parentsForUpdate: named(
      'parents_for_update',
      `SELECT id, status, dependency_depth FROM ${jobs} WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE`,
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
    /** $1 the new job, $2 parents it waits for, $3 its dependency depth. */
    setLinks: named('set_links', `UPDATE ${jobs} SET waiting_for = $2, dependency_depth = $3 WHERE id = $1`),
    /**
     * The release of ended parents' children (dependency-release.ts, migration 008). Marked parents, locked for
     * this walk and skipped when another walk has them: any ($1 how many), or among $1 ($2 how many).
     */
    pendingParents: named(
      'pending_parents',
      `SELECT id, status, finished_at FROM ${jobs} WHERE release_pending ORDER BY id LIMIT $1
      FOR UPDATE SKIP LOCKED`,
    ),
    pendingParentsOf: named(
      'pending_parents_of',
      `SELECT id, status, finished_at FROM ${jobs} WHERE id = ANY ($1::bigint[]) AND release_pending
      ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    ),
    /** Marked parents' ids, without locking them ($1 how many). */
    pendingReleaseIds: named(
      'pending_release_ids',
      `SELECT id FROM ${jobs} WHERE release_pending ORDER BY id LIMIT $1`,
    ),
    /** A release that fails every time, given up: $1 the parent, $2 the error record's message, $3 its date. */
    abandonRelease: named(
      'abandon_release',
      `WITH unmarked AS (
        UPDATE ${jobs} SET release_pending = false WHERE id = $1 AND release_pending RETURNING id
      ), recorded AS (
        INSERT INTO ${errors} (job_id, message, stacktrace, error_date) SELECT id, $2, NULL, $3 FROM unmarked
      )
      SELECT id FROM unmarked`,
    ),
    /** Links of the parents $1 not yet released, at most $2. */
    openLinks: named(
      'open_links',
      `SELECT parent_id, job_id, run_on_failure FROM ${quoteIdent(schema)}.job_dependencies
      WHERE parent_id = ANY ($1::bigint[]) AND NOT resolved ORDER BY parent_id, job_id LIMIT $2`,
    ),
    /** The children a release step changes, locked in id order (two walks meeting on a child take turns). */
    lockChildren: named(
      'lock_children',
      `SELECT id FROM ${jobs} WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE`,
    ),
    /**
     * One release step: children $1 wait for $2 parents fewer; children $3 are cancelled (if still waiting) with
     * the error records $4 at $5; the links ($6 parents, $7 children) are released. Answers the cancelled children
     * (kind 'cancelled', with has_children) and the released ones (kind 'released').
     */
    applyRelease: named(
      'apply_release',
      `WITH released AS (
        UPDATE ${jobs} AS j SET waiting_for = greatest(j.waiting_for - u.by, 0)
        FROM unnest($1::bigint[], $2::integer[]) AS u (id, by)
        WHERE j.id = u.id AND j.waiting_for > 0
        RETURNING j.id
      ), cancelled AS (
        UPDATE ${jobs} AS j SET status = 'CANCELLED', finished_at = u.at
        FROM unnest($3::bigint[], $4::text[], $5::bigint[]) AS u (id, message, at)
        WHERE j.id = u.id AND j.status = 'QUEUED' AND j.waiting_for > 0
        RETURNING j.id, j.has_children, u.message, u.at
      ), recorded AS (
        INSERT INTO ${errors} (job_id, message, stacktrace, error_date)
        SELECT id, message, NULL, at FROM cancelled ORDER BY id
      ), resolved AS (
        UPDATE ${quoteIdent(schema)}.job_dependencies AS d SET resolved = true
        FROM unnest($6::bigint[], $7::bigint[]) AS l (parent_id, job_id)
        WHERE d.parent_id = l.parent_id AND d.job_id = l.job_id AND NOT d.resolved
      )
      SELECT 'cancelled' AS kind, id, has_children FROM cancelled
      UNION ALL SELECT 'released', id, false FROM released`,
    ),
    /**
     * Clears the mark of the parents $1 that are not ended any more (requeued) or have no open link left; with $2,
     * wakes the listening nodes: children may be due (delivered on commit).
     */
    unmarkParents: named(
      'unmark_parents',
      `WITH unmarked AS (
        UPDATE ${jobs} SET release_pending = false
        WHERE id = ANY ($1::bigint[]) AND release_pending
          AND (status NOT IN ('DONE', 'ERROR', 'CANCELLED') OR NOT EXISTS (
            SELECT 1 FROM ${quoteIdent(schema)}.job_dependencies d WHERE d.parent_id = ${jobs}.id AND NOT d.resolved))
        RETURNING 1
      )
      SELECT count(*) AS n, (SELECT CASE WHEN $2::boolean THEN pg_notify($3, '') END) AS notified FROM unmarked`,
    ),
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
     * one), $3 containers (null: any), $4 commands left out, $5 worker, $6 lease length, $7 limit. $1 null: due by
     * the database's clock, the lease counted from it.
     */
    claim: named(
      'claim',
      `SELECT * FROM ${quoteIdent(schema)}.claim_jobs(${nowOr('$1')}, $2::text, $3::text[], $4::text[], $5::text,
        $6::bigint, $7::integer)`,
    ),
    /** Where each priority's waiting jobs due by $1 begin (migration 006), and how long finding that took. */
    claimPositions: named(
      'claim_positions',
      `SELECT * FROM ${quoteIdent(schema)}.claim_positions(${nowOr('$1')})`,
    ),
    /** The claim, each priority read from a position on: $8 priorities, $9 scheduled times, $10 ids. */
    claimFrom: named(
      'claim_from',
      `SELECT * FROM ${quoteIdent(schema)}.claim_jobs_from(${nowOr('$1')}, $2::text, $3::text[], $4::text[],
        $5::text, $6::bigint, $7::integer, $8::integer[], $9::bigint[], $10::bigint[])`,
    ),
    /**
     * With concurrency limits (under the limits lock, sorting off as in claim_jobs): due jobs to pick from; $5 limit,
     * $6 containers left out, $7 concurrency keys left out.
     */
    candidates: named(
      'candidates',
      `SELECT id, command, container_id, ${CONCURRENCY_KEY} AS concurrency_key FROM ${jobs}
      WHERE ${dueWhere} AND (container_id IS NULL OR container_id <> ALL ($6::text[]))
        AND (${CONCURRENCY_KEY} IS NULL OR ${CONCURRENCY_KEY} <> ALL ($7::text[]))
      ORDER BY priority DESC, scheduled_at, id
      LIMIT $5
      FOR UPDATE SKIP LOCKED`,
    ),
    /**
     * A remote worker's candidates (ClaimOptions.onlyContainers, commands): as `candidates`, jobs of its containers
     * only, and with $8 (null: any) only commands LIKE one of these patterns.
     */
    remoteCandidates: named(
      'remote_candidates',
      `SELECT id, command, container_id, ${CONCURRENCY_KEY} AS concurrency_key FROM ${jobs}
      WHERE ${dueWhere} AND container_id IS NOT NULL AND container_id <> ALL ($6::text[])
        AND (${CONCURRENCY_KEY} IS NULL OR ${CONCURRENCY_KEY} <> ALL ($7::text[]))
        AND ($8::text[] IS NULL OR command LIKE ANY ($8::text[]))
      ORDER BY priority DESC, scheduled_at, id
      LIMIT $5
      FOR UPDATE SKIP LOCKED`,
    ),
    /** The candidates, each priority read from a position on: $8 priorities, $9 scheduled times, $10 ids. */
    candidatesFrom: named(
      'candidates_from',
      `SELECT * FROM ${schemaOf}.claim_candidates_from(${nowOr('$1')}, $2::text, $3::text[], $4::text[],
        $5::integer, $6::text[], $7::text[], $8::integer[], $9::bigint[], $10::bigint[])`,
    ),
    /** The chosen candidates: $2 worker, $3 lease length, $4 ids. */
    claimChosen: named(
      'claim_chosen',
      `${markRunning} WHERE id = ANY ($4::bigint[]) AND ${from('claim')} RETURNING *`,
    ),
    /** Claims with limits take turns: each counts what runs, then claims, then commits ($1 the namespace). */
    limitsLock: named('limits_lock', `SELECT pg_advisory_xact_lock(hashtext($1::text), 0)`),
    noSorts: named('no_sorts', 'SET LOCAL enable_sort = off'),
    /** Flow control (issue 17): what is paused, pausing ($1 kind, $2 name, $3 time) and resuming (NOTIFY $3). */
    paused: named('paused', `SELECT kind, name, paused_at FROM ${schemaOf}.paused ORDER BY kind, name`),
    pause: named(
      'pause',
      `INSERT INTO ${schemaOf}.paused (kind, name, paused_at) VALUES ($1, $2, $3) ON CONFLICT (kind, name) DO NOTHING`,
    ),
    resume: named(
      'resume',
      `WITH resumed AS (DELETE FROM ${schemaOf}.paused WHERE kind = $1 AND name = $2 RETURNING 1)
      SELECT count(*) AS n, (SELECT pg_notify($3, '')) AS notified FROM resumed`,
    ),
    /** Key limits: RUNNING jobs per command and concurrency key. */
    runningKeys: named(
      'running_keys',
      `SELECT command, ${CONCURRENCY_KEY} AS concurrency_key, count(*) AS n FROM ${jobs}
      WHERE status = 'RUNNING' AND ${CONCURRENCY_KEY} IS NOT NULL GROUP BY 1, 2`,
    ),
    /** The database's now (rate windows count start times, which claims write on its clock). */
    dbNow: named('db_now', `SELECT ${DB_NOW} AS now`),
    /** Rate limits: starts since $1 of the commands $2 or containers $3. */
    recentStarts: named(
      'recent_starts',
      `SELECT command, container_id, started_at FROM ${jobs}
      WHERE started_at > $1::bigint AND (command = ANY ($2::text[]) OR container_id = ANY ($3::text[]))`,
    ),
    runningCounts: named(
      'running_counts',
      `SELECT command, container_id, count(*) AS n FROM ${jobs} WHERE status = 'RUNNING'
      GROUP BY command, container_id`,
    ),

    /** Completions, one statement per kind for a whole batch; `n` says which outcome a written row answers. */
    succeed: named(
      'succeed',
      `UPDATE ${jobs} AS j SET status = 'DONE', response_data = u.response_data::json, finished_at = ${rowNow('$6')},
        worker_id = NULL, lease_expires_at = NULL
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::integer[])
        AS u (id, worker_id, response_data, now, n)
      WHERE j.id = u.id AND ${from('succeed', 'j.status')} AND j.worker_id = u.worker_id
      RETURNING u.n, j.has_children`,
    ),
    failOrRetry: named(
      'fail_or_retry',
      `WITH written AS (
        UPDATE ${jobs} AS j SET status = u.status, retries = u.retries,
          scheduled_at = ${rebased('u.scheduled_at', '$11')}, finished_at = ${rebased('u.finished_at', '$11')},
          worker_id = NULL, lease_expires_at = NULL
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::bigint[], $6::bigint[], $7::integer[],
            $10::bigint[])
          AS u (id, worker_id, status, retries, scheduled_at, finished_at, n, now)
        WHERE j.id = u.id AND j.worker_id = u.worker_id
          AND (u.status = 'RETRYING' AND ${from('retry', 'j.status')} OR u.status = 'ERROR' AND ${from('fail', 'j.status')})
        RETURNING u.n, j.started_at, j.has_children AND u.status = 'ERROR' AS has_children
      ), recorded AS (
        INSERT INTO ${errors} (job_id, message, stacktrace, error_date, started_at)
        SELECT e.job_id, e.message, e.stacktrace,
          CASE WHEN $11::boolean THEN ${DB_NOW} ELSE e.error_date END, written.started_at
        FROM unnest($1::bigint[], $8::text[], $9::text[], $10::bigint[], $7::integer[])
          AS e (job_id, message, stacktrace, error_date, n)
        JOIN written USING (n)
        ORDER BY e.n
      )
      SELECT n, has_children FROM written`,
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
    /** Renews the leases of jobs $2 still held by worker $3; answers those renewed. */
    renew: named(
      'renew',
      `UPDATE ${jobs} SET lease_expires_at = ${nowOr('$1')} + $4::bigint
      WHERE id = ANY ($2::bigint[]) AND status = 'RUNNING' AND worker_id = $3 RETURNING id`,
    ),
    expired: named(
      'expired',
      `SELECT * FROM ${jobs} WHERE status = 'RUNNING' AND lease_expires_at < ${nowOr('$1')}
      ORDER BY lease_expires_at LIMIT $2`,
    ),
    runningWorkers: named(
      'running_workers',
      `SELECT DISTINCT worker_id FROM ${jobs} WHERE status = 'RUNNING' AND worker_id IS NOT NULL`,
    ),
    expireLeasesOf: named(
      'expire_leases_of',
      `UPDATE ${jobs} SET lease_expires_at = 0 WHERE status = 'RUNNING' AND worker_id = $1`,
    ),

    /** State changes: one guarded statement; no row means the job is missing or in a refusing state. */
    cancel: cancelStatement('cancel'),
    /** A kjobs extension: a RUNNING job too (its worker's next renewal finds it gone). */
    cancelEvenRunning: cancelStatement('cancelEvenRunning'),
    requeue: named(
      'requeue',
      `WITH old AS (
        SELECT id, status FROM ${jobs} WHERE id = $1 AND ${from('requeue')} FOR UPDATE
      ), requeued AS (
        UPDATE ${jobs} AS j SET status = 'QUEUED', finished_at = NULL, worker_id = NULL, lease_expires_at = NULL
        FROM old WHERE j.id = old.id
        RETURNING j.*
      ), logged AS (
        INSERT INTO ${actions} (job_id, kind, at, from_status) SELECT id, 'requeue', $3, status FROM old
      )
      SELECT requeued.* FROM requeued, (SELECT pg_notify($2, '')) AS notified`,
    ),
    /** Bulk: the selected jobs by id, locked ($1 ids). */
    bulkByIds: named(
      'bulk_by_ids',
      `SELECT id, status, command, container_id, business_key, request_data FROM ${jobs}
      WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE`,
    ),
    /** Bulk: the chosen jobs cancelled ($1 ids, $2 now), their actions recorded. */
    bulkCancel: named(
      'bulk_cancel',
      `WITH old AS (
        SELECT id, status FROM ${jobs} WHERE id = ANY ($1::bigint[]) AND ${from('cancel')}
      ), cancelled AS (
        UPDATE ${jobs} AS j SET status = 'CANCELLED', finished_at = $2, worker_id = NULL, lease_expires_at = NULL
        FROM old WHERE j.id = old.id RETURNING j.id, j.has_children
      ), logged AS (
        INSERT INTO ${actions} (job_id, kind, at, from_status) SELECT id, 'cancel', $2, status FROM old ORDER BY id
      )
      SELECT id, has_children FROM cancelled ORDER BY id`,
    ),
    /** Bulk: the chosen jobs requeued ($1 ids, $2 now, $3 channel), their actions recorded. */
    bulkRequeue: named(
      'bulk_requeue',
      `WITH old AS (
        SELECT id, status FROM ${jobs} WHERE id = ANY ($1::bigint[]) AND ${from('requeue')}
      ), requeued AS (
        UPDATE ${jobs} AS j SET status = 'QUEUED', finished_at = NULL, worker_id = NULL, lease_expires_at = NULL
        FROM old WHERE j.id = old.id RETURNING j.id
      ), logged AS (
        INSERT INTO ${actions} (job_id, kind, at, from_status) SELECT id, 'requeue', $2, status FROM old ORDER BY id
      )
      SELECT id FROM requeued, (SELECT pg_notify($3, '')) AS notified ORDER BY id`,
    ),
    actionsOf: named(
      'actions_of',
      `SELECT kind, at, from_status FROM ${actions} WHERE job_id = $1 ORDER BY id`,
    ),
    /** Statistics: finished jobs per minute in [$1, $2), kept as they are before $3. */
    statsFinished: named(
      'stats_finished',
      `INSERT INTO ${stats} AS s (minute, done, error)
        SELECT finished_at / 60000 * 60000, count(*) FILTER (WHERE status = 'DONE'),
          count(*) FILTER (WHERE status = 'ERROR')
        FROM ${jobs} WHERE finished_at >= $1 AND finished_at < $2 AND status IN ('DONE', 'ERROR')
        GROUP BY 1 ORDER BY 1
      ON CONFLICT (minute) DO UPDATE SET done = excluded.done, error = excluded.error WHERE s.minute >= $3`,
    ),
    /** Statistics: jobs waiting now, in the minute $1. */
    statsWaiting: named(
      'stats_waiting',
      `INSERT INTO ${stats} AS s (minute, waiting)
        SELECT $1, count(*) FROM ${jobs} WHERE ${from('claim')}
      ON CONFLICT (minute) DO UPDATE SET waiting = excluded.waiting`,
    ),
    statsForget: named('stats_forget', `DELETE FROM ${stats} WHERE minute < $1`),
    readStats: named(
      'read_stats',
      `SELECT minute, done, error, waiting FROM ${stats} WHERE minute >= $1 AND minute < $2 ORDER BY minute`,
    ),
    /** Breakdown: jobs per key and status ($key: command or container_id). */
    breakdownCounts(key: 'command' | 'container_id'): Statement {
      return named(
        `breakdown_counts_${key}`,
        `SELECT ${key} AS key, status, sum(n)::integer AS n FROM (
          SELECT command, container_id, status, count(*) AS n FROM ${jobs} GROUP BY command, container_id, status
        ) AS grouped
        GROUP BY ${key}, status`,
      );
    },
    /** Breakdown: attempts that ended since $1, failed or not, with their duration. */
    breakdownRuns(key: 'command' | 'container_id'): Statement {
      return named(
        `breakdown_runs_${key}`,
        `SELECT ${key} AS key, false AS failed, finished_at - started_at AS ms FROM ${jobs}
          WHERE finished_at >= $1 AND status = 'DONE'
        UNION ALL
        SELECT j.${key}, true, e.error_date - e.started_at FROM ${errors} AS e JOIN ${jobs} AS j ON j.id = e.job_id
          WHERE e.error_date >= $1`,
      );
    },
    /** Bulk: the jobs of a filter ($2 value, if any) in the given statuses, locked, at most $1. */
    bulkByFilter(column: string | null): Statement {
      return named(
        `bulk_by_filter_${column ?? 'all'}`,
        `SELECT id, status, command, container_id, business_key, request_data FROM ${jobs}
        WHERE ${column ? `${column} = $3 AND ` : ''}status = ANY ($2::text[])
        ORDER BY id LIMIT $1 FOR UPDATE`,
      );
    },
    statusOf: named('status_of', `SELECT status FROM ${jobs} WHERE id = $1`),
    dataForUpdate: named(
      'data_for_update',
      `SELECT status, request_data FROM ${jobs} WHERE id = $1 FOR UPDATE`,
    ),
    setData: named('set_data', `UPDATE ${jobs} SET request_data = $2::json WHERE id = $1 RETURNING *`),

    /**
     * Milliseconds from $1 (null: the database's now) until the earliest waiting job due later than that is due
     * (jobs already due were left by the claim: not this executor's).
     */
    nextDue: named(
      'next_due',
      `SELECT min(scheduled_at) - ${nowOr('$1')} AS wait FROM ${jobs}
      WHERE ${from('claim')} AND waiting_for = 0 AND scheduled_at > ${nowOr('$1')}`,
    ),
    counts: named('counts', `SELECT status, count(*) AS n FROM ${jobs} GROUP BY status`),
    deleteFinished: named(
      'delete_finished',
      `WITH doomed AS (
        SELECT id FROM ${jobs}
        WHERE status = ANY ($1::text[]) AND ($3::text IS NULL OR container_id = $3) AND NOT release_pending
          AND finished_at < (CASE WHEN $5::bigint IS NULL THEN $2::bigint ELSE $2::bigint - $5::bigint + ${DB_NOW} END)
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
