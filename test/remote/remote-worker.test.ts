/**
 * The TypeScript remote worker (issue 30: `createRemoteWorker`, the engine of `kjobs worker --url`) against a real
 * kjobs server over HTTP, on SQLite and PostgreSQL: it runs its containers' jobs (results, parents, progress),
 * fails them by KIE's retry rule or without retry, stops a running job cancelled on the server, honours the server's
 * limits and pauses, claims only the commands it has, gives its jobs back on stop, and refuses to start against a
 * server that does not have its containers for its user.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { CommandContext } from '../../src/commands/command.js';
import { UnrecoverableError } from '../../src/executor/executor.js';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import {
  createRemoteWorker,
  RemoteWorker,
  type RemoteWorkerOptions,
} from '../../src/remote/remote-worker.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';

const WORKER_USER = { name: 'billing-worker', password: 'worker-pw', roles: ['worker'] };
const HEARTBEAT_MS = 400;

const folder = tempFolder('kjobs-remote-worker-');
let files = 0;
const STORES: [string, () => Promise<JobStore | string>, string | false][] = [
  ['SQLite', async () => join(folder, `remote-${files++}.db`), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

/** Commands of the worker's container, with probes the tests look at. */
function billingCommands(seen: { running: number; most: number; signals: Map<number, unknown> }) {
  return {
    'com.acme.billing.Echo': async ({ data, attempt, parents, progress }: CommandContext) => {
      progress(50, { step: 'half' });
      return { echo: data.text ?? null, attempt, parents: parents.map((parent) => parent.responseData) };
    },
    'com.acme.billing.Fail': () => {
      throw new Error('mail server down');
    },
    'com.acme.billing.Refuse': () => {
      throw new UnrecoverableError('bad invoice number');
    },
    'com.acme.billing.Slow': async ({ data, signal, jobId }: CommandContext) => {
      seen.running++;
      seen.most = Math.max(seen.most, seen.running);
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, Number(data.ms ?? 300));
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            seen.signals.set(jobId, signal.reason);
            reject(signal.reason as Error);
          });
        });
      } finally {
        seen.running--;
      }
      return { slept: true };
    },
  };
}

for (const [storeName, openStore, skip] of STORES) {
  describe(`the TypeScript remote worker (${storeName})`, { skip }, () => {
    let kjobs: Kjobs;
    let app: FastifyInstance;
    let url: string;
    let store: JobStore | string;
    let worker: RemoteWorker;
    const seen = { running: 0, most: 0, signals: new Map<number, unknown>() };

    const workerOptions = (extra: Partial<RemoteWorkerOptions> = {}): RemoteWorkerOptions => ({
      url,
      user: WORKER_USER.name,
      password: WORKER_USER.password,
      containers: { billing: { commands: billingCommands(seen) } },
      executor: { concurrency: 4 },
      claimWaitMs: 2000,
      ...extra,
    });

    before(async () => {
      store = await openStore();
      kjobs = await createKjobs({
        store,
        remoteContainers: { billing: ['com.acme.billing.*'], reports: ['com.acme.reports.*'] },
        limits: { commands: { 'com.acme.billing.Slow': 1 } },
        heartbeatMs: HEARTBEAT_MS,
        executor: { pollIntervalMs: 50, heartbeatMs: HEARTBEAT_MS },
      });
      await kjobs.start();
      app = await createServer(kjobs, {
        users: [{ name: 'admin', password: 'admin-pw', roles: ['kie-server'] }, WORKER_USER],
        workerGrants: { [WORKER_USER.name]: ['billing'] },
      });
      url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/kie-server/services/rest`;
      worker = await createRemoteWorker(workerOptions({ name: 'ts-worker-1' }));
    });
    after(async () => {
      await worker?.stop(100);
      await app?.close();
      await kjobs?.stop(100);
      if (typeof store === 'object') await store.close();
    });

    it("runs its container's jobs: results, parents' results, progress", async () => {
      assert.equal(worker.executor?.workerId !== undefined, true);
      const parent = await kjobs.schedule({ command: 'com.acme.billing.Echo', data: { text: 'first' } });
      const child = await kjobs.schedule({
        command: 'com.acme.billing.Echo',
        data: { text: 'second', dependsOn: [parent] },
      });
      const done = await kjobs.waitFor(child, { timeoutMs: 10_000 });
      assert.equal(done.status, 'DONE');
      const job = await kjobs.get(child, { withData: true });
      assert.equal(job.containerId, 'billing');
      assert.deepEqual(job.responseData, {
        echo: 'second',
        attempt: 1,
        parents: [{ echo: 'first', attempt: 1, parents: [] }],
      });
      assert.equal(job.progress?.value, 50);
      assert.deepEqual(job.progress?.data, { step: 'half' });
    });

    it("fails by KIE's retry rule (RETRYING, then ERROR with every attempt's error), or at once without retry", async () => {
      const failing = await kjobs.schedule({ command: 'com.acme.billing.Fail', data: { retries: 1 } });
      const refused = await kjobs.schedule({ command: 'com.acme.billing.Refuse', data: { retries: 5 } });
      assert.equal((await kjobs.waitFor(failing, { timeoutMs: 10_000 })).status, 'ERROR');
      assert.equal((await kjobs.waitFor(refused, { timeoutMs: 10_000 })).status, 'ERROR');
      const failed = await kjobs.get(failing, { withErrors: true });
      assert.equal(failed.executions, 2);
      assert.deepEqual(
        failed.errors?.map((error) => error.message),
        ['mail server down', 'mail server down'],
      );
      assert.match(failed.errors?.[0]?.stacktrace ?? '', /at .*remote-worker\.test\.ts/);
      const once = await kjobs.get(refused, { withErrors: true });
      assert.equal(once.executions, 1, 'an UnrecoverableError is not retried');
      assert.equal(once.errors?.[0]?.message, 'bad invoice number');
    });

    it('stops a running job cancelled on the server: its signal fires, CANCELLED stays, no outcome written', async () => {
      const id = await kjobs.schedule({ command: 'com.acme.billing.Slow', data: { ms: 30_000 } });
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'RUNNING',
        10_000,
      );
      assert.match(
        (await kjobs.get(id)).workerId ?? '',
        /^remote\/ts-worker-1\//,
        'a running job names the remote worker that holds it',
      );
      await kjobs.cancel(id, { evenRunning: true });
      const reason = await eventually(
        () => seen.signals.get(id),
        (value) => value !== undefined,
        5 * HEARTBEAT_MS + 2000,
      );
      assert.equal((reason as Error).name, 'JobCancelledError');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const job = await kjobs.get(id, { withData: true });
      assert.equal(job.status, 'CANCELLED');
      assert.equal(job.responseData ?? null, null);
    });

    it("keeps the server's limits (one Slow at once across workers) and pauses", async () => {
      seen.most = 0;
      const second = await createRemoteWorker(workerOptions({ name: 'ts-worker-2' }));
      try {
        const ids = await kjobs.scheduleMany(
          [1, 2, 3, 4].map(() => ({ command: 'com.acme.billing.Slow', data: { ms: 150 } })),
        );
        for (const id of ids) assert.equal((await kjobs.waitFor(id, { timeoutMs: 15_000 })).status, 'DONE');
        assert.equal(seen.most, 1, 'at most one Slow ran at once, with two workers of four slots each');

        await kjobs.pause({ kind: 'command', name: 'com.acme.billing.Echo' });
        const held = await kjobs.schedule({ command: 'com.acme.billing.Echo', data: { text: 'paused' } });
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal((await kjobs.get(held)).status, 'QUEUED', 'a paused command is not claimed');
        await kjobs.resume({ kind: 'command', name: 'com.acme.billing.Echo' });
        assert.equal((await kjobs.waitFor(held, { timeoutMs: 10_000 })).status, 'DONE');
      } finally {
        await second.stop(100);
      }
    });

    it('claims only the commands it has: a command of its container it lacks stays QUEUED', async () => {
      const other = await kjobs.schedule({ command: 'com.acme.billing.NotHere', data: {} });
      const echo = await kjobs.schedule({ command: 'com.acme.billing.Echo', data: { text: 'here' } });
      assert.equal((await kjobs.waitFor(echo, { timeoutMs: 10_000 })).status, 'DONE');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await kjobs.get(other)).status, 'QUEUED');
      await kjobs.cancel(other);
    });

    it('gives its running jobs back on stop: QUEUED again, the run not counted', async () => {
      const stopping = await createRemoteWorker(
        workerOptions({
          name: 'ts-worker-stopping',
          containers: { billing: { commands: { 'com.acme.billing.Hang': hang } } },
        }),
      );
      const id = await kjobs.schedule({ command: 'com.acme.billing.Hang', data: {} });
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'RUNNING',
        10_000,
      );
      await stopping.stop(50);
      const job = await kjobs.get(id);
      assert.equal(job.status, 'QUEUED');
      assert.equal(job.executions, 0);
      await kjobs.cancel(id);
    });

    it('refuses to start where the server has not its containers for its user, or refuses the user', async () => {
      await assert.rejects(
        createRemoteWorker(
          workerOptions({ containers: { reports: { commands: { 'com.acme.reports.X': hang } } } }),
        ),
        /container reports is not a remote container this user may serve.*--worker-grant USER=reports/,
      );
      await assert.rejects(
        createRemoteWorker(workerOptions({ containers: { local: { commands: { x: hang } } } })),
        /container local is not a remote container.*--remote-container local=PATTERN/,
      );
      await assert.rejects(
        createRemoteWorker(workerOptions({ password: 'wrong' })),
        /answered 401: check the user \(--user, KJOBS_USER\) and its password \(KJOBS_PASSWORD\)/,
      );
      await assert.rejects(
        createRemoteWorker(workerOptions({ url: url.replace('/kie-server/services/rest', '/elsewhere') })),
        /answered 404: no worker protocol there/,
      );
    });
  });
}

/** A command that runs until its signal fires. */
async function hang({ signal }: CommandContext): Promise<void> {
  await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
}
