// Issue 27: no poison write. A write the database refuses for what it holds (here a real trigger that raises for
// one job's rows) never blocks other jobs' outcomes or releases: the outcome is isolated, tried a bounded number of
// times, then the job ends ERROR with the database's error among its errors (what KIE clients see); a release that
// always fails is given up with an error record on the parent. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { POISON_TRIES } from '../../src/executor/outcome-writer.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';

const folder = tempFolder('kjobs-poison-');
let files = 0;

/** A store, and how to install a trigger that raises `poisoned row` when `condition` holds for an updated row. */
interface PoisonableStore {
  store: JobStore | string;
  /**
   * Raises on an update of `column` to `status` of the jobs whose request data has `poison`; of a QUEUED job, only
   * once it waits (not when it is linked).
   */
  poison(
    name: string,
    when: { status: string; poison: number; column?: 'status' | 'waiting_for' },
  ): Promise<void>;
  close(): Promise<void>;
}

const STORES: [string, () => Promise<PoisonableStore>, string | false][] = [
  [
    'SQLite',
    async () => {
      const path = join(folder, `poison-${files++}.db`);
      return {
        store: path,
        async poison(name, { status, poison, column = 'status' }) {
          const db = new Database(path);
          db.exec(`CREATE TRIGGER ${name} BEFORE UPDATE OF ${column} ON jobs
            WHEN NEW.status = '${status}' AND json_extract(NEW.request_data, '$.poison') = ${poison}
              AND (NEW.status <> 'QUEUED' OR OLD.waiting_for > 0)
            BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
          db.close();
        },
        close: async () => undefined,
      };
    },
    false,
  ],
  [
    'PostgreSQL',
    async () => {
      const store = await openTestStore();
      return {
        store,
        async poison(name, { status, poison, column = 'status' }) {
          const client = new pg.Client({ connectionString: POSTGRES_URL });
          await client.connect();
          const s = `"${store.schema}"`;
          await client.query(`CREATE OR REPLACE FUNCTION ${s}.poisoned() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'poisoned row'; END $$`);
          await client.query(`CREATE TRIGGER ${name} BEFORE UPDATE OF ${column} ON ${s}.jobs FOR EACH ROW
            WHEN (NEW.status = '${status}' AND NEW.request_data ->> 'poison' = '${poison}'
              AND (NEW.status <> 'QUEUED' OR OLD.waiting_for > 0))
            EXECUTE FUNCTION ${s}.poisoned()`);
          await client.end();
        },
        close: () => store.close(),
      };
    },
    POSTGRES_SKIP,
  ],
];

/** A logger whose entries the test reads. */
function capturedLogger() {
  const entries: { level: number; msg: string; jobId?: number }[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) entries.push(JSON.parse(line));
        done();
      },
    }),
  );
  return { logger, entries };
}

for (const [storeName, open, skip] of STORES) {
  describe(`poison writes (${storeName})`, { skip }, () => {
    const started: { kjobs: Kjobs; store: PoisonableStore }[] = [];
    after(async () => {
      for (const { kjobs, store } of started) {
        await kjobs.stop(100);
        await store.close();
      }
    });

    async function start(commands: KjobsOptions['commands'] = {}) {
      const store = await open();
      const { logger, entries } = capturedLogger();
      const kjobs = await createKjobs({
        store: store.store,
        commands: { 'poison.Ok': async () => ({ ok: true }), ...commands },
        executor: { pollIntervalMs: 100, heartbeatMs: 400 },
        logger,
      });
      started.push({ kjobs, store });
      return { kjobs, store, entries };
    }

    it('an outcome the database refuses ends its job ERROR with the error; the others are written', async () => {
      const { kjobs, store } = await start();
      await store.poison('poison_done', { status: 'DONE', poison: 1 });
      const ids = await kjobs.scheduleMany(
        [0, 1, 0, 0].map((poison) => ({ command: 'poison.Ok', data: { poison, retries: 2 } })),
      );
      await kjobs.start();
      const poisoned = await kjobs.waitFor(ids[1]!, { timeoutMs: 20_000 });
      assert.equal(poisoned.status, 'ERROR');
      assert.match(
        poisoned.errors?.at(-1)?.message ?? '',
        /^kjobs could not record the outcome of this run \(succeed\): .*poisoned row/,
      );
      for (const id of [ids[0]!, ids[2]!, ids[3]!]) {
        assert.equal((await kjobs.waitFor(id, { timeoutMs: 20_000 })).status, 'DONE', `job ${id}`);
      }
      const later = await kjobs.schedule({ command: 'poison.Ok' });
      assert.equal(
        (await kjobs.waitFor(later, { timeoutMs: 20_000 })).status,
        'DONE',
        'the executor goes on',
      );
    });

    it('an outcome refused even as a failure is given up after bounded tries; the job stays RUNNING', async () => {
      const { kjobs, store, entries } = await start();
      await store.poison('poison_done', { status: 'DONE', poison: 2 });
      await store.poison('poison_error', { status: 'ERROR', poison: 2 });
      const [stuck] = await kjobs.scheduleMany([{ command: 'poison.Ok', data: { poison: 2, retries: 0 } }]);
      await kjobs.start();
      await eventually(
        () => entries.filter((entry) => entry.jobId === stuck && entry.level === 50).length,
        (n) => n === 1,
        20_000,
      );
      const other = await kjobs.schedule({ command: 'poison.Ok' });
      assert.equal((await kjobs.waitFor(other, { timeoutMs: 20_000 })).status, 'DONE');
      // Two heartbeats: its lease ran out, and this worker did not try to rescue it again and again.
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal((await kjobs.get(stuck!)).status, 'RUNNING');
      const failures = entries.filter((entry) => entry.msg === 'executor error').length;
      assert.ok(failures <= 2 * POISON_TRIES, `write failures logged: ${failures}`);
    });

    it('a release that always fails is given up with an error on the parent; other releases go on', async () => {
      const { kjobs, store } = await start();
      // Any update of this child's waiting count fails: its parent's release can never be written.
      await store.poison('poison_release', { status: 'QUEUED', poison: 3, column: 'waiting_for' });
      const [parent, other] = await kjobs.scheduleMany([{ command: 'poison.Ok' }, { command: 'poison.Ok' }]);
      const [stuckChild, fineChild] = await kjobs.scheduleMany([
        { command: 'poison.Ok', data: { dependsOn: [parent], poison: 3 } },
        { command: 'poison.Ok', data: { dependsOn: [other] } },
      ]);
      await kjobs.start();
      assert.equal((await kjobs.waitFor(fineChild!, { timeoutMs: 20_000 })).status, 'DONE');
      const withError = await eventually(
        () => kjobs.get(parent!, { withErrors: true }),
        (job) => (job.errors?.length ?? 0) > 0,
        30_000,
      );
      assert.equal(withError.status, 'DONE');
      assert.match(
        withError.errors![0]!.message ?? '',
        /^kjobs could not release the jobs waiting for this one: .*poisoned row/,
      );
      const child = await kjobs.get(stuckChild!);
      assert.equal(child.status, 'QUEUED');
      assert.equal(child.waitingFor, 1, 'the child still waits, as the error says');
    });
  });
}
