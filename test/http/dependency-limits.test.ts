// Issue 27, finding 1: one request must never take the service down. A batch of a chain past the depth limit is
// refused with a 400 naming the limit and its setting; a maximal chain whose root fails is released in bounded
// steps while the service keeps answering and unrelated jobs keep running, on SQLite and PostgreSQL. (Before the
// fix, the root's outcome recursed through a trigger, failed, and was retried forever: the service stalled.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API, FAILING, FAR_FUTURE, PRINT_OUT } from './helpers.js';

const folder = tempFolder('kjobs-dep-limits-');
let files = 0;
const STORES: [string, () => Promise<JobStore | string>, string | false][] = [
  ['SQLite', async () => join(folder, `limits-${files++}.db`), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

const request = (command: string, data: Record<string, unknown> = {}, date: number | null = null) => ({
  'job-command': command,
  'scheduled-date': date,
  'request-data': data,
});

/** A chain in one batch: the root, then each job waiting for the one before it (`$n`). */
function chainBatch(length: number, root: Record<string, unknown>) {
  return [
    root,
    ...Array.from({ length: length - 1 }, (_, n) => request(PRINT_OUT, { dependsOn: `$${n}`, retries: 0 })),
  ];
}

for (const [storeName, openStore, skip] of STORES) {
  describe(`dependency graphs cannot stall the service (${storeName})`, { skip }, () => {
    let kjobs: Kjobs;
    let app: FastifyInstance;
    let origin: string;
    let store: JobStore | string;

    before(async () => {
      store = await openStore();
      kjobs = await createKjobs({ store, executor: { pollIntervalMs: 200 } });
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

    it('refuses a chain past the depth limit, too many parents, and too many links, scheduling nothing', async () => {
      const before = await kjobs.countByStatus();
      const deep = await call('POST', '/jobs/batch', chainBatch(1100, request(FAILING, { retries: 0 })));
      assert.equal(deep.status, 400, deep.text);
      assert.match(deep.text, /1001 parents deep.*limit of 1000.*--max-dependency-depth/);

      const parents = await kjobs.scheduleMany(
        Array.from({ length: 101 }, () => ({ command: PRINT_OUT, scheduledAt: FAR_FUTURE })),
      );
      const wide = await call('POST', '/jobs', request(PRINT_OUT, { dependsOn: parents }));
      assert.equal(wide.status, 400, wide.text);
      assert.match(wide.text, /101 jobs, more than the limit of 100 parents per job.*--max-parents/);

      const many = await call(
        'POST',
        '/jobs/batch',
        Array.from({ length: 101 }, () => request(PRINT_OUT, { dependsOn: parents.slice(0, 100) })),
      );
      assert.equal(many.status, 400, many.text);
      assert.match(many.text, /10100 parents in all.*limit of 10000.*--max-dependency-links/);

      const counts = await kjobs.countByStatus();
      assert.equal(counts.QUEUED, before.QUEUED + 101, 'only the 101 parents were scheduled');
    });

    it('a maximal chain whose root fails: the service answers throughout, other jobs run, the chain ends CANCELLED', async () => {
      const answer = await call('POST', '/jobs/batch', chainBatch(1001, request(FAILING, { retries: 0 })));
      assert.equal(answer.status, 201, answer.text);
      const ids = JSON.parse(answer.text) as number[];
      const last = ids.at(-1)!;
      // Meanwhile: the service answers, and a job scheduled now runs.
      const other = await call('POST', '/jobs', request(PRINT_OUT, { retries: 0 }));
      assert.equal(other.status, 201);
      let probes = 0;
      await eventually(
        async () => {
          const health = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(5000) });
          assert.equal(health.status, 200);
          probes++;
          return (await kjobs.get(last)).status;
        },
        (status) => status === 'CANCELLED',
        60_000,
      );
      assert.ok(probes > 0);
      assert.equal((await kjobs.get(ids[0]!)).status, 'ERROR', 'the root ended ERROR');
      assert.equal((await kjobs.get(Number(other.text))).status, 'DONE', 'the other job ran');
      const waiting = await kjobs.listByStatus({ status: ['QUEUED', 'RUNNING'], pageSize: 2000 });
      assert.deepEqual(
        waiting.filter((job) => job.id >= ids[0]!).map((job) => job.id),
        [],
        'nothing of the chain is left waiting',
      );
      const end = await kjobs.get(last, { withErrors: true });
      assert.equal(end.errors?.[0]?.message, `Parent job ${ids.at(-2)} ended CANCELLED`);
    });
  });
}
