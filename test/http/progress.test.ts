// Progress over HTTP with a running executor, on SQLite and on PostgreSQL: ctx.progress, the throttle, the
// extension route, the client, `kjobs jobs get`, and KIE's answers unchanged.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { KieJobsClient } from '../../src/client/index.js';
import type { CommandContext } from '../../src/commands/command.js';
import { createServer } from '../../src/http/server.js';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import { openStore } from '../../src/store/open-store.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const folder = tempFolder('kjobs-progress-');
let files = 0;
const STORES: [string, () => Promise<JobStore>, string | false][] = [
  ['SQLite', async () => openStore(join(folder, `progress-${files++}.db`)), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, KJOBS_URL: undefined, KJOBS_USER: undefined, KJOBS_PASSWORD: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

for (const [storeName, open, skip] of STORES) {
  describe(`progress (${storeName})`, { skip }, () => {
    const gates = new Map<number, () => void>();
    const started = new Set<number>();
    let store: JobStore;
    let writes = 0;
    const instances: { kjobs: Kjobs; app: FastifyInstance; origin: string }[] = [];

    async function start(progressIntervalMs: number) {
      const kjobs = await createKjobs({
        store,
        commands: {
          'acme.Chatty': async ({ jobId, progress }: CommandContext) => {
            for (let i = 1; i <= 1000; i++) progress(i / 10, { step: i });
            started.add(jobId);
            await new Promise<void>((resolve) => gates.set(jobId, resolve));
            return { steps: 1000 };
          },
          'acme.Bad': ({ progress }: CommandContext) => {
            progress(101);
          },
        },
        executor: { pollIntervalMs: 50, progressIntervalMs },
      });
      await kjobs.start();
      const app = await createServer(kjobs);
      const origin = await app.listen({ port: 0, host: '127.0.0.1' });
      instances.push({ kjobs, app, origin });
      return { kjobs, origin };
    }

    before(async () => {
      store = await open();
      // Counts the store's progress writes (the store itself is real).
      const setProgress = store.setProgress.bind(store);
      store.setProgress = (...args) => {
        writes++;
        return setProgress(...args);
      };
    });
    async function stopAll() {
      for (const { app, kjobs } of instances.splice(0)) {
        await app.close();
        await kjobs.stop(100);
      }
    }
    after(async () => {
      await stopAll();
      await store.close();
    });

    async function progressOf(origin: string, id: number) {
      const response = await fetch(`${origin}${API}/jobs/${id}/progress`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(response.status, 200);
      return (await response.json()) as Record<string, unknown>;
    }

    it('a chatty command is throttled: the first report at once, the latest before its outcome; KIE unchanged', async () => {
      const { kjobs, origin } = await start(3_600_000);
      writes = 0;
      const id = await kjobs.schedule({ command: 'acme.Chatty' });
      await eventually(() => started.has(id), Boolean, 30_000);
      await eventually(
        () => progressOf(origin, id),
        (p) => p.value === 0.1,
        30_000,
      );
      assert.deepEqual((await progressOf(origin, id)).data, { step: 1 });
      assert.equal(writes, 1, '1000 reports, one write so far');
      gates.get(id)!();
      const done = await kjobs.waitFor(id, { timeoutMs: 30_000 });
      assert.equal(done.status, 'DONE');
      assert.equal(writes, 2, 'the latest report written before the outcome');
      const final = await progressOf(origin, id);
      assert.equal(final.status, 'DONE');
      assert.equal(final.value, 100);
      assert.deepEqual(final.data, { step: 1000 });
      assert.ok(!Number.isNaN(Date.parse(String(final.updatedAt))));
      const library = await kjobs.get(id);
      assert.equal(library.progress?.value, 100, "the library's get answers it");
      for (const accept of ['application/json', 'application/xml']) {
        const kie = await fetch(`${origin}${API}/jobs/${id}?withData=true&withErrors=true`, {
          headers: { accept },
        });
        assert.doesNotMatch(await kie.text(), /progress|"step"/i, `KIE's ${accept} answer is unchanged`);
      }
      const bad = await kjobs.waitFor(await kjobs.schedule({ command: 'acme.Bad', data: { retries: 0 } }), {
        timeoutMs: 30_000,
      });
      assert.equal(bad.status, 'ERROR');
      assert.match(bad.errors?.[0]?.message ?? '', /progress must be a number from 0 to 100/);
      await stopAll();
    });

    it("shows live: the client and `kjobs jobs get` show a running job's progress", async () => {
      const { kjobs, origin } = await start(1);
      const id = await kjobs.schedule({ command: 'acme.Chatty' });
      await eventually(() => started.has(id), Boolean, 30_000);
      const client = new KieJobsClient({ baseUrl: `${origin}/kie-server/services/rest` });
      await eventually(
        () => client.getJobProgress(id),
        (p) => p.value === 100,
        30_000,
      );
      const progress = await client.getJobProgress(id);
      assert.equal(progress.status, 'RUNNING');
      assert.deepEqual(progress.data, { step: 1000 });
      assert.ok(progress.updatedAt instanceof Date);
      const shown = await cli(['jobs', 'get', String(id), '--url', `${origin}/kie-server/services/rest`]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^Progress\s+100% \{"step":1000\} \(at \d{4}-/m);
      const asJson = await cli([
        'jobs',
        'get',
        String(id),
        '--json',
        '--url',
        `${origin}/kie-server/services/rest`,
      ]);
      assert.equal(asJson.code, 0, asJson.stderr);
      const printed = JSON.parse(asJson.stdout) as {
        requestInstanceId: number;
        progress?: { value: number; data: unknown };
        dependencies?: { id: number; waitingFor: number; parents: unknown[]; children: unknown[] };
      };
      assert.equal(printed.requestInstanceId, id, 'the KIE fields as before');
      assert.equal(printed.progress?.value, 100);
      assert.deepEqual(printed.progress?.data, { step: 1000 });
      assert.deepEqual(printed.dependencies, { id, waitingFor: 0, parents: [], children: [] });
      gates.get(id)!();
      await kjobs.waitFor(id, { timeoutMs: 30_000 });
      await assert.rejects(
        client.getJobProgress(987654321),
        (error: { status?: number }) => error.status === 404,
      );
    });
  });
}
