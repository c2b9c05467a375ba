/**
 * Crash safety of the service: `kjobs serve` runs under load (clients scheduling jobs over HTTP, each with a
 * unique marker as business key), is killed with SIGKILL at random moments three times and started again each
 * time. Every job acknowledged with a 201 must exist exactly once and end in a final state; no marker may be stored
 * twice; nothing may stay RUNNING. On SQLite, and on a PostgreSQL of the test's own (privatePostgres), which it
 * also restarts in the middle, during which the API answers 503 and loses no acknowledged job.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFinal, type Job } from '../../src/core/index.js';
import type { JobStore } from '../../src/store/job-store.js';
import { openStore } from '../../src/store/open-store.js';
import { POSTGRES_SKIP, privatePostgres, type PrivatePostgres } from '../store/postgres-helpers.js';
import { freePort, tempFolder } from '../helpers.js';
import { startService, type Service } from './service.js';

const KILLS = 3;
const CLIENTS = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

interface Load {
  /** Marker → id, for every 201. */
  acknowledged: Map<string, number>;
  /** Markers whose request got no 201 (connection refused or reset, 503): they may or may not be stored. */
  unacknowledged: Set<string>;
  statuses: Map<number, number>;
  stop(): Promise<void>;
}

/** CLIENTS loops, each scheduling one job after the other at `origin` until stopped; never reuses a marker. */
function startLoad(origin: string, auth: string): Load {
  const load: Load = {
    acknowledged: new Map(),
    unacknowledged: new Set(),
    statuses: new Map(),
    stop: async () => undefined,
  };
  let running = true;
  let next = 0;
  const loop = async () => {
    while (running) {
      const marker = `m-${next++}`;
      try {
        const response = await fetch(`${origin}/kie-server/services/rest/server/jobs?containerId=t`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            'job-command': 'com.test.Sleep',
            'request-data': { businessKey: marker, ms: randomBetween(5, 40), retryDelay: '100ms' },
          }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        load.statuses.set(response.status, (load.statuses.get(response.status) ?? 0) + 1);
        if (response.status === 201) load.acknowledged.set(marker, Number(text));
        else load.unacknowledged.add(marker);
      } catch {
        load.unacknowledged.add(marker); // the process died under the request
        await sleep(20);
      }
    }
  };
  const loops = Array.from({ length: CLIENTS }, loop);
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

async function allJobs(store: JobStore): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.list({
      filter: { by: 'status' },
      statuses: [],
      order: 'asc',
      offset,
      limit: 1000,
    });
    jobs.push(...page);
    if (page.length < 1000) return jobs;
  }
}

/** During a PostgreSQL outage: what the API answered to scheduling and to the readiness check. */
async function outage(
  service: Service,
  load: Load,
  server: PrivatePostgres,
): Promise<{ schedule: number[]; ready: number[]; reads: number[] }> {
  const seen = { schedule: [] as number[], ready: [] as number[], reads: [] as number[] };
  await server.stop();
  try {
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      const answer = await service.call(
        'POST',
        '/jobs?containerId=t',
        {
          'job-command': 'com.test.Sleep',
          'request-data': { businessKey: `outage-${seen.schedule.length}` },
        },
        10_000,
      );
      seen.schedule.push(answer.status);
      if (answer.status === 201)
        load.acknowledged.set(`outage-${seen.schedule.length - 1}`, Number(answer.text));
      else load.unacknowledged.add(`outage-${seen.schedule.length - 1}`);
      seen.ready.push((await service.call('GET', '/readyz', undefined, 10_000)).status);
      for (const path of ['/jobs/1', '/jobs?status=QUEUED', '/jobs/keys/m-1']) {
        seen.reads.push((await service.call('GET', path, undefined, 10_000)).status);
      }
      await sleep(100);
    }
  } finally {
    await server.start();
  }
  return seen;
}

/** Runs the scenario and checks it; answers a summary for the test's diagnostics. */
async function crashUnderLoad(
  database: string,
  options: { postgresRestart?: PrivatePostgres } = {},
): Promise<string> {
  const port = await freePort();
  const auth = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
  const args = [
    '--db',
    database,
    '--port',
    String(port),
    '--container',
    't=test/fixtures/container-misbehave.mjs',
    '--lease-ms',
    '600',
    '--concurrency',
    '8',
  ];
  // startService adds --port 0 first; the later --port wins.
  let service = await startService(args);
  const load = startLoad(`http://127.0.0.1:${port}`, auth);
  let outageSeen: Awaited<ReturnType<typeof outage>> | undefined;
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(randomBetween(300, 1200));
      if (options.postgresRestart && kill === 1) {
        outageSeen = await outage(service, load, options.postgresRestart);
        await sleep(randomBetween(300, 800));
      }
      service.child.kill('SIGKILL');
      await service.exited;
      service = await startService(args);
    }
    await sleep(500); // load on the last process too
  } finally {
    await load.stop();
  }

  const store = await openStore(database);
  await store.migrate();
  try {
    // Every job the last process finds ends: poll the store until nothing waits or runs.
    const deadline = Date.now() + 30_000;
    let jobs = await allJobs(store);
    while (jobs.some((job) => !isFinal(job.status)) && Date.now() < deadline) {
      await sleep(200);
      jobs = await allJobs(store);
    }
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);

    assert.ok(load.acknowledged.size >= 50, `only ${load.acknowledged.size} jobs were acknowledged`);
    assert.ok(load.unacknowledged.size >= KILLS, 'the kills never hit a request');
    assert.equal(load.statuses.get(500), undefined, `500s: ${JSON.stringify([...load.statuses])}`);

    const byMarker = new Map<string, Job[]>();
    for (const job of jobs)
      byMarker.set(job.businessKey ?? '', [...(byMarker.get(job.businessKey ?? '') ?? []), job]);
    for (const [marker, rows] of byMarker)
      assert.equal(rows.length, 1, `marker ${marker} is stored ${rows.length} times`);
    for (const [marker, id] of load.acknowledged) {
      const rows = byMarker.get(marker);
      assert.ok(rows, `acknowledged job ${id} (${marker}) was lost`);
      assert.equal(rows[0]!.id, id, `${marker} has another id than acknowledged`);
    }
    for (const marker of byMarker.keys()) {
      assert.ok(load.acknowledged.has(marker) || load.unacknowledged.has(marker), `unknown marker ${marker}`);
    }
    const unfinished = jobs.filter((job) => !isFinal(job.status));
    assert.deepEqual(
      unfinished.map((job) => `${job.id} ${job.status}`),
      [],
      'jobs left unfinished',
    );
    const done = jobs.filter((job) => job.status === 'DONE');
    assert.ok(done.length >= load.acknowledged.size * 0.95, `${done.length} DONE of ${jobs.length}`);

    // Some of the kills hit running jobs: their lost attempt is recorded and they ran again.
    let rescued = 0;
    for (const job of jobs.filter((j) => j.executions > 1)) {
      const full = await store.get(job.id, { withErrors: true });
      if (full?.errors?.some((error) => /was lost while running job/.test(error.message ?? ''))) rescued++;
    }
    assert.ok(rescued >= 1, 'no kill hit a running job');

    if (options.postgresRestart) {
      assert.ok(outageSeen, 'PostgreSQL was not restarted');
      assert.ok(outageSeen.schedule.includes(503), `during the outage: ${outageSeen.schedule.join(' ')}`);
      assert.ok(
        outageSeen.schedule.every((status) => status === 503 || status === 201),
        `during the outage: ${outageSeen.schedule.join(' ')}`,
      );
      assert.ok(outageSeen.ready.includes(503), `readyz during the outage: ${outageSeen.ready.join(' ')}`);
      assert.ok(outageSeen.reads.includes(503), `reads during the outage: ${outageSeen.reads.join(' ')}`);
      assert.ok(
        outageSeen.reads.every((status) => status === 503 || status === 200),
        `reads during the outage: ${outageSeen.reads.join(' ')}`,
      );
    }
    return (
      `${load.acknowledged.size} acknowledged, ${load.unacknowledged.size} not, ${jobs.length} stored, ` +
      `${done.length} DONE, ${rescued} rescued from a killed process` +
      (outageSeen ? `; during the PostgreSQL outage: ${outageSeen.schedule.join(' ')}` : '')
    );
  } finally {
    await store.close();
  }
}

describe('kjobs serve killed with SIGKILL under load', { timeout: 120_000 }, () => {
  it('SQLite: every acknowledged job exists once and ends; nothing is duplicated or left running', async (t) => {
    t.diagnostic(await crashUnderLoad(join(tempFolder(), 'crash.db')));
  });

  it(
    'PostgreSQL: the same, with a PostgreSQL restart in the middle (503 meanwhile)',
    { skip: POSTGRES_SKIP },
    async (t) => {
      const server = await privatePostgres(t);
      if (!server) return;
      t.diagnostic(await crashUnderLoad(`${server.url}?schema=crash`, { postgresRestart: server }));
    },
  );
});
