/**
 * Flow control across nodes (issue 17), on SQLite (three instances on one file) and PostgreSQL (three on one
 * schema): rate limits hold in every window and held-back jobs start when the window opens; key limits keep a
 * small key from waiting behind a large one; a paused command starts nothing on any node until resumed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';
import { eventually, tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';

interface Database {
  name: string;
  skip: string | false;
  /** A store location shared by the nodes of one test. */
  location: () => Promise<string | { url: string; schema: string }>;
}

const DATABASES: Database[] = [
  { name: 'SQLite', skip: false, location: async () => join(tempFolder(), 'flow.db') },
  {
    name: 'PostgreSQL',
    skip: POSTGRES_SKIP,
    location: async () => {
      const schema = freshSchema('flow');
      after(() => dropSchema(schema));
      return { url: POSTGRES_URL, schema };
    },
  },
];

/** `count` started nodes on one store. */
async function nodes(
  where: Awaited<ReturnType<Database['location']>>,
  count: number,
  options: KjobsOptions,
): Promise<Kjobs[]> {
  const started: Kjobs[] = [];
  for (let i = 0; i < count; i++) {
    let store: KjobsOptions['store'];
    if (typeof where === 'string') store = where;
    else {
      const { PostgresJobStore } = await import('../../src/store/postgres/postgres-store.js');
      store = new PostgresJobStore({ connectionString: where.url, schema: where.schema, poolSize: 4 });
    }
    const kjobs = await createKjobs({ ...options, store });
    await kjobs.start();
    after(async () => {
      await kjobs.stop(1000);
      await kjobs.store.close();
    });
    started.push(kjobs);
  }
  return started;
}

/** The most starts in any window of `periodMs` (starts sorted). */
function busiestWindow(starts: number[], periodMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= periodMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

for (const database of DATABASES) {
  describe(`flow control across nodes: ${database.name}`, { skip: database.skip }, () => {
    it('rate limit 20/1s on 3 nodes: 200 jobs all DONE, never more than 20 starts in any 1 s window', async () => {
      const where = await database.location();
      const [first, ...others] = await nodes(where, 3, {
        commands: { ping: () => undefined },
        executor: {
          concurrency: 10,
          limits: { rates: { commands: { ping: { starts: 20, periodMs: 1000 } } } },
        },
      });
      void others;
      const began = Date.now();
      const ids = await first!.scheduleMany(Array.from({ length: 200 }, () => ({ command: 'ping' })));
      const counts = await eventually(
        () => first!.countByStatus(),
        (counts) => counts.DONE === 200,
        60_000,
      );
      const took = Date.now() - began;
      assert.equal(counts.DONE, 200);
      const starts: number[] = [];
      for (const id of ids) starts.push((await first!.get(id)).startedAt!);
      starts.sort((a, b) => a - b);
      const most = busiestWindow(starts, 1000);
      assert.ok(most <= 20, `${most} starts in one 1 s window`);
      assert.ok(most >= 15, `the windows were used (${most} at most)`);
      console.log(`# ${database.name}: 200 jobs at 20/1s on 3 nodes took ${took} ms; busiest window ${most}`);
    });

    it('key limit 2: the 10 jobs of key B all start before half of the 5,000 of key A are done', async () => {
      const where = await database.location();
      let doneA = 0;
      let startedB = 0;
      let doneAWhenBStarted = -1;
      const [api] = await nodes(where, 1, { commands: { sync: () => undefined }, executor: false });
      await api!.scheduleMany(
        Array.from({ length: 5000 }, () => ({ command: 'sync', data: { concurrencyKey: 'A' } })),
      );
      await api!.scheduleMany(
        Array.from({ length: 10 }, () => ({ command: 'sync', data: { concurrencyKey: 'B' } })),
      );
      await nodes(where, 1, {
        commands: {
          sync: async ({ data }) => {
            if (data.concurrencyKey === 'B' && ++startedB === 10) doneAWhenBStarted = doneA;
            await new Promise((resolve) => setTimeout(resolve, 2));
            if (data.concurrencyKey === 'A') doneA++;
          },
        },
        executor: { concurrency: 10, limits: { keys: { all: 2 } } },
      });
      await eventually(
        () => doneAWhenBStarted,
        (n) => n >= 0,
        60_000,
      );
      assert.ok(
        doneAWhenBStarted < 2500,
        `${doneAWhenBStarted} jobs of A were done when the last of B started`,
      );
      console.log(`# ${database.name}: ${doneAWhenBStarted} of 5,000 A done when the 10th B started`);
    });

    it('unique "debounce": each request moves the waiting job\'s start to now + debounce, keeping its id; "replace" keeps the start', async () => {
      const where = await database.location();
      const [kjobs] = await nodes(where, 1, { commands: { reindex: () => undefined } });
      const request = (n: number) => ({
        command: 'reindex',
        data: { businessKey: 'doc-1', unique: 'debounce', debounce: '5s', n },
      });
      const before = Date.now();
      const first = await kjobs!.schedule(request(1));
      const firstAt = (await kjobs!.get(first)).scheduledAt;
      assert.ok(firstAt >= before + 5000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await kjobs!.schedule(request(2));
      assert.equal(second, first, 'the job keeps its id');
      const job = await kjobs!.get(first, { withData: true });
      assert.ok(job.scheduledAt > firstAt, 'the start moved');
      assert.equal(job.requestData?.n, 2);
      assert.equal(job.status, 'QUEUED');
      const replaced = await kjobs!.schedule({
        command: 'reindex',
        data: { businessKey: 'doc-1', unique: 'replace', n: 3 },
      });
      assert.equal(replaced, first);
      assert.equal((await kjobs!.get(first)).scheduledAt, job.scheduledAt, 'replace keeps the start');
      await assert.rejects(
        kjobs!.schedule({ command: 'reindex', data: { businessKey: 'doc-2', unique: 'debounce' } }),
        /needs debounce/,
      );
      await assert.rejects(
        kjobs!.schedule({ command: 'reindex', data: { businessKey: 'doc-2', debounce: '5s' } }),
        /debounce needs unique "debounce"/,
      );
    });

    it('a paused command starts on no node until resumed; scheduling goes on; the pause outlives a restart', async () => {
      const where = await database.location();
      const options: KjobsOptions = { commands: { mail: () => undefined, other: () => undefined } };
      const [a, b] = await nodes(where, 2, options);
      await a!.pause({ kind: 'command', name: 'mail' });
      const mail = await b!.schedule({ command: 'mail' });
      const other = await b!.schedule({ command: 'other' });
      assert.equal((await a!.waitFor(other)).status, 'DONE', 'other commands run');
      await a!.stop(1000);
      await b!.stop(1000);
      const [c] = await nodes(where, 1, options);
      assert.deepEqual(
        (await c!.listPaused()).map((target) => target.name),
        ['mail'],
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await c!.get(mail)).status, 'QUEUED', 'the paused job did not start');
      assert.equal(await c!.resume({ kind: 'command', name: 'mail' }), true);
      assert.equal((await c!.waitFor(mail)).status, 'DONE');
    });
  });
}
