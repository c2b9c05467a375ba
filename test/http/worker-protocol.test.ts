/**
 * The worker protocol (docs/workers.md, issue 30) over real HTTP, on SQLite and PostgreSQL: remote containers
 * accept their commands' jobs (the container inferred from the patterns) and this node's executor leaves them
 * alone; a worker claims with a long poll, holds its jobs under a lease (fenced: a lost lease cannot complete, fail or
 * report progress), learns of a cancel from its heartbeat, fails with or without retry, gives jobs back; a dead
 * worker's jobs are rescued; the worker role may use the protocol alone, for its granted containers; bad input gets
 * a clear 4xx and changes nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API, PRINT_OUT } from './helpers.js';

const ADMIN = { name: 'admin', password: 'admin-pw', roles: ['kie-server'] };
const JAVA = { name: 'java', password: 'java-pw', roles: ['worker'] };
const OTHER = { name: 'other', password: 'other-pw', roles: ['worker'] };
const HEARTBEAT_MS = 400;

const folder = tempFolder('kjobs-worker-protocol-');
let files = 0;
const STORES: [string, () => Promise<JobStore | string>, string | false][] = [
  ['SQLite', async () => join(folder, `protocol-${files++}.db`), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

interface RemoteJob {
  id: number;
  command: string;
  containerId: string;
  attempt: number;
  retries: number;
  requestData: Record<string, unknown>;
  lease: string;
  leaseExpiresAt: string;
  scheduledAt: string;
}

for (const [storeName, openStore, skip] of STORES) {
  describe(`worker protocol over HTTP (${storeName})`, { skip }, () => {
    let kjobs: Kjobs;
    let app: FastifyInstance;
    let origin: string;
    let store: JobStore | string;

    before(async () => {
      store = await openStore();
      kjobs = await createKjobs({
        store,
        remoteContainers: { billing: ['com.acme.billing.*'], reports: ['com.acme.reports.*'] },
        // An executor on this node, which must leave the remote containers' jobs alone.
        executor: { pollIntervalMs: 50, heartbeatMs: HEARTBEAT_MS },
      });
      await kjobs.start();
      app = await createServer(kjobs, {
        users: [ADMIN, JAVA, OTHER],
        workerGrants: { java: ['billing'] },
      });
      origin = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await app.close();
      await kjobs.stop(100);
      if (typeof store === 'object') await store.close();
    });

    async function call(
      method: string,
      path: string,
      body?: unknown,
      user: { name: string; password: string } = JAVA,
    ): Promise<{ status: number; json: () => unknown; text: string }> {
      const response = await fetch(`${origin}${API}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, text, json: () => JSON.parse(text) as unknown };
    }

    async function claim(body: Record<string, unknown> = {}, user = JAVA): Promise<RemoteJob[]> {
      const answer = await call('POST', '/kjobs/workers/claim', { worker: 'w1', max: 10, ...body }, user);
      assert.equal(answer.status, 200, answer.text);
      const parsed = answer.json() as { heartbeatMs: number; jobs: RemoteJob[] };
      assert.equal(parsed.heartbeatMs, HEARTBEAT_MS);
      return parsed.jobs;
    }

    const schedule = (command: string, data: Record<string, unknown> = {}) =>
      kjobs.schedule({ command, data });

    it('accepts remote commands (the container from its patterns), lists the containers, runs none here', async () => {
      const id = await schedule('com.acme.billing.SendInvoice', { invoice: 7 });
      const job = await kjobs.get(id, { withData: true });
      assert.equal(job.containerId, 'billing');
      assert.equal(job.requestData?.deploymentId, 'billing');
      await assert.rejects(schedule('com.acme.unknown.X'), /Invalid command type com\.acme\.unknown\.X/);
      const containers = await call('GET', '/containers', undefined, ADMIN);
      assert.match(containers.text, /"container-id" ?: ?"billing"/);
      assert.match(containers.text, /"status" ?: ?"STARTED"/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await kjobs.get(id)).status, 'QUEUED', "this node's executor leaves it alone");
      const [claimed] = await claim();
      assert.equal(claimed?.id, id);
      assert.equal(claimed?.command, 'com.acme.billing.SendInvoice');
      assert.equal(claimed?.attempt, 1);
      assert.deepEqual(claimed?.requestData, { invoice: 7, deploymentId: 'billing' });
      assert.ok(Date.parse(claimed!.leaseExpiresAt) > Date.now());
      const done = await call('POST', `/kjobs/workers/jobs/${id}/complete`, {
        lease: claimed!.lease,
        responseData: { sent: true },
      });
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.json(), { status: 'DONE' });
      const ended = await kjobs.get(id, { withData: true });
      assert.equal(ended.status, 'DONE');
      assert.deepEqual(ended.responseData, { sent: true });
    });

    it('a long poll answers as soon as a job is due', async () => {
      const waiting = claim({ waitMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const id = await schedule('com.acme.billing.Late');
      const jobs = await waiting;
      assert.deepEqual(
        jobs.map((job) => job.id),
        [id],
      );
      assert.equal(
        (await call('POST', `/kjobs/workers/jobs/${id}/release`, { lease: jobs[0]!.lease })).status,
        204,
      );
      const released = await kjobs.get(id);
      assert.equal(released.status, 'QUEUED');
      assert.equal(released.executions, 0, 'a released run is not counted');
      assert.equal((await claim())[0]?.id, id);
      await kjobs.cancel(id, { evenRunning: true });
    });

    it("fails by KIE's retry rule, or at once with retry false; a lost lease can write nothing", async () => {
      const retried = await schedule('com.acme.billing.Flaky', { retries: 1 });
      let [job] = await claim();
      let answer = await call('POST', `/kjobs/workers/jobs/${retried}/fail`, {
        lease: job!.lease,
        message: 'java.io.IOException: mail server down',
        stacktrace:
          'java.io.IOException: mail server down\n\tat com.acme.billing.Flaky.execute(Flaky.java:7)',
      });
      assert.deepEqual(answer.json(), { status: 'RETRYING' });
      [job] = await claim();
      assert.equal(job?.attempt, 2);
      answer = await call('POST', `/kjobs/workers/jobs/${retried}/fail`, {
        lease: job!.lease,
        message: 'again',
      });
      assert.deepEqual(answer.json(), { status: 'ERROR' });
      const failed = await kjobs.get(retried, { withErrors: true });
      assert.deepEqual(
        failed.errors?.map((error) => error.message),
        ['java.io.IOException: mail server down', 'again'],
      );
      assert.match(failed.errors?.[0]?.stacktrace ?? '', /at com\.acme\.billing\.Flaky\.execute/);

      const refused = await schedule('com.acme.billing.Refused', { retries: 5 });
      [job] = await claim();
      answer = await call('POST', `/kjobs/workers/jobs/${refused}/fail`, {
        lease: job!.lease,
        message: 'card expired',
        retry: false,
      });
      assert.deepEqual(answer.json(), { status: 'ERROR' });
      assert.equal((await kjobs.get(refused)).retries, 5);

      // Fenced: the lease of an ended job, or a made-up one, writes nothing.
      for (const [path, body] of [
        ['complete', { lease: job!.lease, responseData: {} }],
        ['fail', { lease: job!.lease, message: 'late' }],
        ['progress', { lease: job!.lease, value: 50 }],
        ['release', { lease: job!.lease }],
      ] as const) {
        const late = await call('POST', `/kjobs/workers/jobs/${refused}/${path}`, body);
        assert.equal(late.status, 409, `${path}: ${late.text}`);
        assert.match(late.text, /not held under this lease/);
      }
      assert.equal((await kjobs.get(refused, { withErrors: true })).errors?.length, 1);
    });

    it('heartbeats renew leases; a cancel reaches the worker in its next heartbeat; progress is stored', async () => {
      const [a, b] = await kjobs.scheduleMany([
        { command: 'com.acme.billing.Long' },
        { command: 'com.acme.billing.Long' },
      ]);
      const jobs = await claim();
      assert.deepEqual(
        jobs.map((job) => job.id),
        [a, b],
      );
      const leases = jobs.map((job) => ({ id: job.id, lease: job.lease }));
      const progress = await call('POST', `/kjobs/workers/jobs/${a}/progress`, {
        lease: jobs[0]!.lease,
        value: 40,
        data: { rows: 400 },
      });
      assert.equal(progress.status, 204, progress.text);
      assert.deepEqual((await kjobs.get(a!)).progress?.value, 40);
      await kjobs.cancel(b!, { evenRunning: true });
      const beat = await call('POST', '/kjobs/workers/heartbeat', { jobs: leases });
      const answers = (beat.json() as { jobs: { id: number; held: boolean; cancelled: boolean }[] }).jobs;
      assert.deepEqual(
        answers.map(({ id, held, cancelled }) => ({ id, held, cancelled })),
        [
          { id: a, held: true, cancelled: false },
          { id: b, held: false, cancelled: true },
        ],
      );
      assert.equal(
        (await call('POST', `/kjobs/workers/jobs/${b}/complete`, { lease: jobs[1]!.lease })).status,
        409,
      );
      assert.equal((await kjobs.get(b!)).status, 'CANCELLED');
      await call('POST', `/kjobs/workers/jobs/${a}/complete`, { lease: jobs[0]!.lease });
    });

    it('a worker that stops heartbeating loses its jobs: they are rescued, the attempt counted', async () => {
      const id = await schedule('com.acme.billing.Abandoned', { retries: 2 });
      const [job] = await claim();
      assert.equal(job?.id, id);
      const rescued = await eventually(
        () => kjobs.get(id, { withErrors: true }),
        (current) => current.status === 'RETRYING',
        15_000,
      );
      assert.match(rescued.errors?.[0]?.message ?? '', /was lost while running job/);
      const late = await call('POST', `/kjobs/workers/jobs/${id}/complete`, { lease: job!.lease });
      assert.equal(late.status, 409, 'the lost worker cannot complete it');
      const [again] = await claim();
      assert.equal(again?.id, id);
      assert.equal(again?.attempt, 2);
      await call('POST', `/kjobs/workers/jobs/${id}/complete`, { lease: again!.lease });
    });

    it('a worker that leaves gets back what is held under its session (a claim answer it never read), and only that', async () => {
      const [mine, other] = await kjobs.scheduleMany([
        { command: 'com.acme.billing.Unread', data: {} },
        { command: 'com.acme.billing.Kept', data: {} },
      ]);
      const [unread] = await claim({ session: 'session-one-1234', max: 1 });
      const [kept] = await claim({ session: 'session-two-5678', max: 1 });
      assert.deepEqual([unread?.id, kept?.id], [mine, other]);
      assert.match(unread!.lease, /^remote\/w1\/session-one-1234\./);
      const left = await call('POST', '/kjobs/workers/leave', { worker: 'w1', session: 'session-one-1234' });
      assert.equal(left.status, 200, left.text);
      assert.deepEqual(left.json(), { released: 1 });
      const released = await kjobs.get(mine!);
      assert.equal(released.status, 'QUEUED');
      assert.equal(released.executions, 0, 'given back unrun');
      assert.equal((await kjobs.get(other!)).status, 'RUNNING', "another session's job stays held");
      const bad = await call('POST', '/kjobs/workers/leave', { worker: 'w1', session: 'x' });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /"session" must be 8 to 64 letters, digits or "-"/);
      await call('POST', `/kjobs/workers/jobs/${other}/complete`, { lease: kept!.lease });
      await kjobs.cancel(mine!);
    });

    it('the worker role: the protocol only, its granted containers only; an API user serves any', async () => {
      const id = await schedule('com.acme.reports.Monthly');
      assert.equal((await call('GET', '/jobs/1', undefined, JAVA)).status, 403, 'no other route');
      const notGranted = await call('POST', '/kjobs/workers/claim', {
        worker: 'w1',
        containers: ['reports'],
      });
      assert.equal(notGranted.status, 403);
      assert.match(notGranted.text, /may not serve container reports/);
      const none = await call('POST', '/kjobs/workers/claim', { worker: 'w2' }, OTHER);
      assert.equal(none.status, 403);
      assert.match(none.text, /may serve no remote container/);
      assert.deepEqual(await claim(), [], 'its own containers have nothing due');
      const [byAdmin] = await claim({ containers: ['reports'] }, ADMIN);
      assert.equal(byAdmin?.id, id);
      // A job of a container the worker user is not granted: its lease alone does not open it.
      const foreign = await call('POST', `/kjobs/workers/jobs/${id}/complete`, { lease: byAdmin!.lease });
      assert.equal(foreign.status, 403);
      await call('POST', `/kjobs/workers/jobs/${id}/complete`, { lease: byAdmin!.lease }, ADMIN);
      assert.equal((await kjobs.get(id)).status, 'DONE');
    });

    it('refuses bad input with a clear 4xx and changes nothing', async () => {
      const before = await kjobs.countByStatus();
      const cases: [string, unknown, number, RegExp][] = [
        ['/kjobs/workers/claim', {}, 400, /"worker" is required/],
        ['/kjobs/workers/claim', { worker: 'bad name!' }, 400, /"worker" must be/],
        [
          '/kjobs/workers/claim',
          { worker: 'w', max: 1000 },
          400,
          /"max" must be a whole number from 1 to 100/,
        ],
        [
          '/kjobs/workers/claim',
          { worker: 'w', containers: ['nowhere'] },
          404,
          /No remote container nowhere/,
        ],
        ['/kjobs/workers/heartbeat', { jobs: 'all' }, 400, /"jobs" must be a list/],
        ['/kjobs/workers/jobs/987654/complete', { lease: 'x' }, 404, /doesn't exist/],
        ['/kjobs/workers/jobs/1/complete', {}, 400, /"lease" is required/],
        ['/kjobs/workers/jobs/1/fail', { lease: 'x', retry: 'no' }, 400, /"retry" must be true or false/],
      ];
      for (const [path, body, status, message] of cases) {
        const answer = await call('POST', path, body, ADMIN);
        assert.equal(answer.status, status, `${path} ${JSON.stringify(body)}: ${answer.text}`);
        assert.match(answer.text, message);
      }
      const big = await schedule('com.acme.billing.Big');
      const [job] = await claim();
      const tooLarge = await call('POST', `/kjobs/workers/jobs/${big}/complete`, {
        lease: job!.lease,
        responseData: { blob: 'x'.repeat(1024 * 1024 + 10) },
      });
      assert.ok([413].includes(tooLarge.status), tooLarge.text.slice(0, 200));
      assert.equal((await kjobs.get(big)).status, 'RUNNING', 'still held: the worker can fail it instead');
      await call('POST', `/kjobs/workers/jobs/${big}/fail`, {
        lease: job!.lease,
        message: 'too large',
        retry: false,
      });
      const after = await kjobs.countByStatus();
      assert.equal(after.QUEUED + after.RUNNING, before.QUEUED + before.RUNNING);
      assert.equal((await kjobs.get(1)).command === PRINT_OUT, false);
    });
  });
}
