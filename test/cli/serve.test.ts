// `kjobs serve` as a process: starts, answers over HTTP, runs a job, stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { createKjobs } from '../../src/kjobs.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-cli-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  address: string;
  logs: string[];
  exited: Promise<number | null>;
}

/**
 * Runs the CLI entry through tsx (bin/kjobs.js runs the compiled form of the same file) until it logs `ready`
 * (the listening line by default).
 */
function start(
  args: string[],
  env: Record<string, string> = {},
  ready = 'kjobs listening',
): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line in 20 s:\n${logs.join('\n')}`)),
      20_000,
    );
    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { address?: string; msg?: string };
        if (entry.msg?.startsWith(ready)) {
          clearTimeout(timer);
          resolve({ child, address: entry.address ?? '', logs, exited });
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kjobs exited with ${code}:\n${logs.join('\n')}`));
    });
  });
}

describe('kjobs serve', () => {
  it('serves the API on the given port and database, runs a container job, stops on SIGTERM', async () => {
    const db = join(folder, 'serve.db');
    const server = await start(
      [
        'serve',
        '--port',
        '0',
        '--db',
        db,
        '--container',
        'greet=test/cli/fixtures/container-greet.mjs',
        '--user',
        'ops:pw',
      ],
      { KJOBS_LOG_LEVEL: 'info' },
    );
    const api = `${server.address}/kie-server/services/rest/server`;
    const auth = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };

    assert.equal((await fetch(`${server.address}/readyz`)).status, 200);
    assert.equal((await fetch(`${api}/jobs`)).status, 401);

    const scheduled = await fetch(`${api}/jobs?containerId=greet`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ 'job-command': 'com.example.Greet', 'request-data': { name: 'Ada' } }),
    });
    assert.equal(scheduled.status, 201);
    const id = Number(await scheduled.text());

    let job: Record<string, unknown> = {};
    for (let i = 0; i < 200 && job['request-status'] !== 'DONE'; i++) {
      const answer = await fetch(`${api}/jobs/${id}?withData=true`, {
        headers: { ...auth, accept: 'application/json' },
      });
      job = (await answer.json()) as Record<string, unknown>;
      if (job['request-status'] !== 'DONE') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(job['request-status'], 'DONE');
    assert.deepEqual(job['response-data'], { greeting: 'Hello, Ada' });
    assert.equal(job['request-container-id'], 'greet');

    // The configuration is printed with the password masked.
    const printed = server.logs.find((line) => line.includes('kjobs configuration')) ?? '';
    assert.match(printed, /ops:\*\*\*:kie-server/);
    assert.doesNotMatch(printed, /ops:pw/);

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(server.logs.some((line) => line.includes('kjobs stopped')));
  });

  it('refuses a non-loopback host without users, and bad flags', async () => {
    const db = join(folder, 'refused.db');
    await assert.rejects(
      start(['serve', '--port', '0', '--host', '0.0.0.0', '--db', db]),
      /Refusing to listen on 0\.0\.0\.0/,
    );
    await assert.rejects(start(['serve', '--port', 'eighty', '--db', db]), /--port must be a whole number/);
  });

  it('kjobs worker runs jobs scheduled by another process on the same database, and stops on SIGTERM', async () => {
    const db = join(folder, 'shared.db');
    const api = await createKjobs({ store: db, executor: false });
    const id = await api.schedule({ command: 'org.jbpm.executor.commands.PrintOutCommand', data: { n: 1 } });
    const worker = await start(['worker', '--db', db, '--concurrency', '2'], {}, 'kjobs worker started');
    try {
      const job = await api.waitFor(id, { timeoutMs: 15_000 });
      assert.equal(job.status, 'DONE');
    } finally {
      await api.stop();
    }
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });
});
