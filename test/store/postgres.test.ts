import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { allowedFrom, StoreUnavailableError } from '../../src/core/index.js';
import { readMigrations } from '../../src/store/migrations.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { isConnectionError } from '../../src/store/postgres/unavailable.js';

import { eventually } from '../helpers.js';
import { newJob, runStoreContract } from './contract.js';
import {
  ALWAYS_FROM_POSITIONS,
  dropSchema,
  freshSchema,
  openTestStore,
  POSTGRES_SKIP,
  POSTGRES_URL,
} from './postgres-helpers.js';

// The contract travels in time through the `now` it passes: the store trusts it (clock: 'caller'); the database's
// clock, the default, is tested in postgres-clock.test.ts.
runStoreContract('PostgreSQL', () => openTestStore({ clock: 'caller' }), { skip: POSTGRES_SKIP });
// Every claim from positions looked up just before it (as while a long transaction holds VACUUM back): the same
// contract holds (claim_jobs_from and claim_positions of migration 006 apply every rule claim_jobs does).
runStoreContract(
  'PostgreSQL, claims from positions',
  () => openTestStore({ clock: 'caller', claimPositions: ALWAYS_FROM_POSITIONS }),
  { skip: POSTGRES_SKIP },
);

const LEASE = 60_000;

async function admin<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Several stores (each with its own pool, as on several nodes) on one schema; all closed and dropped after. */
async function withStores<T>(
  count: number,
  work: (stores: PostgresJobStore[], schema: string) => Promise<T>,
  options: { migrate?: boolean; applicationName?: string } = {},
): Promise<T> {
  const schema = freshSchema('multi');
  const stores = Array.from(
    { length: count },
    () =>
      new PostgresJobStore({
        connectionString: POSTGRES_URL,
        schema,
        poolSize: 3,
        applicationName: options.applicationName ?? 'kjobs-test',
      }),
  );
  try {
    if (options.migrate !== false) {
      for (const store of stores) await store.migrate();
    }
    return await work(stores, schema);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await dropSchema(schema);
  }
}

describe(
  'PostgreSQL claims from positions (a long transaction holding VACUUM back)',
  { skip: POSTGRES_SKIP },
  () => {
    const LOOK_MS = 400;
    const claimOne = (store: PostgresJobStore, now = Date.now()) =>
      store
        .claim({ workerId: 'w', limit: 10, now, leaseMs: 60_000 })
        .then((jobs) => jobs.map((job) => job.id));
    const finish = (store: PostgresJobStore, ids: number[]) =>
      store.complete(
        ids.map((jobId) => ({
          kind: 'succeed' as const,
          jobId,
          workerId: 'w',
          now: Date.now(),
          responseData: {},
        })),
      );
    const fail = (store: PostgresJobStore, ids: number[]) =>
      store.complete(
        ids.map((jobId) => ({
          kind: 'fail' as const,
          jobId,
          workerId: 'w',
          now: Date.now(),
          error: { message: 'failed', stacktrace: null },
          retries: 0,
          scheduledAt: Date.now(),
        })),
      );

    it("this store's requeue moves its position back at once; another node's, at the next look", async () => {
      const positioned = {
        clock: 'caller' as const,
        claimPositions: {
          slowClaimMs: 0,
          slowLookMs: 0,
          lookEvery: 0,
          minLookMs: LOOK_MS,
          maxLookMs: LOOK_MS,
        },
      };
      const store = await openTestStore(positioned);
      const other = await openTestStore({ schema: store.schema, clock: 'caller' });
      try {
        const now = Date.now();
        const old = await store.schedule(
          [30, 20, 10].map((ago) => newJob({ scheduledAt: now - ago * 1000 })),
        );
        assert.deepEqual(await claimOne(store), old, 'the first claim looks, and starts at the oldest job');
        await fail(store, old); // ERROR: requeued below, with the scheduled time of their run, before the next jobs
        await new Promise((resolve) => setTimeout(resolve, LOOK_MS));
        const [fresh] = await store.schedule([newJob({ scheduledAt: Date.now() })]);
        assert.deepEqual(await claimOne(store), [fresh], 'a new look: the position is now the fresh job');
        await finish(store, [fresh!]);

        await store.requeue(old[0]!, Date.now()); // keeps its scheduled time, 30 s ago: before the position
        assert.deepEqual(await claimOne(store), [old[0]], 'rewound by its own requeue: claimed at once');

        await other.requeue(old[1]!, Date.now()); // another node: this store cannot know
        const started = Date.now();
        const ids = await eventually(
          () => claimOne(store),
          (claimed) => claimed.length > 0,
          5000,
        );
        assert.deepEqual(ids, [old[1]]);
        assert.ok(
          Date.now() - started <= LOOK_MS + 300,
          `claimed by the next look (${Date.now() - started} ms)`,
        );
      } finally {
        await other.close();
        await store.close();
      }
    });

    it('claims from positions while a transaction holds a snapshot, and from the start again once it ends', async () => {
      // Thresholds as shipped, but for how slow a claim must be: every claim is "slow" here, so the store looks, and
      // keeps the positions only while looking is slow, which it is not on a small table: back to the start.
      const store = await openTestStore({ claimPositions: { slowClaimMs: 0, slowLookMs: 1_000_000 } });
      try {
        const ids = await store.schedule(Array.from({ length: 50 }, () => newJob()));
        const claimed: number[] = [];
        for (let round = 0; round < 10 && claimed.length < 50; round++)
          claimed.push(...(await claimOne(store)));
        assert.deepEqual(
          claimed.sort((a, b) => a - b),
          ids,
        );
      } finally {
        await store.close();
      }
    });
  },
);

describe('PostgreSQL store', { skip: POSTGRES_SKIP }, () => {
  it('applies migrations once when several nodes start at the same moment', async () => {
    await withStores(
      6,
      async (stores, schema) => {
        await Promise.all(stores.map((store) => store.migrate()));
        const versions = await admin<{ version: number }>(`SELECT version FROM "${schema}".kjobs_migrations`);
        assert.deepEqual(
          versions.map((row) => row.version).sort((x, y) => x - y),
          readMigrations(fileURLToPath(new URL('../../src/store/postgres/migrations', import.meta.url))).map(
            (migration) => migration.version,
          ),
          'each migration once',
        );
        // Migrating again is a no-op, and every node can use the tables.
        await Promise.all(stores.map((store) => store.migrate()));
        const ids = await Promise.all(stores.map((store) => store.schedule([newJob()])));
        assert.equal(new Set(ids.flat()).size, 6);
      },
      { migrate: false },
    );
  });

  it('claims from the statuses the state machine allows (written out in claim_jobs and jobs_due)', () => {
    assert.deepEqual(
      allowedFrom('claim'),
      ['QUEUED', 'RETRYING'],
      'update claim_jobs and the jobs_due index (a new migration) with the state machine',
    );
  });

  it('answers ids and times as numbers', async () => {
    const store = await openTestStore();
    try {
      const [id] = await store.schedule([newJob({ processInstanceId: 2 ** 40 })]);
      assert.equal(typeof id, 'number');
      const job = await store.get(id!);
      assert.equal(job?.processInstanceId, 2 ** 40);
      assert.equal(typeof job?.createdAt, 'number');
    } finally {
      await store.close();
    }
  });

  it('never gives one job to two nodes: concurrent claims from several pools', async () => {
    await withStores(4, async (stores) => {
      const total = 2000;
      for (let i = 0; i < total; i += 500) {
        await stores[0]!.schedule(Array.from({ length: 500 }, (_, j) => newJob({ priority: (i + j) % 10 })));
      }
      const claimedBy = await Promise.all(
        stores.map(async (store, index) => {
          const ids: number[] = [];
          for (;;) {
            const batch = await store.claim({
              workerId: `node-${index}`,
              limit: 25,
              now: Date.now(),
              leaseMs: LEASE,
            });
            if (batch.length === 0) return ids;
            ids.push(...batch.map((job) => job.id));
          }
        }),
      );
      const all = claimedBy.flat();
      assert.equal(all.length, total);
      assert.equal(new Set(all).size, total, 'no job claimed twice');
      assert.ok(
        claimedBy.filter((ids) => ids.length > 0).length >= 2,
        `the claims were shared: ${claimedBy.map((ids) => ids.length).join(', ')}`,
      );
      const counts = await stores[1]!.countByStatus();
      assert.equal(counts.RUNNING, total);
    });
  });

  it('holds concurrency limits and unique business keys across nodes', async () => {
    await withStores(4, async (stores) => {
      await stores[0]!.schedule(Array.from({ length: 40 }, () => newJob({ command: 'mail' })));
      const limits = { commands: { mail: 3 } };
      const claims = await Promise.all(
        stores.flatMap((store, index) =>
          [0, 1].map((round) =>
            store.claim({
              workerId: `node-${index}-${round}`,
              limit: 5,
              now: Date.now(),
              leaseMs: LEASE,
              limits,
            }),
          ),
        ),
      );
      assert.equal(claims.flat().length, 3, 'no more than the limit RUNNING across all nodes');
      const schedules = await Promise.allSettled(
        stores.flatMap((store) =>
          [0, 1, 2].map(() => store.schedule([newJob({ businessKey: 'once', unique: true })])),
        ),
      );
      assert.equal(schedules.filter((result) => result.status === 'fulfilled').length, 1);
    });
  });

  it('wakes subscribers of other nodes when jobs are scheduled, requeued or released', async () => {
    await withStores(2, async ([listening, scheduling]) => {
      let calls = 0;
      const unsubscribe = await listening!.subscribe(() => calls++);
      const started = Date.now();
      const [id] = await scheduling!.schedule([newJob()]);
      await eventually(
        () => calls,
        (n) => n >= 1,
        2000,
      );
      const latency = Date.now() - started;
      console.log(`NOTIFY reached the other node ${latency} ms after the schedule call began`);
      await scheduling!.claim({ workerId: 'w', limit: 1, now: Date.now(), leaseMs: LEASE });
      await scheduling!.complete([{ kind: 'release', jobId: id!, workerId: 'w', now: Date.now() }]);
      await eventually(
        () => calls,
        (n) => n >= 2,
        2000,
      );
      await scheduling!.requeue(id!, Date.now());
      await eventually(
        () => calls,
        (n) => n >= 3,
        2000,
      );
      await unsubscribe();
      const before = calls;
      await scheduling!.schedule([newJob()]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(calls, before, 'no call after unsubscribing');
    });
  });

  it('re-listens after its connection is killed, and tells the listener', async () => {
    await withStores(
      2,
      async ([listening, scheduling]) => {
        let calls = 0;
        const unsubscribe = await listening!.subscribe(() => calls++);
        const killed = await admin<{ pid: number }>(
          `SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
           WHERE application_name = 'kjobs-relisten' AND query LIKE 'LISTEN%'`,
        );
        assert.equal(killed.length, 1, 'the listening connection was found');
        // Reconnected: the listener is called once for what it may have missed, then for new jobs again.
        await eventually(
          () => calls,
          (n) => n >= 1,
          5000,
        );
        const after = calls;
        await scheduling!.schedule([newJob()]);
        await eventually(
          () => calls,
          (n) => n > after,
          5000,
        );
        await unsubscribe();
      },
      { applicationName: 'kjobs-relisten' },
    );
  });

  it('survives its connections being killed: the pool does not crash the process and recovers', async () => {
    await withStores(
      1,
      async ([store]) => {
        await Promise.all([store!.countByStatus(), store!.countByStatus(), store!.countByStatus()]);
        const killed = await admin(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kjobs-kill'`,
        );
        assert.ok(killed.length >= 1);
        // The first operations may meet a dead connection (StoreUnavailableError); the pool then opens new ones.
        const answer = await eventually(
          () =>
            store!.schedule([newJob()]).then(
              (ids) => ids,
              (error: unknown) => {
                assert.ok(error instanceof StoreUnavailableError, String(error));
                return undefined;
              },
            ),
          (ids) => ids !== undefined,
          5000,
        );
        assert.equal(answer?.length, 1);
        assert.equal((await store!.countByStatus()).QUEUED, 1);
      },
      { applicationName: 'kjobs-kill' },
    );
  });

  it('a connection lost between two statements of a transaction fails that transaction, not the process', async () => {
    await withStores(1, async ([store]) => {
      // The window is narrow in real use (a server stopping while a claim sits between BEGIN and its UPDATE);
      // here the transaction waits in it on purpose.
      const transaction = (
        store as unknown as { transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> }
      ).transaction.bind(store);
      await assert.rejects(
        transaction(async (client) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await client.query('SELECT 1');
        }),
        (error: unknown) => isConnectionError(error),
      );
      assert.deepEqual(await store!.schedule([newJob()]).then((ids) => ids.length), 1);
    });
  });

  it('fails fast with StoreUnavailableError when PostgreSQL cannot be reached', async () => {
    const store = new PostgresJobStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'unreachable',
      connectionTimeoutMs: 1000,
    });
    try {
      const started = Date.now();
      await assert.rejects(store.get(1), StoreUnavailableError);
      await assert.rejects(store.schedule([newJob()]), StoreUnavailableError);
      await assert.rejects(
        store.claim({ workerId: 'w', limit: 5, now: Date.now(), leaseMs: 1000 }),
        StoreUnavailableError,
      );
      await assert.rejects(store.migrate(), StoreUnavailableError);
      assert.ok(Date.now() - started < 2000, 'no waiting for a server that refuses connections');
    } finally {
      await store.close();
    }
  });

  it('claims in index order whatever the statistics: jobs_due serves the claim, nothing sorts the queue', async () => {
    const store = await openTestStore();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      // A fresh table, never analyzed: left to itself, the planner would sort every due job on each claim.
      await store.schedule(Array.from({ length: 3000 }, (_, i) => newJob({ priority: i % 10 })));
      const plans: string[] = [];
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
        SET client_min_messages = log`);
      await client.query(
        `SELECT id FROM "${store.schema}".claim_jobs($1, NULL, NULL, '{}', 'w', 60000, 10)`,
        [Date.now()],
      );
      const plan = plans.find((text) => text.includes('UPDATE jobs'));
      assert.ok(plan, plans.join('\n'));
      assert.match(plan, /Index Scan using jobs_due on jobs/);
      assert.doesNotMatch(plan, /Sort/);
    } finally {
      await client.end();
      await store.close();
    }
  });
});
