// Dependencies over HTTP with a running executor, on SQLite and on PostgreSQL: a fan-out/fan-in batch in one call,
// parents' response data in ctx.parents, cancellation down the chain, refusals naming the id, the links route.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { CommandContext } from '../../src/commands/command.js';
import type { JobStore } from '../../src/store/job-store.js';
import { tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API, FAILING } from './helpers.js';

const folder = tempFolder('kjobs-deps-');
let files = 0;
const STORES: [string, () => Promise<JobStore | string>, string | false][] = [
  ['SQLite', async () => join(folder, `deps-${files++}.db`), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

const request = (command: string, data: Record<string, unknown> = {}) => ({
  'job-command': command,
  'scheduled-date': null,
  'request-data': data,
});

for (const [storeName, openStore, skip] of STORES) {
  describe(`dependencies over HTTP (${storeName})`, { skip }, () => {
    let kjobs: Kjobs;
    let app: FastifyInstance;
    let origin: string;
    let store: JobStore | string;
    const gates = new Map<string, () => void>();
    const gate = (name: string) => new Promise<void>((resolve) => gates.set(name, resolve));
    const open = (name: string) => {
      const release = gates.get(name);
      assert.ok(release, `gate ${name} is waited on`);
      release();
    };

    before(async () => {
      store = await openStore();
      kjobs = await createKjobs({
        store,
        commands: {
          'deps.Part': async ({ data }: CommandContext) => {
            if (typeof data.gate === 'string') await gate(data.gate);
            return { part: data.n };
          },
          'deps.Join': ({ parents }: CommandContext) => ({
            parents: parents.map((p) => p.id),
            statuses: parents.map((p) => p.status),
            sum: parents.reduce((total, p) => total + Number(p.responseData?.part ?? 0), 0),
          }),
        },
        // A long poll: children must start because their parent's end wakes the executor, not by polling.
        executor: { pollIntervalMs: 120_000 },
      });
      await kjobs.start();
      app = await createServer(kjobs);
      origin = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await app.close();
      await kjobs.stop(100);
      if (typeof store === 'object') await store.close();
    });

    async function call(method: string, path: string, body?: unknown) {
      const response = await fetch(origin + API + path, {
        method,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, text: await response.text() };
    }

    it('schedules a fan-out/fan-in in one batch; the join runs once both parts are DONE and reads them', async () => {
      const answer = await call('POST', '/jobs/batch', [
        request('deps.Part', { n: 0, gate: `${storeName}-root` }),
        request('deps.Part', { n: 2, dependsOn: ['$0'] }),
        request('deps.Part', { n: 3, dependsOn: '$0' }),
        request('deps.Join', { dependsOn: ['$1', '$2'] }),
      ]);
      assert.equal(answer.status, 201, answer.text);
      const [root, left, right, join] = JSON.parse(answer.text) as number[];
      // While the root runs, the join is QUEUED for KIE clients, and waits for two parents.
      const waiting = await call('GET', `/jobs/${join}`);
      assert.equal(JSON.parse(waiting.text)['request-status'], 'QUEUED');
      assert.doesNotMatch(waiting.text, /waiting/i, "KIE's answer is unchanged");
      const links = JSON.parse((await call('GET', `/jobs/${join}/dependencies`)).text);
      assert.deepEqual(links, {
        id: join,
        waitingFor: 2,
        parents: [
          { id: left, status: 'QUEUED', command: 'deps.Part', waiting: true },
          { id: right, status: 'QUEUED', command: 'deps.Part', waiting: true },
        ],
        children: [],
      });
      await waitForGate(`${storeName}-root`);
      open(`${storeName}-root`);
      const done = await kjobs.waitFor(join!, { timeoutMs: 30_000 });
      assert.equal(done.status, 'DONE');
      assert.deepEqual(done.responseData, { parents: [left, right], statuses: ['DONE', 'DONE'], sum: 5 });
      const rootLinks = JSON.parse((await call('GET', `/jobs/${root}/dependencies`)).text);
      assert.deepEqual(
        rootLinks.children.map((c: { id: number }) => c.id),
        [left, right],
      );
    });

    it('a failed parent cancels its child with an error naming it; onParentFailure "run" runs anyway', async () => {
      const answer = await call('POST', '/jobs/batch', [
        request(FAILING, { retries: 0 }),
        request('deps.Join', { dependsOn: ['$0'] }),
        request('deps.Join', { dependsOn: ['$0'], onParentFailure: 'run' }),
      ]);
      assert.equal(answer.status, 201, answer.text);
      const [parent, cancelled, runner] = JSON.parse(answer.text) as number[];
      const child = await kjobs.waitFor(cancelled!, { timeoutMs: 30_000 });
      assert.equal(child.status, 'CANCELLED');
      assert.equal(child.errors?.[0]?.message, `Parent job ${parent} ended ERROR`);
      const ran = await kjobs.waitFor(runner!, { timeoutMs: 30_000 });
      assert.equal(ran.status, 'DONE');
      assert.deepEqual(ran.responseData?.statuses, ['ERROR']);
    });

    it('refuses unknown ids, and references to itself or later requests, with a 400 naming them', async () => {
      const unknown = await call('POST', '/jobs', request('deps.Join', { dependsOn: [99999999] }));
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /99999999/);
      const forward = await call('POST', '/jobs/batch', [
        request('deps.Join', { dependsOn: ['$1'] }),
        request('deps.Join'),
      ]);
      assert.equal(forward.status, 400);
      assert.match(forward.text, /Job request 0: .*"\$1"/);
      const self = await call('POST', '/jobs/batch', [request('deps.Join', { dependsOn: '$0' })]);
      assert.equal(self.status, 400);
      const single = await call('POST', '/jobs', request('deps.Join', { dependsOn: '$0' }));
      assert.equal(single.status, 400);
      const bad = await call('POST', '/jobs', request('deps.Join', { dependsOn: 'abc' }));
      assert.equal(bad.status, 400);
      assert.match(bad.text, /dependsOn/);
      const policy = await call('POST', '/jobs', request('deps.Join', { onParentFailure: 'maybe' }));
      assert.equal(policy.status, 400);
      assert.equal((await call('GET', '/jobs/99999999/dependencies')).status, 404);
      // Dependencies are fixed at scheduling: update-data refuses them.
      const queued = JSON.parse(
        (
          await call('POST', '/jobs', {
            ...request('deps.Join'),
            'scheduled-date': { 'java.util.Date': 4102444800000 },
          })
        ).text,
      ) as number;
      const update = await call('POST', `/jobs/${queued}/data`, { dependsOn: [queued] });
      assert.equal(update.status, 400);
      assert.match(update.text, /fixed when a job is scheduled/);
    });

    async function waitForGate(name: string): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (!gates.has(name)) {
        if (Date.now() > deadline) assert.fail(`gate ${name} never waited on`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });
}
