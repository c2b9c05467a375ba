/**
 * `kjobs worker --url` (issue 30) as a user runs it: `kjobs serve` with a remote container and a worker user, and
 * workers started from the CLI with a container module, reaching the server over HTTP only (no --db). A job runs;
 * a worker killed mid-job loses its job to the server's rescue and a second worker finishes it; SIGTERM stops a
 * worker cleanly; what cannot work is refused at start with a line saying what to change.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorMessages, startService, waitForStatus, type Service } from '../cli/service.js';
import { eventually, tempFolder } from '../helpers.js';


class WorkerProcess {
  output = '';
  readonly exited: Promise<number | string | null>;
  readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', ...args], {
      env: { ...process.env, KJOBS_LOG_LEVEL: 'info', KJOBS_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? signal)));
  }

  logged(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return eventually(
      () => this.output,
      (text) => pattern.test(text),
      timeoutMs,
    );
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

describe('kjobs worker --url against kjobs serve', { timeout: 120_000 }, () => {
  const folder = tempFolder('kjobs-worker-cli-');
  const module = join(folder, 'billing.mjs');
  let service: Service;
  const workers: WorkerProcess[] = [];
  after(() => {
    for (const worker of workers) worker.kill('SIGKILL');
    service?.child.kill('SIGKILL');
  });

  before(async () => {
    writeFileSync(
      module,
      `export default {
        commands: {
          'com.acme.billing.Sleep': async ({ data, signal }) => {
            await new Promise((resolve, reject) => {
              const timer = setTimeout(resolve, data.ms ?? 0);
              signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); });
            });
            return { slept: data.ms ?? 0, pid: process.pid };
          },
        },
      };\n`,
    );
    service = await startService([
      '--db',
      join(folder, 'jobs.db'),
      '--heartbeat',
      '1s',
      '--remote-container',
      'billing=com.acme.billing.*',
      '--user',
      'billing-worker:worker-pw:worker',
      '--worker-grant',
      'billing-worker=billing',
    ]);
  });

  function startWorker(extra: string[] = [], env: NodeJS.ProcessEnv = { KJOBS_PASSWORD: 'worker-pw' }) {
    const worker = new WorkerProcess(
      [
        '--url',
        service.address, // a bare origin: the REST root is added
        '--user',
        'billing-worker',
        '--container',
        `billing=${module}`,
        '--concurrency',
        '2',
        ...extra,
      ],
      env,
    );
    workers.push(worker);
    return worker;
  }

  async function schedule(data: Record<string, unknown>): Promise<number> {
    const answer = await service.call('POST', '/jobs', {
      'job-command': 'com.acme.billing.Sleep',
      'request-data': data,
    });
    assert.equal(answer.status, 201, answer.text);
    return Number(answer.text);
  }

  it("runs the container module's jobs, reaching the server over HTTP only", async () => {
    const worker = startWorker();
    await worker.logged(
      /remote worker .* serving billing for http:\/\/127\.0\.0\.1:\d+\/kie-server\/services\/rest/,
    );
    const id = await schedule({ ms: 10 });
    const job = await waitForStatus(service, id, ['DONE', 'ERROR'], 30_000);
    assert.equal(job['request-status'], 'DONE', JSON.stringify(job));
    assert.equal((job['response-data'] as Record<string, unknown>).pid, worker.child.pid);
  });

  it('a worker killed mid-job: the server rescues its job after the lease, and a second worker finishes it', async () => {
    const first = workers[0]!;
    const id = await schedule({ ms: 1500, retries: 3 });
    await waitForStatus(service, id, ['RUNNING'], 30_000);
    first.kill('SIGKILL');
    const second = startWorker(['--stop-timeout', '1000']);
    const job = await waitForStatus(service, id, ['DONE'], 60_000);
    assert.equal(job['request-executions'], 2, 'the lost attempt counted, the second ran it');
    assert.match(errorMessages(job)[0] ?? '', /was lost while running job/);
    assert.equal((job['response-data'] as Record<string, unknown>).pid, second.child.pid);
  });

  it('SIGTERM stops a worker cleanly: its running job goes back QUEUED, the process exits 0', async () => {
    const worker = workers[1]!;
    const id = await schedule({ ms: 60_000 });
    await waitForStatus(service, id, ['RUNNING'], 30_000);
    worker.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output);
    const job = await waitForStatus(service, id, ['QUEUED'], 2000);
    assert.equal(job['request-executions'], 0, 'given back unrun');
    assert.equal((await service.call('DELETE', `/jobs/${id}`)).status, 204);
  });

  it('refuses at start what cannot work, saying what to change', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp, number][] = [
      [['--db', join(folder, 'other.db')], { KJOBS_PASSWORD: 'worker-pw' }, /--url and --db both given/, 1],
      [[], { KJOBS_PASSWORD: 'wrong' }, /answered 401: check the user/, 1],
      [
        ['--container', `reports=${module}`],
        { KJOBS_PASSWORD: 'worker-pw' },
        /container reports is not a remote container this user may serve/,
        1,
      ],
    ];
    for (const [extra, env, message, code] of cases) {
      const worker = startWorker(extra, env);
      assert.equal(await worker.exited, code, worker.output);
      assert.match(worker.output, message);
    }
    const bad = new WorkerProcess(['--url', 'ftp://example.com']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.output, /--url must be http:\/\/ or https:\/\//);
  });
});
