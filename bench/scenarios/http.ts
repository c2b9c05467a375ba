/** 4. Scheduling over HTTP with autocannon: kjobs' POST /jobs next to a bare Fastify route, same run. */
import autocannon from 'autocannon';
import { KIE_SERVER_PATH } from '../../src/http/server.js';
import { startServer } from './server-process.js';

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

/** The bare route: GET and POST hello-world. */
export async function bareRoute(durationS: number, connections: number) {
  const server = await startServer('bare');
  try {
    await load(`${server.url}/hello`, 1, connections); // warm-up
    const cpuPercent = (from: number) => Math.round((100 * (server.cpuMs() - from)) / (durationS * 1000));
    let cpu = server.cpuMs();
    const get = await load(`${server.url}/hello`, durationS, connections);
    const getCpu = cpuPercent(cpu);
    cpu = server.cpuMs();
    const post = await load(`${server.url}/hello`, durationS, connections, '{"job-command":"noop"}');
    return {
      get: { ...get, peakRssMiB: server.peakRssMiB(), serverCpuPercent: getCpu },
      post: { ...post, peakRssMiB: server.peakRssMiB(), serverCpuPercent: cpuPercent(cpu) },
    };
  } finally {
    await server.stop();
  }
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
