/**
 * The console's queries at 1,000,000 jobs, on SQLite and PostgreSQL (issue 16): the chart query (stats of the last
 * hour and of the last 24 hours, what GET .../server/kjobs/stats runs), the breakdown by command and by container,
 * the statistics sampler (its first sample, which counts the last day, and a steady one), and the counts per status
 * for comparison. Jobs are written straight into the tables: finished ones spread over the last two days (about
 * 20,000 an hour), 80 % DONE, 5 % ERROR with one error record, 10 % QUEUED, 5 % CANCELLED, over 20 commands.
 *
 *   node --import tsx bench/console-stats.ts [jobs] [postgres://...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createKjobs, type Kjobs } from '../src/kjobs.js';
import type { JobStore } from '../src/store/job-store.js';
import { PostgresJobStore } from '../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../src/store/sqlite/sqlite-store.js';
import { StatsSampler } from '../src/executor/stats-sampler.js';
import pino from 'pino';
import { summarize } from './stats.js';

const JOBS = Number(process.argv[2] ?? 1_000_000);
const url =
  process.argv[3] ?? process.env.KJOBS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NOW = Date.now();
const SPAN = 2 * 86_400_000;

/** The i-th job: status, command, container, times. Deterministic. */
function row(i: number) {
  const r = (i * 2654435761) % 100;
  const status = r < 80 ? 'DONE' : r < 85 ? 'ERROR' : r < 95 ? 'QUEUED' : 'CANCELLED';
  const finished = status === 'QUEUED' ? null : NOW - Math.floor((i / JOBS) * SPAN);
  const started = finished === null ? null : finished - (50 + (i % 400));
  return {
    status,
    command: `com.acme.Command${i % 20}`,
    container: i % 3 === 0 ? null : `container-${i % 4}`,
    created: (started ?? NOW) - 1000,
    started,
    finished,
  };
}

async function time(runs: number, work: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await work();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

async function measure(name: string, store: JobStore): Promise<void> {
  const kjobs: Kjobs = await createKjobs({ store, executor: false });
  const sampler = new StatsSampler(store, { logger: pino({ level: 'silent' }) });
  let t = performance.now();
  await sampler.sample(NOW);
  console.log(`${name}: first sample (counts the last day): ${Math.round(performance.now() - t)} ms`);
  const results = {
    'sample (steady, every 10 s)': await time(20, () => sampler.sample(Date.now())),
    'chart query, hour': await time(500, () => kjobs.stats('hour')),
    'chart query, day': await time(500, () => kjobs.stats('day')),
    'breakdown by command': await time(10, () => kjobs.breakdown('command')),
    'breakdown by container': await time(10, () => kjobs.breakdown('container')),
    'counts per status (for comparison)': await time(10, () => kjobs.countByStatus()),
  };
  for (const [what, s] of Object.entries(results))
    console.log(`${name}: ${what}: p50 ${s.p50} ms, p99 ${s.p99} ms (n=${s.n})`);
  t = performance.now();
}

async function sqlite(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-bench-console-'));
  const store = new SqliteJobStore({ path: join(folder, 'jobs.db') });
  await store.migrate();
  const t = performance.now();
  const insert = store.db
    .prepare(`INSERT INTO jobs (id, status, command, container_id, message, priority, retries,
      executions, scheduled_at, request_data, created_at, started_at, finished_at)
    VALUES (?, ?, ?, ?, 'Ready to execute', 5, 0, ?, ?, '{}', ?, ?, ?)`);
  const error = store.db.prepare(
    `INSERT INTO job_errors (job_id, message, stacktrace, error_date, started_at) VALUES (?, 'boom', NULL, ?, ?)`,
  );
  store.db.transaction(() => {
    for (let i = 1; i <= JOBS; i++) {
      const j = row(i);
      insert.run(
        i,
        j.status,
        j.command,
        j.container,
        j.started ? 1 : 0,
        j.started ?? NOW,
        j.created,
        j.started,
        j.finished,
      );
      if (j.status === 'ERROR') error.run(i, j.finished, j.started);
    }
  })();
  store.db.exec('ANALYZE');
  console.log(`SQLite: ${JOBS} jobs written in ${Math.round((performance.now() - t) / 1000)} s`);
  try {
    await measure('SQLite', store);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

async function postgres(): Promise<void> {
  const schema = `bench_console_${process.pid}`;
  const store = new PostgresJobStore({ connectionString: url, schema });
  await store.migrate();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const t = performance.now();
    // The same rows as row(i), in SQL.
    await admin.query(`SET search_path TO "${schema}"`);
    await admin.query(
      `INSERT INTO jobs (id, status, command, container_id, message, priority, retries, executions, scheduled_at,
         request_data, created_at, started_at, finished_at)
       SELECT i, s.status, 'com.acme.Command' || (i % 20), CASE WHEN i % 3 = 0 THEN NULL ELSE 'container-' || (i % 4) END,
         'Ready to execute', 5, 0, CASE WHEN s.status = 'QUEUED' THEN 0 ELSE 1 END, $1, '{}',
         coalesce(f.finished - (50 + i % 400), $1) - 1000, f.finished - (50 + i % 400), f.finished
       FROM generate_series(1, $2::bigint) AS i,
         LATERAL (SELECT CASE WHEN (i * 2654435761) % 100 < 80 THEN 'DONE' WHEN (i * 2654435761) % 100 < 85 THEN 'ERROR'
           WHEN (i * 2654435761) % 100 < 95 THEN 'QUEUED' ELSE 'CANCELLED' END AS status) AS s,
         LATERAL (SELECT CASE WHEN s.status = 'QUEUED' THEN NULL
           ELSE $1 - floor(i::float8 / $2 * $3)::bigint END AS finished) AS f`,
      [NOW, JOBS, SPAN],
    );
    await admin.query(`SELECT setval(pg_get_serial_sequence('jobs', 'id'), $1)`, [JOBS]);
    await admin.query(
      `INSERT INTO job_errors (job_id, message, error_date, started_at)
       SELECT id, 'boom', finished_at, started_at FROM jobs WHERE status = 'ERROR'`,
    );
    await admin.query('VACUUM ANALYZE jobs');
    await admin.query('VACUUM ANALYZE job_errors');
    console.log(`PostgreSQL: ${JOBS} jobs written in ${Math.round((performance.now() - t) / 1000)} s`);
    await measure('PostgreSQL', store);
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

if (!process.env.SKIP_SQLITE) await sqlite();
if (!process.env.SKIP_POSTGRES) await postgres();
