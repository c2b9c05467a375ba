/**
 * /healthz while large pages are listed (issue 19): a server on SQLite (or PostgreSQL with HEALTHZ_POSTGRES_URL)
 * with HEALTHZ_JOBS jobs (default 20,000); HEALTHZ_CLIENTS clients (default 4) ask for pages of 10,000 (the
 * largest page), JSON and XML in turn, for HEALTHZ_SECONDS (default 20) while a probe asks /healthz every 20 ms.
 * Prints the probe's p50, p99 and max, and the lists' time. `node --import tsx bench/experiments/healthz-under-lists.ts`
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKjobs } from '../../src/kjobs.js';
import { createServer } from '../../src/http/server.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';

const JOBS = Number(process.env.HEALTHZ_JOBS ?? 20_000);
const CLIENTS = Number(process.env.HEALTHZ_CLIENTS ?? 4);
const SECONDS = Number(process.env.HEALTHZ_SECONDS ?? 20);
const pgUrl = process.env.HEALTHZ_POSTGRES_URL;

const folder = mkdtempSync(join(tmpdir(), 'kjobs-healthz-'));
const store = pgUrl
  ? new PostgresJobStore({ connectionString: pgUrl, schema: `healthz_${process.pid}` })
  : join(folder, 'jobs.db');
const kjobs = await createKjobs({ store, executor: false });
await kjobs.start();
for (let i = 0; i < JOBS; i += 1000) {
  await kjobs.scheduleMany(
    Array.from({ length: 1000 }, (_, n) => ({
      command: 'org.jbpm.executor.commands.PrintOutCommand',
      scheduledAt: Date.now() + 86_400_000,
      data: { businessKey: `key-${i + n}`, customer: 'Ada Lovelace', amount: i + n, note: 'x'.repeat(40) },
    })),
  );
}
const app = await createServer(kjobs);
const origin = await app.listen({ port: 0, host: '127.0.0.1' });
const API = `${origin}/kie-server/services/rest/server/jobs?status=QUEUED&page=0&pageSize=10000`;

// The clients and the probe run in a worker thread: their own work (reading 10,000-job answers) stays off the
// server's event loop, whose stalls are what the probe measures.
const CLIENT_CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const { origin, api, clients, seconds } = workerData;
const probes = [];
const lists = [];
const end = Date.now() + seconds * 1000;
const probe = async () => {
  while (Date.now() < end) {
    const start = performance.now();
    await (await fetch(origin + '/healthz')).text();
    probes.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const client = async (n) => {
  for (let i = n; Date.now() < end; i++) {
    const start = performance.now();
    const accept = i % 2 ? 'application/xml' : 'application/json';
    await (await fetch(api, { headers: { accept } })).arrayBuffer();
    lists.push(performance.now() - start);
  }
};
Promise.all([probe(), ...Array.from({ length: clients }, (_, n) => client(n))]).then(() =>
  parentPort.postMessage({ probes, lists }),
);
`;
const worker = new Worker(CLIENT_CODE, {
  eval: true,
  execArgv: [],
  workerData: { origin, api: API, clients: CLIENTS, seconds: SECONDS },
});
const { probes, lists } = (await once(worker, 'message'))[0] as { probes: number[]; lists: number[] };
await worker.terminate();
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
console.log(
  `${pgUrl ? 'PostgreSQL' : 'SQLite'}, ${JOBS} jobs, ${CLIENTS} clients listing pages of 10,000 for ${SECONDS} s: ` +
    `/healthz p50 ${pct(probes, 50).toFixed(1)} ms, p99 ${pct(probes, 99).toFixed(1)} ms, ` +
    `max ${Math.max(...probes).toFixed(1)} ms (${probes.length} probes); ` +
    `lists p50 ${pct(lists, 50).toFixed(0)} ms (${lists.length} lists)`,
);
await app.close();
if (typeof store !== 'string') {
  await store.pool.query(`DROP SCHEMA "${store.schema}" CASCADE`);
}
await kjobs.stop(100);
rmSync(folder, { recursive: true, force: true });
