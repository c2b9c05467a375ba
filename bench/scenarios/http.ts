/**
 * 4. The service as KIE clients use it, over HTTP with autocannon: one job per POST /jobs and one GET per job,
 * measured next to two references in the same run (a bare Fastify route, and a minimal honest insert on the same
 * database), rounds interleaved so that a noisy neighbour hurts every target alike; medians reported.
 */
import autocannon from 'autocannon';
import { KIE_SERVER_PATH } from '../../src/http/server.js';
import { startServer, type ServerProcess } from './server-process.js';

export interface HttpResult {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  non2xx: number;
  errors: number;
  peakRssMiB: number;
  /** The server process's CPU during the measured load, % of one core. */
  serverCpuPercent?: number;
}

async function load(
  url: string,
  durationS: number,
  connections: number,
  body?: string,
): Promise<HttpResult & { total: number }> {
  const result = await autocannon({
    url,
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    connections,
    duration: durationS,
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    peakRssMiB: 0,
    total: result.requests.total,
  };
}

/**
 * kjobs: POST /kie-server/services/rest/server/jobs on a fresh store, or with `batch` jobs per request, POST
 * /jobs/batch (kjobs' extension: all or none, one transaction).
 */
export async function kjobsPost(
  store: string,
  durationS: number,
  connections: number,
  option?: 'coalesce',
  batch?: number,
): Promise<HttpResult & { jobsPerRequest: number }> {
  const server = await startServer('kjobs', store, option);
  try {
    const one = { 'job-command': 'noop', 'request-data': { i: 1 } };
    const body = JSON.stringify(batch ? Array.from({ length: batch }, () => one) : one);
    const url = `${server.url}${KIE_SERVER_PATH}/jobs${batch ? '/batch' : ''}`;
    await load(url, 1, connections, body); // warm-up
    const cpu = server.cpuMs();
    const result = await load(url, durationS, connections, body);
    const serverCpuPercent = Math.round((100 * (server.cpuMs() - cpu)) / (durationS * 1000));
    return { ...result, peakRssMiB: server.peakRssMiB(), serverCpuPercent, jobsPerRequest: batch ?? 1 };
  } finally {
    await server.stop();
  }
}

/** One target of the comparison: a server, a URL and a body (GET without). */
interface Target {
  label: string;
  server: ServerProcess;
  path: string;
  body?: string;
}

const ONE_JOB = JSON.stringify({ 'job-command': 'noop', 'request-data': { i: 1 } });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Every target `rounds` times, interleaved (round 1 of each, then round 2 of each...); per target the median
 * round (by requests/s) with its latencies, and the server's CPU and peak memory. `stores` are the databases:
 * a SQLite folder and/or a PostgreSQL URL (each server gets a schema or file of its own).
 */
export async function httpComparison(options: {
  durationS: number;
  connections: number;
  rounds: number;
  sqliteDir?: string;
  postgresUrl?: string;
}): Promise<Record<string, HttpResult & { rounds: number[] }>> {
  const servers: ServerProcess[] = [];
  const start = async (...args: Parameters<typeof startServer>) => {
    const server = await startServer(...args);
    servers.push(server);
    return server;
  };
  const targets: Target[] = [];
  try {
    const bare = await start('bare');
    targets.push({ label: 'bare GET', server: bare, path: '/hello' });
    targets.push({ label: 'bare POST', server: bare, path: '/hello', body: ONE_JOB });
    // Per database: where each server keeps its jobs (a SQLite file, or a PostgreSQL schema of its own).
    const databases: [string, (name: string) => string][] = [];
    if (options.sqliteDir) {
      const dir = options.sqliteDir;
      databases.push(['SQLite', (name) => `${dir}/${name}-${Date.now()}.db`]);
    }
    if (options.postgresUrl) {
      const base = options.postgresUrl;
      databases.push([
        'PostgreSQL',
        (name) => {
          const url = new URL(base);
          url.searchParams.set('schema', `bench_http_${name}`);
          return url.toString();
        },
      ]);
    }
    for (const [database, store] of databases) {
      const insert = await start('insert', store('insert'));
      const api = await start('kjobs', store('api'));
      const running = await start('kjobs', store('executor'), 'executor');
      const jobs = `${KIE_SERVER_PATH}/jobs`;
      targets.push(
        { label: `insert ${database}`, server: insert, path: '/jobs', body: ONE_JOB },
        { label: `kjobs POST ${database}`, server: api, path: jobs, body: ONE_JOB },
        { label: `kjobs GET ${database}`, server: api, path: `${jobs}/1` },
        {
          label: `kjobs POST+run ${database}`,
          server: running,
          path: `${jobs}?containerId=bench`,
          body: ONE_JOB,
        },
      );
    }
    // Warm-up (JIT, caches, prepared statements; GET /jobs/1 needs a job 1).
    for (const target of targets)
      await load(target.server.url + target.path, 1, options.connections, target.body);
    const runs = new Map<string, (HttpResult & { total: number })[]>();
    for (let round = 0; round < options.rounds; round++) {
      for (const target of targets) {
        const cpu = target.server.cpuMs();
        const result = await load(
          target.server.url + target.path,
          options.durationS,
          options.connections,
          target.body,
        );
        const serverCpuPercent = Math.round(
          (100 * (target.server.cpuMs() - cpu)) / (options.durationS * 1000),
        );
        runs.set(target.label, [
          ...(runs.get(target.label) ?? []),
          { ...result, serverCpuPercent, peakRssMiB: target.server.peakRssMiB() },
        ]);
      }
    }
    return Object.fromEntries(
      [...runs].map(([label, results]) => {
        const rates = results.map((r) => r.requestsPerSecond);
        const middle = median(rates);
        const chosen = results.reduce((best, r) =>
          Math.abs(r.requestsPerSecond - middle) < Math.abs(best.requestsPerSecond - middle) ? r : best,
        );
        return [label, { ...chosen, requestsPerSecond: Math.round(middle), rounds: rates }];
      }),
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
