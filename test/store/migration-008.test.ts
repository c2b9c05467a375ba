/**
 * Migration 008 (releases without recursion) on a database that the previous release left stuck: a chain of 1,100
 * jobs past today's depth limit whose root was RUNNING when its worker died, so that its outcome would recurse
 * through the old trigger. `kjobs serve` started on it listens at once, answers, and works the chain off; the
 * depths of the old jobs are filled in. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { startService, type Service } from '../cli/service.js';
import { eventually, tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

const CHAIN = 1100;
const folder = tempFolder('kjobs-migration-008-');

/** The migration files of a store before 008, in order. */
function migrationsBefore008(store: 'sqlite' | 'postgres'): { version: number; name: string; sql: string }[] {
  const dir = new URL(`../../src/store/${store}/migrations/`, import.meta.url);
  return readdirSync(dir)
    .filter((name) => /^\d+_.*\.sql$/.test(name) && Number.parseInt(name, 10) < 8)
    .sort()
    .map((name) => ({
      version: Number.parseInt(name, 10),
      name,
      sql: readFileSync(new URL(name, dir), 'utf8'),
    }));
}

/** The stuck chain: job 1 RUNNING under a lost lease, jobs 2..CHAIN each waiting for the one before it. */
function chainRows(dialect: 'sqlite' | 'postgres'): string {
  const series =
    dialect === 'sqlite'
      ? `(WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${CHAIN}) SELECT i FROM s)`
      : `generate_series(1, ${CHAIN}) AS s (i)`;
  const flag = (condition: string) =>
    dialect === 'sqlite' ? `CASE WHEN ${condition} THEN 1 ELSE 0 END` : condition;
  return `
    INSERT INTO jobs (id, status, command, message, priority, retries, executions, scheduled_at, request_data,
      created_at, started_at, worker_id, lease_expires_at, waiting_for, has_children)
    SELECT i, CASE WHEN i = 1 THEN 'RUNNING' ELSE 'QUEUED' END, 'org.jbpm.executor.commands.PrintOutCommand',
      'Ready to execute', 5, 0, CASE WHEN i = 1 THEN 1 ELSE 0 END, 1, '{"retries":0}', 1,
      CASE WHEN i = 1 THEN 1 END, CASE WHEN i = 1 THEN 'gone-host:1:lost' END, CASE WHEN i = 1 THEN 1 END,
      CASE WHEN i = 1 THEN 0 ELSE 1 END, ${flag(`i < ${CHAIN}`)}
    FROM ${series};
    INSERT INTO job_dependencies (parent_id, job_id, run_on_failure)
    SELECT i, i + 1, ${flag('1 = 0')} FROM ${series} WHERE i < ${CHAIN};`;
}

/** Waits until the service has worked the chain off, /healthz answering throughout. */
async function chainWorkedOff(service: Service): Promise<void> {
  await eventually(
    async () => {
      const health = await fetch(`${service.address}/healthz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200);
      const answer = await service.call('GET', `/jobs/${CHAIN}`);
      return (JSON.parse(answer.text) as Record<string, unknown>)['request-status'] as string;
    },
    (status) => status === 'CANCELLED',
    60_000,
  );
  const root = JSON.parse((await service.call('GET', '/jobs/1')).text) as Record<string, unknown>;
  assert.equal(root['request-status'], 'ERROR', 'the lost attempt failed, with no retry left');
}

describe('migration 008 on a stuck database of the previous release', () => {
  it('SQLite: kjobs serve listens, answers, and works the chain off', async () => {
    const path = join(folder, 'stuck.db');
    const db = new Database(path);
    db.exec(
      `CREATE TABLE kjobs_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    );
    for (const migration of migrationsBefore008('sqlite')) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO kjobs_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
    }
    db.exec(chainRows('sqlite'));
    db.close();

    const service = await startService(['--db', path, '--heartbeat', '1s']);
    after(() => service.child.kill('SIGKILL'));
    await chainWorkedOff(service);
    const check = new Database(path, { readonly: true });
    const depth = check.prepare('SELECT dependency_depth FROM jobs WHERE id = ?').pluck().get(CHAIN);
    check.close();
    assert.equal(depth, CHAIN - 1, 'the depths of old jobs are filled in');
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, 'and it stops on SIGTERM');
  });

  it('PostgreSQL: the same', { skip: POSTGRES_SKIP }, async () => {
    const schema = freshSchema('m008');
    after(() => dropSchema(schema));
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      await admin.query(`CREATE TABLE kjobs_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of migrationsBefore008('postgres')) {
        await admin.query(migration.sql);
        await admin.query('INSERT INTO kjobs_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
      }
      await admin.query(chainRows('postgres'));
      await admin.query(`SELECT setval(pg_get_serial_sequence('jobs', 'id'), ${CHAIN})`);
    } finally {
      await admin.end();
    }
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    const service = await startService(['--db', url.toString(), '--heartbeat', '1s']);
    after(() => service.child.kill('SIGKILL'));
    await chainWorkedOff(service);
    const check = new pg.Client({ connectionString: POSTGRES_URL });
    await check.connect();
    try {
      const { rows } = await check.query(`SELECT dependency_depth FROM "${schema}".jobs WHERE id = $1`, [
        CHAIN,
      ]);
      assert.equal(rows[0].dependency_depth, CHAIN - 1, 'the depths of old jobs are filled in');
    } finally {
      await check.end();
    }
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, 'and it stops on SIGTERM');
  });
});
