/**
 * Three worker processes on one PostgreSQL schema run 5,000 jobs; one is killed with SIGKILL while it runs jobs.
 * Every job must end DONE, no job may run two attempts at once, and only jobs the killed worker held may run twice.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import pg from 'pg';
import { createKjobs } from '../../src/kjobs.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { eventually } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

const WORKER = fileURLToPath(new URL('../fixtures/pg-worker.ts', import.meta.url));
const JOBS = 5000;
const NODES = 3;

interface Node {
  id: string;
  child: ChildProcess;
  output: string[];
}

function startNode(schema: string, id: string): Promise<Node> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, POSTGRES_URL, schema, id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node: Node = { id, child, output: [] };
  child.stderr!.on('data', (chunk: Buffer) => node.output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) resolve(node);
    });
    child.once('exit', (code) =>
      reject(new Error(`${id} exited (${code}) before starting: ${node.output.join('')}`)),
    );
  });
}

interface AttemptRow {
  job_id: number;
  attempt: number;
  worker: string;
  started_at: number;
  ended_at: number | null;
}

it(
  `${NODES} worker nodes run ${JOBS} jobs; one is killed with SIGKILL; every job ends DONE`,
  { skip: POSTGRES_SKIP, timeout: 90_000 },
  async () => {
    const schema = freshSchema('nodes');
    const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 });
    const kjobs = await createKjobs({ store, executor: false, commands: { 'test.Record': () => ({}) } });
    const admin = new pg.Client({ connectionString: POSTGRES_URL, types: { getTypeParser: numbersFor } });
    await admin.connect();
    const nodes: Node[] = [];
    try {
      await admin.query(`CREATE TABLE "${schema}".attempts (id bigserial PRIMARY KEY, job_id bigint NOT NULL,
      attempt integer NOT NULL, worker text NOT NULL, pid integer NOT NULL, started_at bigint NOT NULL, ended_at bigint)`);
      nodes.push(
        ...(await Promise.all(Array.from({ length: NODES }, (_, i) => startNode(schema, `node-${i}`)))),
      );

      const started = Date.now();
      for (let i = 0; i < JOBS; i += 1000) {
        await kjobs.scheduleMany(Array.from({ length: 1000 }, () => ({ command: 'test.Record' })));
      }
      const scheduledIn = Date.now() - started;

      // Kill node-0 once it has done a share of the work and holds jobs.
      const victim = nodes[0]!;
      await eventually(
        async () =>
          (
            await admin.query<{ done: number; held: number }>(
              `SELECT (SELECT count(*) FROM "${schema}".attempts WHERE worker = $1 AND ended_at IS NOT NULL) AS done,
                    (SELECT count(*) FROM "${schema}".jobs WHERE status = 'RUNNING' AND worker_id = $1) AS held`,
              [victim.id],
            )
          ).rows[0]!,
        (row) => row.done >= 300 && row.held > 0,
        30_000,
      );
      victim.child.kill('SIGKILL');
      await once(victim.child, 'exit');
      const killedAt = Date.now();
      const held = new Set(
        (
          await admin.query<{ id: number }>(
            `SELECT id FROM "${schema}".jobs WHERE status = 'RUNNING' AND worker_id = $1`,
            [victim.id],
          )
        ).rows.map((row) => row.id),
      );
      assert.ok(held.size > 0, 'the killed worker held jobs when it died');

      const counts = await eventually(
        () => kjobs.countByStatus(),
        (c) => c.DONE === JOBS,
        60_000,
      );
      const finishedIn = Date.now() - started;
      assert.deepEqual(counts, { QUEUED: 0, RUNNING: 0, DONE: JOBS, ERROR: 0, RETRYING: 0, CANCELLED: 0 });

      const attempts = (
        await admin.query<AttemptRow>(
          `SELECT job_id, attempt, worker, started_at, ended_at FROM "${schema}".attempts ORDER BY job_id, started_at, id`,
        )
      ).rows;
      const byJob = new Map<number, AttemptRow[]>();
      for (const row of attempts) byJob.set(row.job_id, [...(byJob.get(row.job_id) ?? []), row]);
      assert.equal(byJob.size, JOBS, 'every job ran');

      const ranTwice: number[] = [];
      for (const [jobId, runs] of byJob) {
        for (const run of runs) {
          if (run.ended_at === null)
            assert.equal(run.worker, victim.id, `only the killed worker left runs unfinished`);
        }
        for (let i = 1; i < runs.length; i++) {
          const previousEnd = runs[i - 1]!.ended_at ?? killedAt;
          assert.ok(
            runs[i]!.started_at >= previousEnd,
            `job ${jobId}: attempt ${runs[i]!.attempt} started at ${runs[i]!.started_at}, before the previous ended (${previousEnd})`,
          );
        }
        const finished = runs.filter((run) => run.ended_at !== null);
        assert.ok(finished.length >= 1, `job ${jobId} has a finished run`);
        if (runs.length > 1) ranTwice.push(jobId);
      }
      const rescued = (
        await admin.query<{ n: number }>(
          `SELECT count(DISTINCT job_id) AS n FROM "${schema}".job_errors WHERE message LIKE '%was lost%'`,
        )
      ).rows[0]!.n;
      const perNode = (
        await admin.query<{ worker: string; n: number }>(
          `SELECT worker, count(*) AS n FROM "${schema}".attempts GROUP BY worker ORDER BY worker`,
        )
      ).rows;
      console.log(
        `${JOBS} jobs on ${NODES} nodes: scheduled in ${scheduledIn} ms, all DONE after ${finishedIn} ms ` +
          `(${Math.round((JOBS / finishedIn) * 1000)} jobs/s, including the lease wait); ` +
          `runs per node ${perNode.map((row) => `${row.worker}=${row.n}`).join(' ')}; ` +
          `killed node held ${held.size} jobs, ${rescued} rescued as "worker lost", ${ranTwice.length} ran more than once`,
      );
      for (const jobId of ranTwice)
        assert.ok(held.has(jobId), `job ${jobId} ran twice but the killed worker did not hold it`);
      assert.ok(ranTwice.length <= held.size);
    } finally {
      await Promise.all(
        nodes.map(async (node) => {
          if (node.child.exitCode !== null || node.child.signalCode !== null) return;
          node.child.kill('SIGTERM');
          const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
          await once(node.child, 'exit');
          clearTimeout(timer);
        }),
      );
      await admin.end();
      await store.close();
      await dropSchema(schema);
    }
  },
);

/** bigint columns as numbers. */
function numbersFor(oid: number, format?: string) {
  return oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text');
}
