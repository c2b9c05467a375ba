/**
 * 5. List queries with many jobs stored, over HTTP against a kjobs server process (API only), p50/p99 ms per
 * query, page 0 and a deep page, and the server's peak RSS.
 *
 * Loading: the store's own schema (migrate()), filled by one server-side INSERT ... SELECT over a generated
 * sequence, in one transaction (SQLite: a recursive CTE; PostgreSQL: generate_series, then VACUUM ANALYZE as
 * autovacuum would). That is the fastest load either database offers and needs no client round trips; row s
 * (id s) gets the values of `jobAt(s)`, so the harness knows how many rows each query matches.
 */
import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { KIE_SERVER_PATH } from '../../src/http/server.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { dropSchema } from '../systems/postgres-admin.js';
import { SQLITE_DIR } from '../systems/kjobs.js';
import { POSTGRES_URL } from '../systems/system.js';
import { summarize } from '../stats.js';
import { startServer } from './server-process.js';

export const LISTS_SCHEMA = 'bench_lists';
const PAGE_SIZE = 10;
const DEEP_OFFSET = 50_000;

/** The values of row s, as the SQL below computes them. */
function jobAt(s: number) {
  const r = s % 20;
  return {
    status: r < 16 ? 'DONE' : r < 18 ? 'QUEUED' : r === 18 ? 'ERROR' : 'CANCELLED',
    command: `cmd-${s % 7}`,
    businessKey: s % 100 === 0 ? 'order-hot' : `order-${s}`,
    containerId: `container-${s % 23}`,
    processInstanceId: s % 1003,
  };
}

const columns = `status, command, business_key, container_id, process_instance_id, owner, message, priority,
  retries, executions, scheduled_at, request_data, created_at, started_at, finished_at`;
const values = (cast: (sql: string) => string, t0: number) => `
  CASE WHEN s % 20 < 16 THEN 'DONE' WHEN s % 20 < 18 THEN 'QUEUED' WHEN s % 20 = 18 THEN 'ERROR' ELSE 'CANCELLED' END,
  'cmd-' || ${cast('s % 7')},
  CASE WHEN s % 100 = 0 THEN 'order-hot' ELSE 'order-' || ${cast('s')} END,
  'container-' || ${cast('s % 23')},
  s % 1003, NULL, 'Ready to execute', 5, 3,
  CASE WHEN s % 20 < 16 OR s % 20 >= 18 THEN 1 ELSE 0 END,
  ${t0} + s * 10, '{"i":' || ${cast('s')} || '}', ${t0} + s * 10,
  CASE WHEN s % 20 < 16 OR s % 20 >= 18 THEN ${t0} + s * 10 + 1 END,
  CASE WHEN s % 20 < 16 OR s % 20 >= 18 THEN ${t0} + s * 10 + 5 END`;

export async function loadSqlite(total: number): Promise<{ store: string; ms: number }> {
  rmSync(SQLITE_DIR, { recursive: true, force: true });
  mkdirSync(SQLITE_DIR, { recursive: true });
  const path = join(SQLITE_DIR, 'lists.db');
  const store = new SqliteJobStore({ path });
  await store.migrate();
  const started = performance.now();
  store.db.exec(`BEGIN; WITH RECURSIVE seq(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM seq WHERE s < ${total})
    INSERT INTO jobs (${columns}) SELECT ${values((x) => `(${x})`, Date.now() - total * 10)} FROM seq; COMMIT;`);
  store.db.exec('ANALYZE');
  const ms = performance.now() - started;
  await store.close();
  return { store: path, ms: Math.round(ms) };
}

export async function loadPostgres(total: number): Promise<{ store: string; ms: number }> {
  await dropSchema(LISTS_SCHEMA);
  const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema: LISTS_SCHEMA });
  await store.migrate();
  await store.close();
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const started = performance.now();
  await client.query(`INSERT INTO "${LISTS_SCHEMA}".jobs (${columns})
    SELECT ${values((x) => `(${x})::text`, Date.now() - total * 10).replace("'{\"i\":' || (s)::text || '}'", "json_build_object('i', s)")}
    FROM generate_series(1, ${total}) AS s`);
  await client.query(`VACUUM ANALYZE "${LISTS_SCHEMA}".jobs`);
  const ms = performance.now() - started;
  await client.end();
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', LISTS_SCHEMA);
  return { store: url.toString(), ms: Math.round(ms) };
}

interface ListCase {
  name: string;
  path: string;
  matches: (job: ReturnType<typeof jobAt>) => boolean;
}

const CASES: ListCase[] = [
  { name: 'status QUEUED', path: '/jobs?status=QUEUED', matches: (j) => j.status === 'QUEUED' },
  { name: 'status DONE', path: '/jobs?status=DONE', matches: (j) => j.status === 'DONE' },
  { name: 'key (hot)', path: '/jobs/keys/order-hot', matches: (j) => j.businessKey === 'order-hot' },
  { name: 'command', path: '/jobs/commands/cmd-3', matches: (j) => j.command === 'cmd-3' },
  {
    name: 'container QUEUED',
    path: '/jobs/containers/container-7',
    matches: (j) => j.containerId === 'container-7' && j.status === 'QUEUED',
  },
  {
    name: 'container DONE',
    path: '/jobs/containers/container-7?status=DONE',
    matches: (j) => j.containerId === 'container-7' && j.status === 'DONE',
  },
  {
    name: 'process instance DONE',
    path: '/jobs/processes/instances/7?status=DONE',
    matches: (j) => j.processInstanceId === 7 && j.status === 'DONE',
  },
];

export interface ListResult {
  query: string;
  page: number;
  rows: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs every case at page 0 and at a deep page (offset 50,000, or half the matching rows if fewer). */
export async function listQueries(store: string, total: number, repeats: number) {
  const counts = CASES.map(() => 0);
  for (let s = 1; s <= total; s++) {
    const job = jobAt(s);
    CASES.forEach((c, k) => c.matches(job) && counts[k]!++);
  }
  const server = await startServer('kjobs', store);
  const results: ListResult[] = [];
  try {
    for (const [k, c] of CASES.entries()) {
      const rows = counts[k]!;
      const deep = Math.floor(Math.min(DEEP_OFFSET, rows / 2) / PAGE_SIZE);
      for (const page of [0, deep]) {
        const sep = c.path.includes('?') ? '&' : '?';
        const url = `${server.url}${KIE_SERVER_PATH}${c.path}${sep}page=${page}&pageSize=${PAGE_SIZE}`;
        const samples: number[] = [];
        for (let r = 0; r < repeats + 5; r++) {
          const t = performance.now();
          const response = await fetch(url, { headers: { accept: 'application/json' } });
          const body = (await response.json()) as { 'request-info-instance'?: unknown[] };
          const ms = performance.now() - t;
          if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
          if (
            r === 0 &&
            (body['request-info-instance']?.length ?? 0) !== Math.min(PAGE_SIZE, rows - page * PAGE_SIZE)
          ) {
            throw new Error(`${url}: expected a full page, got ${JSON.stringify(body).slice(0, 200)}`);
          }
          if (r >= 5) samples.push(ms); // the first requests warm the statement cache and the pages
        }
        const stats = summarize(samples);
        results.push({ query: c.name, page, rows, p50: stats.p50, p99: stats.p99, max: stats.max });
      }
    }
    return { results, peakRssMiB: server.peakRssMiB() };
  } finally {
    await server.stop();
  }
}
