/**
 * 7. More processes. `kjobs serve --workers N` as users start it (the CLI, executor on, logs at warn), N = 1
 * and 2: POST /jobs (each job also runs) and GET /jobs/{id} with autocannon, rounds interleaved, medians. And
 * `kjobs worker` processes on one PostgreSQL: N = 1, 2, 4 processes draining a backlog of no-op jobs; jobs/s from
 * their start to the last job DONE, and how many jobs ran more than once (must be 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createKjobs } from '../../src/kjobs.js';
import { KIE_SERVER_PATH } from '../../src/http/server.js';
import { openStore } from '../../src/store/open-store.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONTAINER = 'bench=./bench/fixtures/noop-container.mjs';
const ONE_JOB = JSON.stringify({ 'job-command': 'noop', 'request-data': { i: 1 } });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function kjobsProcess(args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', ...args, '--log-level', 'warn', '--container', CONTAINER],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** `kjobs serve --workers N`; resolves once it answers, and its workers had time to start. */
async function startService(database: string, workers: number) {
  const port = await freePort();
  const child = kjobsProcess([
    'serve',
    '--port',
    String(port),
    '--db',
    database,
    '--workers',
    String(workers),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kjobs serve exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('kjobs serve did not start in 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000 * workers)); // the other workers come up
  return { url, child };
}

export interface WorkersHttpResult {
  store: 'sqlite' | 'postgres';
  workers: number;
  postRunRequestsPerSecond: number;
  getRequestsPerSecond: number;
  postRunRounds: number[];
  getRounds: number[];
  postP99: number;
  getP99: number;
}

async function load(url: string, durationS: number, connections: number, body?: string) {
  const result = await autocannon({
    url,
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    connections,
    duration: durationS,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: Math.round(result.requests.average), p99: result.latency.p99 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * POST (executor on) and GET over `--workers 1` and `--workers N`, one store each, rounds interleaved: each
 * round starts every target afresh so that a noisy neighbour hurts all alike.
 */
export async function workersHttp(options: {
  databases: { store: 'sqlite' | 'postgres'; url: (workers: number, round: number) => string }[];
  counts: number[];
  durationS: number;
  connections: number;
  rounds: number;
}): Promise<WorkersHttpResult[]> {
  const runs = new Map<
    string,
    { post: { rps: number; p99: number }[]; get: { rps: number; p99: number }[] }
  >();
  for (let round = 0; round < options.rounds; round++) {
    for (const database of options.databases) {
      for (const workers of options.counts) {
        const key = `${database.store}:${workers}`;
        const service = await startService(database.url(workers, round), workers);
        try {
          const jobs = `${service.url}${KIE_SERVER_PATH}/jobs`;
          const schedule = `${jobs}?containerId=bench`;
          await load(schedule, 1, options.connections, ONE_JOB); // warm-up
          const post = await load(schedule, options.durationS, options.connections, ONE_JOB);
          const get = await load(`${jobs}/1`, options.durationS, options.connections);
          const entry = runs.get(key) ?? { post: [], get: [] };
          entry.post.push(post);
          entry.get.push(get);
          runs.set(key, entry);
        } finally {
          await stopProcess(service.child);
        }
      }
    }
  }
  return [...runs].map(([key, entry]) => {
    const [store, workers] = key.split(':') as ['sqlite' | 'postgres', string];
    return {
      store,
      workers: Number(workers),
      postRunRequestsPerSecond: median(entry.post.map((run) => run.rps)),
      getRequestsPerSecond: median(entry.get.map((run) => run.rps)),
      postRunRounds: entry.post.map((run) => run.rps),
      getRounds: entry.get.map((run) => run.rps),
      postP99: median(entry.post.map((run) => run.p99)),
      getP99: median(entry.get.map((run) => run.p99)),
    };
  });
}

export interface WorkerNodesResult {
  processes: number;
  jobs: number;
  jobsPerSecond: number;
  /** Jobs with more than one execution: none may run twice when no node dies. */
  duplicates: number;
}

/** `kjobs worker` × N on one PostgreSQL schema, draining `jobs` no-op jobs scheduled beforehand. */
export async function workerNodes(
  postgresUrl: string,
  counts: number[],
  jobs: number,
): Promise<WorkerNodesResult[]> {
  const results: WorkerNodesResult[] = [];
  for (const processes of counts) {
    const schema = `bench_nodes_${processes}`;
    const url = new URL(postgresUrl);
    url.searchParams.set('schema', schema);
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      const store = openStore(url.toString());
      const kjobs = await createKjobs({
        store,
        executor: false,
        statsIntervalMs: 0,
        containers: { bench: { noop: () => undefined } },
      });
      // Due together once every process is up (starting one takes a second or two), so that start-up is not timed.
      const dueAt = Date.now() + 8_000;
      for (let done = 0; done < jobs; done += 1000) {
        const count = Math.min(1000, jobs - done);
        await kjobs.scheduleMany(
          Array.from({ length: count }, () => ({
            command: 'noop',
            containerId: 'bench',
            scheduledAt: dueAt,
          })),
        );
      }
      await kjobs.stop();
      await store.close();
      const workers = Array.from({ length: processes }, () =>
        kjobsProcess(['worker', '--db', url.toString()]),
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now())));
        const started = performance.now();
        for (;;) {
          const { rows } = await admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${schema}".jobs WHERE status <> 'DONE'`,
          );
          if (Number(rows[0]!.n) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const seconds = (performance.now() - started) / 1000;
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}".jobs WHERE executions > 1`,
        );
        results.push({
          processes,
          jobs,
          jobsPerSecond: Math.round(jobs / seconds),
          duplicates: Number(rows[0]!.n),
        });
      } finally {
        await Promise.all(workers.map(stopProcess));
      }
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  }
  return results;
}
