// Pause and resume over HTTP (kjobs extensions, issue 17): the routes (204, same authentication as KIE's),
// GET .../jobs/paused, the typed client and `kjobs pause|resume` as a child process, against a real server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApiError, KieJobsClient } from '../../src/client/index.js';
import { eventually, startServer, type ClientTestServer } from '../client/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const USER = { name: 'ops', password: 's3cret', roles: ['kie-server'] };

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('pause and resume over HTTP', () => {
  let server: ClientTestServer;
  let client: KieJobsClient;
  before(async () => {
    server = await startServer({
      kjobs: {
        executor: { pollIntervalMs: 50 },
        commands: { 'com.acme.Mail': () => ({}) },
        containers: { acme: { 'com.acme.Greet': () => ({}) } },
      },
      server: { users: [USER] },
    });
    client = new KieJobsClient({ baseUrl: server.baseUrl, user: USER.name, password: USER.password });
  });

  test('the routes answer 204, need the same credentials, and GET .../jobs/paused lists what is paused', async () => {
    const url = `${server.baseUrl}/server/jobs/commands/com.acme.Mail/pause`;
    const anonymous = await fetch(url, { method: 'POST' });
    assert.equal(anonymous.status, 401);
    const auth = {
      authorization: `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`,
    };
    const paused = await fetch(url, { method: 'POST', headers: auth });
    assert.equal(paused.status, 204);
    const container = await fetch(`${server.baseUrl}/server/jobs/containers/acme/pause`, {
      method: 'POST',
      headers: auth,
    });
    assert.equal(container.status, 204);
    const listed = await fetch(`${server.baseUrl}/server/jobs/paused`, { headers: auth });
    assert.equal(listed.status, 200);
    const body = (await listed.json()) as { paused: { kind: string; name: string; pausedAt: string }[] };
    assert.deepEqual(
      body.paused.map((p) => [p.kind, p.name]),
      [
        ['command', 'com.acme.Mail'],
        ['container', 'acme'],
      ],
    );
    assert.ok(!Number.isNaN(Date.parse(body.paused[0]!.pausedAt)));
    for (const path of ['commands/com.acme.Mail/resume', 'containers/acme/resume']) {
      assert.equal(
        (await fetch(`${server.baseUrl}/server/jobs/${path}`, { method: 'POST', headers: auth })).status,
        204,
      );
    }
    assert.deepEqual(await client.listPaused(), []);
  });

  test('the client: a paused command and container keep their jobs QUEUED, resuming runs them', async () => {
    await client.pauseCommand('com.acme.Mail');
    await client.pauseContainer('acme');
    const mail = await client.scheduleRequest({ jobCommand: 'com.acme.Mail' });
    const greet = await client.scheduleRequest({ jobCommand: 'com.acme.Greet' }, { containerId: 'acme' });
    const listed = await client.listPaused();
    assert.deepEqual(
      listed.map((p) => `${p.kind} ${p.name}`),
      ['command com.acme.Mail', 'container acme'],
    );
    assert.ok(listed[0]!.pausedAt instanceof Date);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 300));
    assert.equal((await client.getRequestById(mail)).requestStatus, 'QUEUED');
    assert.equal((await client.getRequestById(greet)).requestStatus, 'QUEUED');
    await client.resumeCommand('com.acme.Mail');
    await eventually(
      () => client.getRequestById(mail),
      (job) => job.requestStatus === 'DONE',
    );
    assert.equal(
      (await client.getRequestById(greet)).requestStatus,
      'QUEUED',
      'the container is still paused',
    );
    await client.resumeContainer('acme');
    await eventually(
      () => client.getRequestById(greet),
      (job) => job.requestStatus === 'DONE',
    );
    await assert.rejects(
      new KieJobsClient({ baseUrl: server.baseUrl }).pauseCommand('x'),
      (error) => error instanceof ApiError && error.status === 401,
    );
  });

  test('pausing a name nothing knows answers 404 and pauses nothing; kjobs pause exits 3 (issue 27, finding 4)', async () => {
    for (const kind of ['command', 'container'] as const) {
      await assert.rejects(
        kind === 'command' ? client.pauseCommand('com.acme.Nope') : client.pauseContainer('nope'),
        (error) =>
          error instanceof ApiError && error.status === 404 && /only .* can be paused/.test(error.message),
      );
    }
    assert.deepEqual(await client.listPaused(), []);
    const env = { KJOBS_URL: server.baseUrl, KJOBS_USER: USER.name, KJOBS_PASSWORD: USER.password };
    const refused = await cli(['pause', 'com.acme.Nope'], env);
    assert.equal(refused.code, 3, refused.stdout);
    assert.match(refused.stderr, /No command com\.acme\.Nope is known here/);
    // A container's command is known, and so is a built-in.
    await client.pauseCommand('com.acme.Greet');
    await client.pauseCommand('org.jbpm.executor.commands.PrintOutCommand');
    assert.equal((await client.listPaused()).length, 2);
    await client.resumeCommand('com.acme.Greet');
    await client.resumeCommand('org.jbpm.executor.commands.PrintOutCommand');
  });

  test('kjobs pause and kjobs resume', async () => {
    const env = { KJOBS_URL: server.baseUrl, KJOBS_USER: USER.name, KJOBS_PASSWORD: USER.password };
    const paused = await cli(['pause', 'com.acme.Mail'], env);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, 'Paused command com.acme.Mail\n');
    const container = await cli(['pause', '--container', 'acme', '--json'], env);
    assert.deepEqual(JSON.parse(container.stdout), { kind: 'container', name: 'acme', result: 'paused' });
    const listed = await cli(['pause', '--json'], env);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { name: string }[]).map((p) => p.name),
      ['com.acme.Mail', 'acme'],
    );
    assert.match((await cli(['pause'], env)).stdout, /^command\tcom\.acme\.Mail\tpaused since \d{4}-/);
    assert.equal((await cli(['resume', 'com.acme.Mail'], env)).stdout, 'Resumed command com.acme.Mail\n');
    assert.equal((await cli(['resume', '--container', 'acme'], env)).code, 0);
    assert.equal((await cli(['pause'], env)).stdout, 'Nothing is paused.\n');
    assert.equal((await cli(['resume'], env)).code, 2, 'resume needs a target');
  });
});
