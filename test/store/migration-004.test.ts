// Migration 004 (flow control) on a database made by the schema before it (001 only, with jobs in it), on SQLite
// and PostgreSQL: the upgrade keeps the jobs, and pause and rate limits work on them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { JobStore } from '../../src/store/job-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

const sql = (store: 'sqlite' | 'postgres') =>
  readFileSync(
    fileURLToPath(new URL(`../../src/store/${store}/migrations/001_jobs.sql`, import.meta.url)),
    'utf8',
  );

/** Two due jobs of `mail` in the old schema, and one that started a moment ago. */
const OLD_JOBS = `INSERT INTO jobs (status, command, message, priority, retries, executions, scheduled_at, request_data,
    created_at, started_at, finished_at)
  VALUES ('QUEUED', 'mail', 'Ready to execute', 5, 3, 0, 1, '{}', 1, NULL, NULL),
    ('QUEUED', 'mail', 'Ready to execute', 5, 3, 0, 1, '{}', 1, NULL, NULL),
    ('DONE', 'mail', 'Ready to execute', 5, 3, 1, 1, '{}', 1, NOW_MS, NOW_MS)`;

async function upgradedStoreWorks(store: JobStore, now: number): Promise<void> {
  await store.migrate();
  assert.equal((await store.countByStatus()).QUEUED, 2, 'the jobs are kept');
  await store.pause({ kind: 'command', name: 'mail' }, now);
  assert.deepEqual(await store.claim({ workerId: 'w', limit: 5, now: Date.now(), leaseMs: 60_000 }), []);
  await store.resume({ kind: 'command', name: 'mail' });
  const limits = { rates: { commands: { mail: { starts: 2, periodMs: 60_000 } } } };
  const claimed = await store.claim({ workerId: 'w', limit: 5, now: Date.now(), leaseMs: 60_000, limits });
  assert.equal(claimed.length, 1, 'the start made before the upgrade counts in the window');
}

describe('migration 004 on a database of the previous schema', () => {
  it('SQLite', async () => {
    const path = join(tempFolder(), 'old.db');
    const now = Date.now();
    const db = new Database(path);
    db.exec(
      `CREATE TABLE kjobs_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    );
    db.exec(sql('sqlite'));
    db.prepare('INSERT INTO kjobs_migrations VALUES (1, ?, ?)').run('001_jobs.sql', now);
    db.exec(OLD_JOBS.replaceAll('NOW_MS', String(now - 1000)));
    db.close();
    const store = new SqliteJobStore({ path });
    try {
      await upgradedStoreWorks(store, now);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
    const schema = freshSchema('m4');
    const now = Date.now();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await client.query(`CREATE TABLE kjobs_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      await client.query(sql('postgres'));
      await client.query(`INSERT INTO kjobs_migrations (version, name) VALUES (1, '001_jobs.sql')`);
      await client.query(OLD_JOBS.replaceAll('NOW_MS', String(now - 1000)).replaceAll("'{}'", "'{}'::json"));
    } finally {
      await client.end();
    }
    const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
    try {
      await upgradedStoreWorks(store, now);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});
