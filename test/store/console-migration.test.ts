// Migration 003 (console v2) on a database made by the schema before it, on both stores: jobs and errors written
// before it are read as before (their attempts without a start), and the new tables work at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { jobTimeline } from '../../src/core/index.js';
import type { JobStore } from '../../src/store/job-store.js';
import { readMigrations } from '../../src/store/migrations.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

const before003 = (store: 'sqlite' | 'postgres') =>
  readMigrations(fileURLToPath(new URL(`../../src/store/${store}/migrations`, import.meta.url))).filter(
    (migration) => migration.version < 3,
  );

const OLD_JOB = `INSERT INTO jobs (status, command, message, priority, retries, executions, scheduled_at, request_data,
  created_at, started_at, finished_at) VALUES ('ERROR', 'old.Command', 'Ready to execute', 5, 0, 1, 2000, '{}', 1000,
  2000, 2500)`;
const OLD_ERROR = `INSERT INTO job_errors (job_id, message, stacktrace, error_date) VALUES (1, 'old failure', NULL, 2500)`;

async function checkUpgraded(store: JobStore): Promise<void> {
  const job = await store.get(1, { withErrors: true });
  assert.equal(job?.status, 'ERROR');
  assert.deepEqual(
    job?.errors?.map(({ message, date, startedAt }) => ({ message, date, startedAt })),
    [{ message: 'old failure', date: 2500, startedAt: null }],
  );
  assert.deepEqual(await store.actionsOf(1), []);
  const timeline = jobTimeline(job!, []);
  assert.deepEqual(
    timeline.map((entry) => entry.kind),
    ['scheduled', 'attempt'],
  );
  // The new tables work: a requeue is recorded, statistics are sampled (the requeued job waits).
  await store.requeue(1, 3000);
  assert.deepEqual(await store.actionsOf(1), [{ kind: 'requeue', at: 3000, fromStatus: 'ERROR' }]);
  await store.recordStats({ now: 60_000, since: 0, keepBefore: 0, forgetBefore: 0 });
  assert.deepEqual(await store.readStats(0, 120_000), [{ minute: 60_000, done: 0, error: 0, waiting: 1 }]);
}

describe('migration 003 (console) on a database of the schema before', () => {
  it('SQLite', async () => {
    const path = `${tempFolder()}/old.db`;
    const db = new Database(path);
    db.exec(
      'CREATE TABLE kjobs_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    for (const migration of before003('sqlite')) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO kjobs_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
    }
    db.exec(OLD_JOB);
    db.exec(OLD_ERROR);
    db.close();
    const store = new SqliteJobStore({ path });
    await store.migrate();
    try {
      await checkUpgraded(store);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
    const schema = freshSchema('m');
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.query(`CREATE TABLE "${schema}".kjobs_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      await admin.query(`SET search_path TO "${schema}"`);
      for (const migration of before003('postgres')) {
        await admin.query(migration.sql);
        await admin.query('INSERT INTO kjobs_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
      }
      await admin.query(OLD_JOB);
      await admin.query(OLD_ERROR);
      const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
      await store.migrate();
      try {
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    } finally {
      await admin.end();
      await dropSchema(schema);
    }
  });
});
