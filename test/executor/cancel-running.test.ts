/**
 * Cancel of a running job and fail without retry (issue 29, the two pieces the worker protocol needs): a RUNNING job
 * cancelled through the extension ends CANCELLED, its command's signal fires with a JobCancelledError (at once on the
 * node that runs it; from another node, at the worker's next lease renewal), and nothing it writes after counts; a
 * command that throws UnrecoverableError (or any error with `retry: false`) ends ERROR at once, whatever retries
 * remain. On SQLite (two nodes on one file) and PostgreSQL (two nodes on one schema).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandContext } from '../../src/commands/command.js';
import { JobCancelledError, UnrecoverableError } from '../../src/executor/executor.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';

interface Place {
  name: string;
  skip: string | false;
  /** A store for one node of a shared place. */
  store: () => Promise<string | PostgresJobStore>;
}

function places(): Place[] {
  const file = join(tempFolder('kjobs-cancel-running-'), 'jobs.db');
  const schema = freshSchema('cancelrun');
  after(() => (POSTGRES_SKIP ? undefined : dropSchema(schema)));
  return [
    { name: 'SQLite', skip: false, store: async () => file },
    {
      name: 'PostgreSQL',
      skip: POSTGRES_SKIP,
      store: async () => new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 3 }),
    },
  ];
}

for (const place of places()) {
  describe(`cancel of a running job, fail without retry (${place.name})`, { skip: place.skip }, () => {
    const nodes: Kjobs[] = [];
    after(async () => {
      for (const node of nodes) {
        await node.stop(200);
        await node.store.close();
      }
    });
    /** Why each run's signal fired, by job id. */
    const aborted = new Map<number, unknown>();
    const started = new Set<number>();

    async function node(executor: boolean): Promise<Kjobs> {
      const kjobs = await createKjobs({
        store: await place.store(),
        commands: {
          // Runs until its signal fires, then ends as a well-behaved command does: by throwing the reason.
          'test.Long': ({ jobId, signal }: CommandContext) =>
            new Promise((_, reject) => {
              started.add(jobId);
              signal.addEventListener('abort', () => {
                aborted.set(jobId, signal.reason);
                reject(signal.reason);
              });
            }),
          'test.Refused': () => {
            throw new UnrecoverableError('the card was refused: retrying cannot help');
          },
          'test.RetryFalse': () => {
            throw Object.assign(new Error('a worker elsewhere said: do not retry'), { retry: false });
          },
        },
        executor: executor ? { heartbeatMs: 400, pollIntervalMs: 100 } : false,
      });
      await kjobs.start();
      nodes.push(kjobs);
      return kjobs;
    }

    it('on the node that runs it: CANCELLED at once, the signal fires, no retry, no outcome written', async () => {
      const runner = await node(true);
      const id = await runner.schedule({ command: 'test.Long', data: { retries: 3 } });
      await eventually(() => started.has(id), Boolean);
      await assert.rejects(
        runner.cancel(id),
        /cannot be cancelled: it is RUNNING/,
        "KIE's cancel still refuses",
      );
      const cancelled = await runner.cancel(id, { evenRunning: true });
      assert.equal(cancelled.status, 'CANCELLED');
      await eventually(
        () => aborted.get(id),
        (reason) => reason !== undefined,
      );
      assert.ok(aborted.get(id) instanceof JobCancelledError);
      // The run's failure (its signal's reason) is not written: still CANCELLED, no error, no retry.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const job = await runner.get(id, { withErrors: true });
      assert.equal(job.status, 'CANCELLED');
      assert.deepEqual(job.errors, []);
      assert.equal(job.executions, 1);
      assert.equal(runner.executor!.activeCount, 0, 'its slot is free');
    });

    it('from another node: the worker learns it at its next lease renewal', async () => {
      const runner = nodes[0]!;
      const api = await node(false);
      const id = await api.schedule({ command: 'test.Long' });
      await eventually(() => started.has(id), Boolean);
      await api.cancel(id, { evenRunning: true });
      await eventually(
        () => aborted.get(id),
        (reason) => reason !== undefined,
      );
      assert.ok(aborted.get(id) instanceof JobCancelledError);
      assert.equal((await api.get(id)).status, 'CANCELLED');
      await eventually(
        () => runner.executor!.activeCount,
        (n) => n === 0,
      );
    });

    it('UnrecoverableError, or any error with retry: false, ends the job ERROR at once, retries kept', async () => {
      const runner = nodes[0]!;
      for (const command of ['test.Refused', 'test.RetryFalse']) {
        const id = await runner.schedule({ command, data: { retries: 3 } });
        const job = await runner.waitFor(id, { timeoutMs: 10_000, pollMs: 50 });
        assert.equal(job.status, 'ERROR', command);
        assert.equal(job.executions, 1, `${command}: one run`);
        assert.equal(job.retries, 3, `${command}: the retries left, for a requeue`);
        assert.equal(job.errors?.length, 1);
      }
    });
  });
}
