/** Migration 006 (claims from positions, PostgreSQL only) on a database made by the schema before it (005). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import {
  ALWAYS_FROM_POSITIONS,
  dropSchema,
  freshSchema,
  POSTGRES_SKIP,
  POSTGRES_URL,
} from './postgres-helpers.js';

const BEFORE = ['001_jobs.sql', '003_console.sql', '004_flow_control.sql', '005_dependencies_progress.sql'];
const sqlOf = (file: string) =>
  readFileSync(new URL(`../../src/store/postgres/migrations/${file}`, import.meta.url), 'utf8');

describe('migration 006 on a PostgreSQL database of schema 005', { skip: POSTGRES_SKIP }, () => {
  it('adds the position functions; waiting jobs of the old schema are claimed from positions', async () => {
    const schema = freshSchema('m006');
    after(() => dropSchema(schema));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      await client.query(`CREATE TABLE kjobs_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const file of BEFORE) {
        await client.query(sqlOf(file));
        await client.query('INSERT INTO kjobs_migrations (version, name) VALUES ($1, $2)', [
          Number(file.slice(0, 3)),
          file,
        ]);
      }
      await client.query(`INSERT INTO jobs (status, command, message, priority, retries, scheduled_at, request_data,
        created_at) VALUES ('QUEUED', 'old.Low', 'Ready to execute', 2, 3, 1, '{}', 1),
        ('RETRYING', 'old.High', 'Ready to execute', 8, 3, 2, '{}', 1)`);
    } finally {
      await client.end();
    }
    const store = new PostgresJobStore({
      connectionString: POSTGRES_URL,
      schema,
      claimPositions: ALWAYS_FROM_POSITIONS,
    });
    try {
      await store.migrate();
      const claimed = await store.claim({ workerId: 'w', limit: 10, now: Date.now(), leaseMs: 60_000 });
      assert.deepEqual(
        claimed.map((job) => job.command),
        ['old.High', 'old.Low'],
        'both, in priority order',
      );
    } finally {
      await store.close();
    }
  });
});
