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
    if (options.sqliteDir) {
      const file = (name: string) => `${options.sqliteDir}/${name}-${Date.now()}.db`;
      targets.push({
        label: 'insert SQLite',
        server: await start('insert', file('insert')),
        path: '/jobs',
        body: ONE_JOB,
      });
      const api = await start('kjobs', file('api'));
      targets.push({
        label: 'kjobs POST SQLite',
        server: api,
        path: `${KIE_SERVER_PATH}/jobs`,
        body: ONE_JOB,
      });
      targets.push({ label: 'kjobs GET SQLite', server: api, path: `${KIE_SERVER_PATH}/jobs/1` });
      const running = await start('kjobs', file('executor'), 'executor');
      targets.push({
        label: 'kjobs POST+run SQLite',
        server: running,
        path: `${KIE_SERVER_PATH}/jobs?containerId=bench`,
        body: ONE_JOB,
      });
    }
    if (options.postgresUrl) {
      const schema = (name: string) => {
        const url = new URL(options.postgresUrl!);
        url.searchParams.set('schema', `bench_http_${name}`);
        return url.toString();
      };
      targets.push({
        label: 'insert PostgreSQL',
        server: await start('insert', schema('insert')),
        path: '/jobs',
        body: ONE_JOB,
      });
      const api = await start('kjobs', schema('api'));
      targets.push({
        label: 'kjobs POST PostgreSQL',
        server: api,
        path: `${KIE_SERVER_PATH}/jobs`,
        body: ONE_JOB,
      });
      targets.push({ label: 'kjobs GET PostgreSQL', server: api, path: `${KIE_SERVER_PATH}/jobs/1` });
      const running = await start('kjobs', schema('executor'), 'executor');
      targets.push({
        label: 'kjobs POST+run PostgreSQL',
        server: running,
        path: `${KIE_SERVER_PATH}/jobs?containerId=bench`,
        body: ONE_JOB,
      });
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
