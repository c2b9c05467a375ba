/**
 * Chaos on PostgreSQL (issue 19): while 3 worker nodes process many jobs, kjobs' database connections are
 * terminated every 2 s (`pg_terminate_backend`), and PostgreSQL (a server of this test's own, privatePostgres) is
 * restarted once. Every acknowledged job ends as it should (DONE, or, in
 * the dependency chains among them whose root fails, ERROR for the root and CANCELLED below it: releases cut by the
 * terminations go on from their marks, issue 27), no job runs again without a recorded reason (a failed or lost
 * attempt), and the nodes carry on without a restart.
 * KJOBS_CHAOS_JOBS sets the number of jobs (default 20,000).
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
import { freshSchema, POSTGRES_SKIP, privatePostgres } from './postgres-helpers.js';

const WORKER = fileURLToPath(new URL('../fixtures/pg-worker.ts', import.meta.url));
const JOBS = Number(process.env.KJOBS_CHAOS_JOBS ?? 20_000);
const NODES = 3;
/** The application_name of this test's kjobs connections: only these are terminated. */
const APP = `kjobs-chaos-${process.pid}`;

function startNode(url: string, schema: string, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, url, schema, id, APP], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${id} exited (${code}): ${output.join('')}`)));
  });
}

/** Runs `work` until it succeeds (the database may be away a moment). */
async function persist<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

it(
  `chaos: ${NODES} nodes run ${JOBS} jobs while their connections are terminated every 2 s and PostgreSQL ` +
    'restarts once',
  { skip: POSTGRES_SKIP, timeout: 600_000 },
  async (t) => {
    const server = await privatePostgres(t);
    if (!server) return;
    const schema = freshSchema('chaos');
    const store = new PostgresJobStore({
      connectionString: server.url,
      schema,
      poolSize: 3,
      applicationName: APP,
      connectionTimeoutMs: 2000,
    });
    const kjobs = await createKjobs({
      store,
      executor: false,
      commands: { 'test.Record': () => ({}), 'test.Fail': () => ({}) },
    });
    const admin = new pg.Pool({
      connectionString: server.url,
      max: 2,
      types: { getTypeParser: numbersFor },
    });
    admin.on('error', () => undefined);
    const nodes: ChildProcess[] = [];
    let chaos: NodeJS.Timeout | undefined;
    try {
      await admin.query(`CREATE TABLE "${schema}".attempts (id bigserial PRIMARY KEY, job_id bigint NOT NULL,
        attempt integer NOT NULL, worker text NOT NULL, pid integer NOT NULL, started_at bigint NOT NULL,
        ended_at bigint)`);
      nodes.push(
        ...(await Promise.all(
          Array.from({ length: NODES }, (_, i) => startNode(server.url, schema, `node-${i}`)),
        )),
      );

      let terminations = 0;
      let terminated = 0;
      const terminate = async () => {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`,
          [APP],
        );
        terminations++;
        terminated += rows[0]?.n ?? 0;
      };
      chaos = setInterval(() => void terminate().catch(() => undefined), 2000);

      const started = Date.now();
      const acknowledged: number[] = [];
      /** Roots that fail, and the jobs below them, which their failure cancels. */
      const failedRoots: number[] = [];
      const cancelledBelow: number[] = [];
      let restartedAt: number | undefined;
      for (let i = 0; i < JOBS; i += 500) {
        const size = Math.min(500, JOBS - i);
        // Every batch: 20-job chains (each job waiting for the one before it), every third one's root failing.
        const chains = Math.floor(size / 100);
        const requests: { command: string; data?: Record<string, unknown> }[] = Array.from(
          { length: size - chains * 20 },
          () => ({ command: 'test.Record' }),
        );
        const chainRoots: number[] = [];
        for (let c = 0; c < chains; c++) {
          chainRoots.push(requests.length);
          const fails = c % 3 === 0;
          // A failing root has no retry (it ends ERROR at its first run); the others keep KIE's 3, so that an
          // attempt lost to a cut connection under load runs again rather than ending its chain.
          requests.push(fails ? { command: 'test.Fail', data: { retries: 0 } } : { command: 'test.Record' });
          for (let k = 1; k < 20; k++) {
            requests.push({ command: 'test.Record', data: { dependsOn: `$${requests.length - 1}` } });
          }
        }
        const ids = await persist(() => kjobs.scheduleMany(requests));
        acknowledged.push(...ids);
        chainRoots.forEach((root, c) => {
          if (c % 3 !== 0) return;
          failedRoots.push(ids[root]!);
          cancelledBelow.push(...ids.slice(root + 1, root + 20));
        });
        if (restartedAt === undefined && i >= JOBS / 2) {
          restartedAt = Date.now();
          await server.stop();
          await server.start();
        }
      }

      const expectedDone = acknowledged.length - failedRoots.length - cancelledBelow.length;
      const done = await eventually(
        () => persist(() => kjobs.countByStatus()),
        (c) => c.DONE >= expectedDone && c.QUEUED + c.RUNNING + c.RETRYING === 0,
        300_000,
      );
      clearInterval(chaos);
      const finishedIn = Date.now() - started;
      assert.equal(done.ERROR, failedRoots.length, 'only the failing roots ended ERROR');
      assert.equal(done.CANCELLED, cancelledBelow.length, 'only the jobs below them ended CANCELLED');

      // Nothing acknowledged is lost: every acknowledged id is there, as it should have ended.
      const failing = new Set(failedRoots);
      const below = new Set(cancelledBelow);
      const expected = acknowledged.map((id) =>
        failing.has(id) ? 'ERROR' : below.has(id) ? 'CANCELLED' : 'DONE',
      );
      const { rows: missing } = await admin.query<{ id: number }>(
        `SELECT a.id FROM unnest($1::bigint[], $2::text[]) AS a (id, expected) LEFT JOIN "${schema}".jobs j USING (id)
        WHERE j.status IS DISTINCT FROM a.expected`,
        [acknowledged, expected],
      );
      assert.deepEqual(missing, [], 'every acknowledged job is there, ended as it should');

      // A job runs again only for a recorded reason: each run beyond the first has an error record (its
      // attempt failed, or its worker lost the lease).
      const { rows: unexplained } = await admin.query<{ job_id: number; runs: number; errors: number }>(
        `SELECT a.job_id, a.runs, coalesce(e.errors, 0) AS errors
        FROM (SELECT job_id, count(*)::int AS runs FROM "${schema}".attempts GROUP BY job_id) a
        LEFT JOIN (SELECT job_id, count(*)::int AS errors FROM "${schema}".job_errors GROUP BY job_id) e USING (job_id)
        WHERE a.runs > 1 + coalesce(e.errors, 0)`,
      );
      assert.deepEqual(unexplained, [], 'no job ran twice without a failed or lost attempt');
      const { rows: stats } = await admin.query<{ again: number; lost: number }>(
        `SELECT (SELECT count(*)::int FROM (SELECT job_id FROM "${schema}".attempts GROUP BY job_id
            HAVING count(*) > 1) x) AS again,
          (SELECT count(DISTINCT job_id)::int FROM "${schema}".job_errors WHERE message LIKE '%was lost%') AS lost`,
      );

      // The nodes recover by themselves: still the same processes, they run new jobs.
      for (const node of nodes) assert.equal(node.exitCode, null, 'no node exited');
      const after = await persist(() =>
        kjobs.scheduleMany(Array.from({ length: 100 }, () => ({ command: 'test.Record' }))),
      );
      await eventually(
        async () => (await kjobs.countByStatus()).DONE,
        (n) => n >= done.DONE + after.length,
        60_000,
      );
      t.diagnostic(
        `${acknowledged.length} jobs on ${NODES} nodes DONE in ${finishedIn} ms with ${terminations} terminations ` +
          `(${terminated} connections cut)${restartedAt ? ', one PostgreSQL restart' : ''}; ` +
          `${stats[0]!.again} jobs ran more than once, ${stats[0]!.lost} rescued from a worker that lost its lease`,
      );
    } finally {
      clearInterval(chaos);
      await Promise.all(
        nodes.map(async (node) => {
          if (node.exitCode !== null || node.signalCode !== null) return;
          node.kill('SIGTERM');
          const timer = setTimeout(() => node.kill('SIGKILL'), 5000);
          await once(node, 'exit');
          clearTimeout(timer);
        }),
      );
      await admin.end();
      await store.close();
    }
  },
);

/** bigint columns as numbers. */
function numbersFor(oid: number, format?: string) {
  return oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text');
}
