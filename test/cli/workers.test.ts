/**
 * `kjobs serve --workers N`: N processes share the port, each serving HTTP and running jobs on one store; the
 * primary relays stops, replaces a worker that dies, and gives up when workers cannot start.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';
import { API_PATH, startService, USER, waitForStatus, type Service } from './service.js';

const PRINT = 'org.jbpm.executor.commands.PrintOutCommand';
const authorization = `Basic ${Buffer.from(USER).toString('base64')}`;

/** One request on a connection of its own, so that the cluster hands each to the next process. */
function callAlone(
  service: Service,
  method: string,
  path: string,
  body?: unknown,
  credentials = authorization,
): Promise<{ status: number; text: string }> {
  const url = new URL(path.startsWith('/jobs') ? API_PATH + path : path, service.address);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method,
        agent: false,
        headers: {
          authorization: credentials,
          accept: 'application/json',
          connection: 'close',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The pids of the processes that said they listen, in order. */
function listeningPids(service: Service): number[] {
  return service.lines
    .map((line) => JSON.parse(line) as { msg?: string; pid?: number })
    .filter((entry) => entry.msg?.startsWith('kjobs listening'))
    .map((entry) => entry.pid!);
}

async function waitForLine(
  service: Service,
  test: (entry: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = service.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find(test);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log line in:\n${service.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const clusterUp = (count: number) => (entry: Record<string, unknown>) =>
  entry.msg === `kjobs: ${count} processes serving on ${entry.address as string}`;

/** Schedules `count` jobs over separate connections and waits until each is DONE; answers their pids' count. */
async function runJobs(service: Service, count: number): Promise<void> {
  const ids: number[] = [];
  for (let index = 0; index < count; index++) {
    const answer = await callAlone(service, 'POST', '/jobs', {
      'job-command': PRINT,
      'request-data': { index },
    });
    assert.equal(answer.status, 201, answer.text);
    ids.push(Number(answer.text));
  }
  for (const id of ids) {
    const job = await waitForStatus(service, id, ['DONE', 'ERROR'], 30_000);
    assert.equal(job['request-status'], 'DONE');
    assert.equal(job['request-executions'], 1, `job ${id} ran ${String(job['request-executions'])} times`);
  }
}

/** A counter's value in the Prometheus text, summed over its label sets. */
function counterTotal(text: string, name: string, filter = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(filter))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('kjobs serve --workers', () => {
  it('two processes serve one port and one SQLite file; metrics add up; SIGTERM stops both', async () => {
    const folder = tempFolder();
    const service = await startService(['--workers', '2', '--db', join(folder, 'kjobs.db')]);
    await waitForLine(service, clusterUp(2));
    // The primary's line can come before a worker's own (two pipes): wait for both workers' lines.
    const deadline = Date.now() + 10_000;
    while (new Set(listeningPids(service)).size < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const pids = listeningPids(service);
    assert.equal(new Set(pids).size, 2, 'two processes listen');
    assert.ok(!pids.includes(service.child.pid!), 'the primary only supervises');

    await runJobs(service, 20);
    // Each process ran some of the jobs; its own log says which.
    const ranIn = new Set(
      service.lines
        .map((line) => JSON.parse(line) as { msg?: string; pid?: number })
        .filter((entry) => entry.msg === 'job done')
        .map((entry) => entry.pid),
    );
    assert.equal(ranIn.size, 2, 'jobs ran in both processes');

    // Whichever process answers, the metrics are the cluster's: 20 scheduled, 20 done, QUEUED not doubled.
    for (let scrape = 0; scrape < 2; scrape++) {
      const metrics = await callAlone(service, 'GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(counterTotal(metrics.text, 'kjobs_jobs_scheduled_total'), 20);
      assert.equal(counterTotal(metrics.text, 'kjobs_jobs_completed_total'), 20);
      assert.equal(counterTotal(metrics.text, 'kjobs_jobs', 'status="DONE"'), 20);
      const kie = await callAlone(service, 'GET', '/kie-server/services/rest/metrics');
      assert.equal(counterTotal(kie.text, 'kie_server_job_executed_total', 'failed="false"'), 20);
    }

    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
    const stopped = service.lines.filter((line) => line.includes('"msg":"kjobs stopped"'));
    assert.equal(stopped.length, 2, 'both processes stopped gracefully');
  });

  it('replaces a process that dies, and keeps serving', async () => {
    const service = await startService(['--workers', '2', '--db', join(tempFolder(), 'kjobs.db')]);
    await waitForLine(service, clusterUp(2));
    const [victim] = listeningPids(service);
    process.kill(victim!, 'SIGKILL');
    await waitForLine(
      service,
      (entry) => (entry.msg as string | undefined)?.includes(`process ${victim} ended`) ?? false,
    );
    const deadline = Date.now() + 20_000;
    while (listeningPids(service).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(listeningPids(service).length, 3, 'a replacement listens');
    await runJobs(service, 4);
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
  });

  it('shares --login-failures among the processes: together they allow about what one would', async () => {
    const service = await startService([
      '--workers',
      '2',
      '--login-failures',
      '4',
      '--db',
      join(tempFolder(), 'kjobs.db'),
    ]);
    await waitForLine(service, clusterUp(2));
    const wrong = `Basic ${Buffer.from('ops:wrong').toString('base64')}`;
    const statuses: number[] = [];
    while (!statuses.includes(429) && statuses.length < 20) {
      statuses.push((await callAlone(service, 'GET', '/jobs', undefined, wrong)).status);
    }
    // Each process allows 2 (4 / 2): the cluster hands connections out in turn, so the fifth is refused (each
    // allowing the whole 4, it took 8 wrong passwords).
    assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
  });

  it('stops with exit code 1, without restarting in a loop, when the processes cannot start', async () => {
    const started = startService([
      '--workers',
      '2',
      '--db',
      join(tempFolder(), 'kjobs.db'),
      '--container',
      'acme=./no/such/module.mjs',
    ]);
    await assert.rejects(started, /exited \(1\) before listening/);
  });

  it('on PostgreSQL: two processes, every job once', { skip: POSTGRES_SKIP }, async () => {
    const schema = freshSchema('workers');
    after(() => dropSchema(schema));
    const service = await startService(['--workers', '2', '--db', `${POSTGRES_URL}?schema=${schema}`]);
    await waitForLine(service, clusterUp(2));
    await runJobs(service, 20);
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0);
  });
});
