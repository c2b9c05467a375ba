/**
 * `npm run bench`: kjobs and the queues people would pick instead, measured in one run on the same services.
 *
 *   BENCH_QUICK=1            small sizes (a couple of minutes)
 *   BENCH_SCENARIOS=a,b      any of: bulk, process, latency, http, lists (default: all), and scaling (opt-in:
 *                            kjobs serve --workers 1 and 2 over HTTP, and 1, 2, 4 worker processes on PostgreSQL)
 *   BENCH_SYSTEMS=a,b        any of: kjobs-pg, kjobs-sqlite, kjobs-pg-refill (an experiment), graphile, pg-boss,
 *                            bullmq (default: all)
 *   BENCH_JOBS, BENCH_LIST_JOBS, BENCH_HTTP_SECONDS, BENCH_HTTP_ROUNDS   override sizes
 *   BENCH_POSTGRES_URL, BENCH_REDIS_URL               services (default 127.0.0.1)
 *
 * Prints a table with every figure and kjobs' ratio to each peer; writes JSON to bench/results/.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bullmqSystem } from './systems/bullmq.js';
import { graphileWorkerSystem } from './systems/graphile-worker.js';
import { kjobsSystem } from './systems/kjobs.js';
import { pgBossSystem } from './systems/pg-boss.js';
import type { BenchSystem } from './systems/system.js';
import { bulkScheduling, latency, processing } from './scenarios/queue.js';
import { httpComparison, kjobsPost } from './scenarios/http.js';
import { LISTS_SCHEMA, listQueries, loadPostgres, loadSqlite } from './scenarios/lists.js';
import { comparePlans } from './scenarios/list-plans.js';
import { workerNodes, workersHttp } from './scenarios/scaling.js';
import { dropSchema } from './systems/postgres-admin.js';
import { SQLITE_DIR } from './systems/kjobs.js';
import { POSTGRES_URL } from './systems/system.js';
import { join } from 'node:path';

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()) : undefined);
const scenarios = new Set(list(env.BENCH_SCENARIOS) ?? ['bulk', 'process', 'latency', 'http', 'lists']);
const systemNames = new Set(
  list(env.BENCH_SYSTEMS) ?? ['kjobs-pg', 'kjobs-sqlite', 'kjobs-pg-refill', 'graphile', 'pg-boss', 'bullmq'],
);
const size = {
  jobs: Number(env.BENCH_JOBS ?? (quick ? 2_000 : 20_000)),
  batch: 1_000,
  concurrency: 10,
  latencyJobs: quick ? 50 : 200,
  latencyGapMs: 10,
  httpSeconds: Number(env.BENCH_HTTP_SECONDS ?? (quick ? 2 : 10)),
  httpRounds: Number(env.BENCH_HTTP_ROUNDS ?? (quick ? 1 : 3)),
  httpConnections: 10,
  listJobs: Number(env.BENCH_LIST_JOBS ?? (quick ? 100_000 : 1_000_000)),
  listRepeats: quick ? 30 : 200,
};

const factories: Record<string, () => BenchSystem> = {
  'kjobs-pg': () => kjobsSystem('postgres'),
  'kjobs-sqlite': () => kjobsSystem('sqlite'),
  'kjobs-pg-refill': () => kjobsSystem('postgres', 'refill'),
  graphile: graphileWorkerSystem,
  'pg-boss': pgBossSystem,
  bullmq: bullmqSystem,
};

const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const root = fileURLToPath(new URL('../', import.meta.url));
/** A package's version: kjobs', or a dependency's from the benchmarks' own install (bench/) or the project's. */
const versionOf = (name: string) => {
  const files =
    name === 'kjobs'
      ? ['package.json']
      : [`bench/node_modules/${name}/package.json`, `node_modules/${name}/package.json`];
  for (const file of files) {
    try {
      return (JSON.parse(readFileSync(join(root, file), 'utf8')) as { version: string }).version;
    } catch {
      // not installed there
    }
  }
  return '?';
};

const results: Record<string, unknown> = {};
const queue: Record<string, Record<string, Record<string, number | boolean>>> = {};
const runStarted = performance.now();

for (const name of Object.keys(factories).filter((n) => systemNames.has(n))) {
  const system = factories[name]!();
  queue[name] = {};
  try {
    if (scenarios.has('bulk')) {
      log(`${name}: bulk scheduling ${size.jobs}`);
      queue[name].bulk = await bulkScheduling(system, size.jobs, size.batch);
    }
    if (scenarios.has('process')) {
      log(`${name}: processing ${size.jobs} at concurrency ${size.concurrency}`);
      queue[name].process = await processing(system, size.jobs, size.concurrency, quick ? 30_000 : 120_000);
    }
    if (scenarios.has('latency')) {
      log(`${name}: latency, ${size.latencyJobs} jobs`);
      queue[name].latency = await latency(system, size.latencyJobs, size.latencyGapMs, size.concurrency);
    }
    queue[name].settings = system.settings as never;
  } catch (error) {
    log(`${name} failed: ${(error as Error).stack}`);
    queue[name].error = String(error) as never;
  } finally {
    await system.reset().catch(() => undefined);
    await system.close().catch(() => undefined);
  }
}
results.queue = queue;

/** The schemas of the HTTP comparison's PostgreSQL servers. */
async function dropHttpSchemas() {
  for (const name of ['insert', 'api', 'executor']) await dropSchema(`bench_http_${name}`);
}

if (scenarios.has('http')) {
  log(`http: interleaved comparison, ${size.httpRounds} rounds of ${size.httpSeconds} s per target`);
  if (systemNames.has('kjobs-pg')) await dropHttpSchemas();
  mkdirSync(SQLITE_DIR, { recursive: true });
  const comparison = await httpComparison({
    durationS: size.httpSeconds,
    connections: size.httpConnections,
    rounds: size.httpRounds,
    ...(systemNames.has('kjobs-sqlite') ? { sqliteDir: SQLITE_DIR } : {}),
    ...(systemNames.has('kjobs-pg') ? { postgresUrl: POSTGRES_URL } : {}),
  });
  if (systemNames.has('kjobs-pg')) await dropHttpSchemas();
  const http: Record<string, unknown> = { comparison };
  if (systemNames.has('kjobs-pg')) {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', 'bench_http');
    await dropSchema('bench_http');
    log('http: kjobs POST /jobs/batch on PostgreSQL');
    http['kjobs-pg-batch'] = await kjobsPost(
      url.toString(),
      size.httpSeconds,
      size.httpConnections,
      undefined,
      100,
    );
    await dropSchema('bench_http');
  }
  if (systemNames.has('kjobs-sqlite')) {
    log('http: kjobs POST /jobs/batch on SQLite');
    http['kjobs-sqlite-batch'] = await kjobsPost(
      join(SQLITE_DIR, `http-batch-${Date.now()}.db`),
      size.httpSeconds,
      size.httpConnections,
      undefined,
      100,
    );
  }
  results.http = http;
}

if (scenarios.has('lists')) {
  const lists: Record<string, unknown> = {};
  for (const backend of ['sqlite', 'postgres'] as const) {
    if (!systemNames.has(backend === 'sqlite' ? 'kjobs-sqlite' : 'kjobs-pg')) continue;
    log(`lists: loading ${size.listJobs} jobs into ${backend}`);
    const loaded = backend === 'sqlite' ? await loadSqlite(size.listJobs) : await loadPostgres(size.listJobs);
    log(`lists: loaded in ${loaded.ms} ms; querying`);
    const queried = await listQueries(loaded.store, size.listJobs, size.listRepeats);
    lists[backend] = {
      jobs: size.listJobs,
      loadMs: loaded.ms,
      loadJobsPerSecond: Math.round((size.listJobs * 1000) / loaded.ms),
      ...queried,
    };
    if (backend === 'postgres') {
      log('lists: PostgreSQL deep pages, current statement vs proposed shape');
      results.listPlans = await comparePlans(LISTS_SCHEMA, size.listJobs, size.listRepeats);
    }
  }
  if (systemNames.has('kjobs-pg')) await dropSchema(LISTS_SCHEMA);
  results.lists = lists;
}

if (scenarios.has('scaling')) {
  const scaling: Record<string, unknown> = {};
  const databases: Parameters<typeof workersHttp>[0]['databases'] = [];
  mkdirSync(SQLITE_DIR, { recursive: true });
  if (systemNames.has('kjobs-sqlite')) {
    databases.push({
      store: 'sqlite',
      url: (workers, round) => join(SQLITE_DIR, `scaling-${workers}-${round}-${Date.now()}.db`),
    });
  }
  if (systemNames.has('kjobs-pg')) {
    databases.push({
      store: 'postgres',
      url: (workers, round) => {
        const url = new URL(POSTGRES_URL);
        url.searchParams.set('schema', `bench_scaling_${workers}_${round}`);
        return url.toString();
      },
    });
  }
  log(
    `scaling: kjobs serve --workers 1 and 2, ${size.httpRounds} rounds of ${size.httpSeconds} s per target`,
  );
  scaling.http = await workersHttp({
    databases,
    counts: [1, 2],
    durationS: size.httpSeconds,
    connections: size.httpConnections,
    rounds: size.httpRounds,
  });
  if (systemNames.has('kjobs-pg')) {
    for (let round = 0; round < size.httpRounds; round++) {
      for (const workers of [1, 2]) await dropSchema(`bench_scaling_${workers}_${round}`);
    }
    log(`scaling: 1, 2 and 4 kjobs worker processes on one PostgreSQL, ${size.jobs} jobs`);
    scaling.nodes = await workerNodes(POSTGRES_URL, [1, 2, 4], size.jobs);
  }
  results.scaling = scaling;
}

const meta = {
  date: new Date().toISOString(),
  quick,
  size,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadavgAtEnd: loadavg(),
  },
  versions: {
    node: process.version,
    kjobs: versionOf('kjobs'),
    'graphile-worker': versionOf('graphile-worker'),
    'pg-boss': versionOf('pg-boss'),
    bullmq: versionOf('bullmq'),
    fastify: versionOf('fastify'),
    autocannon: versionOf('autocannon'),
    postgres: execSync(`psql "${POSTGRES_URL}" -tAc 'show server_version'`, { encoding: 'utf8' }).trim(),
    redis: execSync('redis-cli info server | grep redis_version || true', { encoding: 'utf8' }).trim(),
  },
  seconds: Math.round((performance.now() - runStarted) / 1000),
};
const all = { meta, ...results };

const { printTables } = await import('./report.js');
console.log(printTables(all));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = join(dir, `${meta.date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
log(`wrote ${file} (${meta.seconds} s)`);
process.exit(0);
