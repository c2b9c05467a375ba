// Dependencies across nodes on PostgreSQL: the parent runs on node A, its child on node B, which is woken by the
// NOTIFY of the parent's end (a 120 s poll: it would not look otherwise), and reads the parent's response data.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CommandContext } from '../../src/commands/command.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import type { JobStore } from '../../src/store/job-store.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';

describe('dependencies on two nodes (PostgreSQL)', { skip: POSTGRES_SKIP }, () => {
  const nodes: Kjobs[] = [];
  const stores: JobStore[] = [];
  let schema = '';
  after(async () => {
    for (const node of nodes) await node.stop(100);
    for (const store of stores) await store.close();
    if (schema) await dropSchema(schema);
  });

  it("a child waiting on node B starts when node A's parent is DONE", async () => {
    schema = await freshSchema();
    const open = () => {
      const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema });
      stores.push(store);
      return store;
    };
    const ranOn: Record<string, string> = {};
    const a = await createKjobs({
      store: open(),
      containers: {
        a: {
          commands: {
            'a.Parent': async ({ jobId }: CommandContext) => {
              ranOn[jobId] = 'A';
              // Longer than node B's wake-up for the parent's due time: only the NOTIFY of its end wakes B again.
              await new Promise((resolve) => setTimeout(resolve, 300));
              return { rows: 42 };
            },
          },
        },
      },
      executor: { pollIntervalMs: 50, containers: ['a'] },
    });
    const b = await createKjobs({
      store: open(),
      containers: {
        b: {
          commands: {
            'b.Child': ({ jobId, parents }: CommandContext) => {
              ranOn[jobId] = 'B';
              return { fromParent: parents[0]?.responseData?.rows };
            },
          },
        },
      },
      executor: { pollIntervalMs: 120_000, containers: ['b'] },
    });
    nodes.push(a, b);
    await b.start();
    await a.start();
    const api = await createKjobs({
      store: open(),
      executor: false,
      containers: { a: { commands: { 'a.Parent': () => ({}) } }, b: { commands: { 'b.Child': () => ({}) } } },
    });
    nodes.push(api);
    const [parent, child] = await api.scheduleMany([
      { command: 'a.Parent', containerId: 'a', scheduledAt: Date.now() + 500 },
      { command: 'b.Child', containerId: 'b', data: { dependsOn: ['$0'] } },
    ]);
    const done = await b.waitFor(child!, { timeoutMs: 30_000 });
    assert.equal(done.status, 'DONE');
    assert.deepEqual(done.responseData, { fromParent: 42 });
    assert.deepEqual(ranOn, { [parent!]: 'A', [child!]: 'B' });
  });
});
