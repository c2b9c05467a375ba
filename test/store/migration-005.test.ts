/** Migration 005 (dependencies, progress, trace context) on a database made by the schema before it. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';
import { newJob } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-migration-005-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const sql001 = (store: 'sqlite' | 'postgres') =>
  readFileSync(new URL(`../../src/store/${store}/migrations/001_jobs.sql`, import.meta.url), 'utf8');

describe('migration 005 on a database of schema 001', () => {
  it('SQLite: a waiting job of the old schema is claimed after the upgrade, and new jobs can wait', async () => {
    const path = join(folder, 'old.db');
    const db = new Database(path);
    db.exec(sql001('sqlite'));
    db.exec(`CREATE TABLE kjobs_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
      INSERT INTO kjobs_migrations VALUES (1, '001_jobs.sql', 0);
      INSERT INTO jobs (status, command, message, priority, retries, scheduled_at, request_data, created_at)
      VALUES ('QUEUED', 'old.Command', 'Ready to execute', 5, 3, 1, '{}', 1);`);
    db.close();
    const store = new SqliteJobStore({ path });
    await store.migrate();
    try {
      const [kid] = await store.schedule([newJob({ dependsOn: [1] })]);
      assert.equal((await store.get(kid!))?.waitingFor, 1);
      const claimed = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        claimed.map((job) => job.id),
        [1],
      );
      await store.complete([{ kind: 'succeed', jobId: 1, workerId: 'w', now: Date.now(), responseData: {} }]);
      const next = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        next.map((job) => job.id),
        [kid],
      );
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: the same', { skip: POSTGRES_SKIP }, async () => {
    const schema = await freshSchema();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}";`);
      await admin.query(sql001('postgres'));
      await admin.query(`CREATE TABLE kjobs_migrations (version integer PRIMARY KEY, name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO kjobs_migrations (version, name) VALUES (1, '001_jobs.sql');
        INSERT INTO jobs (status, command, message, priority, retries, scheduled_at, request_data, created_at)
        VALUES ('QUEUED', 'old.Command', 'Ready to execute', 5, 3, 1, '{}', 1);`);
    } finally {
      await admin.end();
    }
    const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema });
    try {
      await store.migrate();
      const [old] = await store.list({
        filter: { by: 'status' },
        statuses: [],
        order: 'asc',
        offset: 0,
        limit: 1,
      });
      const [kid] = await store.schedule([newJob({ dependsOn: [old!.id] })]);
      const claimed = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        claimed.map((job) => job.id),
        [old!.id],
      );
      await store.complete([
        { kind: 'succeed', jobId: old!.id, workerId: 'w', now: Date.now(), responseData: {} },
      ]);
      const next = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        next.map((job) => job.id),
        [kid],
      );
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it(
    'PostgreSQL: two parents ending at once in two transactions release their child once',
    { skip: POSTGRES_SKIP },
    async () => {
      const schema = await freshSchema();
      const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema });
      try {
        await store.migrate();
        for (let round = 0; round < 10; round++) {
          const [a, b] = await store.schedule([newJob(), newJob()]);
          const [kid] = await store.schedule([newJob({ dependsOn: [a!, b!] })]);
          await store.claim({ workerId: 'w', limit: 2, now: Date.now(), leaseMs: 60_000 });
          const now = Date.now();
          await Promise.all([
            store.complete([{ kind: 'succeed', jobId: a!, workerId: 'w', now, responseData: {} }]),
            store.complete([{ kind: 'succeed', jobId: b!, workerId: 'w', now, responseData: {} }]),
          ]);
          const claimed = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
          assert.deepEqual(
            claimed.map((job) => job.id),
            [kid],
          );
          await store.complete([{ kind: 'succeed', jobId: kid!, workerId: 'w', now, responseData: {} }]);
        }
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    },
  );
});
