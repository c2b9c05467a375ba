/**
 * /healthz while a maximal dependency chain fails at its root (issue 27): a server with an executor on SQLite (or
 * PostgreSQL with HEALTHZ_POSTGRES_URL); CHAIN_ROUNDS times (default 5), a batch of 1,001 jobs each waiting for the
 * one before it (depth 1,000, the default limit) whose root fails with no retry, while a probe in a worker thread
 * asks /healthz every 5 ms until the chain's last job is CANCELLED. Prints the probe's p50, p99 and max, and how long
 * each chain took to end. `node --import tsx bench/experiments/healthz-under-chain.ts`
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKjobs } from '../../src/kjobs.js';
import { createServer } from '../../src/http/server.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';

const ROUNDS = Number(process.env.CHAIN_ROUNDS ?? 5);
const LENGTH = 1001;
const pgUrl = process.env.HEALTHZ_POSTGRES_URL;

const folder = mkdtempSync(join(tmpdir(), 'kjobs-healthz-chain-'));
const schema = `healthz_chain_${process.pid}`;
const store = pgUrl ? new PostgresJobStore({ connectionString: pgUrl, schema }) : join(folder, 'jobs.db');
const kjobs = await createKjobs({ store, executor: { pollIntervalMs: 200 } });
await kjobs.start();
const app = await createServer(kjobs);
const origin = await app.listen({ port: 0, host: '127.0.0.1' });

const PROBE_CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const probes = [];
let running = true;
parentPort.on('message', () => (running = false));
(async () => {
  while (running) {
    const start = performance.now();
    await (await fetch(workerData.origin + '/healthz')).text();
    probes.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  parentPort.postMessage(probes);
})();
`;

const ends: number[] = [];
let probes: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const worker = new Worker(PROBE_CODE, { eval: true, execArgv: [], workerData: { origin } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  const ids = await kjobs.scheduleMany([
    { command: 'org.jbpm.executor.commands.JobExecutionErrorCommand', data: { retries: 0 } },
    ...Array.from({ length: LENGTH - 1 }, (_, n) => ({
      command: 'org.jbpm.executor.commands.PrintOutCommand',
      data: { dependsOn: `$${n}` },
    })),
  ]);
  await kjobs.waitFor(ids.at(-1)!, { timeoutMs: 120_000, pollMs: 20 });
  ends.push(performance.now() - started);
  worker.postMessage('stop');
  probes = probes.concat((await once(worker, 'message'))[0] as number[]);
  await worker.terminate();
}
await app.close();
await kjobs.stop(100);
if (pgUrl) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}
rmSync(folder, { recursive: true, force: true });
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;
console.log(
  `${pgUrl ? 'PostgreSQL' : 'SQLite'}, ${ROUNDS} chains of ${LENGTH} jobs failing at the root: ` +
    `/healthz p50 ${pct(probes, 50).toFixed(1)} ms, p99 ${pct(probes, 99).toFixed(1)} ms, ` +
    `max ${Math.max(...probes).toFixed(1)} ms (${probes.length} probes); ` +
    `schedule to last job CANCELLED ${ends.map((ms) => Math.round(ms)).join(', ')} ms`,
);
