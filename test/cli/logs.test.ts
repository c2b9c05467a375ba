/**
 * What `kjobs serve` logs for its operator: one start-up line that says where and how it runs, one line per
 * finished job, and on stop how many jobs it waits for and how many went back to QUEUED; readable lines with
 * `--log-format pretty` (the default on a terminal), JSON otherwise.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { defaultLogFormat, formatPretty } from '../../src/cli/log-format.js';
import { eventually } from '../helpers.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-logs-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function serve(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KJOBS_LOG_LEVEL: 'info' } },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(`stderr: ${line}`));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, lines, exited };
}

async function post(origin: string, body: unknown, query = ''): Promise<number> {
  const response = await fetch(`${origin}/kie-server/services/rest/server/jobs${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}`,
    },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return Number(await response.text());
}

describe('kjobs serve logs', () => {
  it('--log-format pretty: readable start-up, job and stop lines', async () => {
    const db = join(folder, 'pretty.db');
    const service = serve([
      '--log-format',
      'pretty',
      '--db',
      db,
      '--user',
      'ops:pw',
      '--concurrency',
      '3',
      '--stop-timeout',
      '300',
      '--container',
      'acme=examples/acme-commands.mjs',
      '--container',
      'billing-1.0=examples/billing-commands.mjs',
    ]);
    const listening = await eventually(
      () => service.lines.find((line) => line.includes('kjobs listening on')),
      (line) => line !== undefined,
      30_000,
    );
    assert.ok(!listening!.trimStart().startsWith('{'), listening);
    assert.match(
      listening!,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}kjobs listening on (http:\/\/127\.0\.0\.1:\d+): store \S+pretty\.db; containers acme \(3 commands\), billing-1\.0 \(1 command\); executor 3 jobs at once; auth basic \(1 user\)/,
    );
    const origin = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(listening!)![1]!;

    const done = await post(origin, { 'job-command': 'org.jbpm.executor.commands.PrintOutCommand' });
    const doneLine = await eventually(
      () => service.lines.find((line) => line.includes('job done') && line.includes(`jobId=${done} `)),
      (line) => line !== undefined,
    );
    assert.match(
      doneLine!,
      /INFO {2}job done .*jobId=\d+ command=org\.jbpm\.executor\.commands\.PrintOutCommand status=DONE ms=\d+/,
    );

    // A long job: on SIGTERM the stop waits for it, then gives it back.
    const long = await post(
      origin,
      {
        'job-command': 'com.acme.Report',
        'request-data': { steps: 100, stepMs: 1000 },
      },
      '?containerId=acme',
    );
    await eventually(
      async () =>
        (
          await fetch(`${origin}/kie-server/services/rest/server/jobs/${long}`, {
            headers: {
              accept: 'application/json',
              authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}`,
            },
          })
        ).text(),
      (text) => text.includes('"RUNNING"'),
    );
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, service.lines.join('\n'));
    const text = service.lines.join('\n');
    assert.match(text, /executor stopping: waiting up to 300 ms for 1 running job/);
    assert.match(text, /executor stopped: 0 of 1 running jobs finished, 1 job back to QUEUED/);
    assert.doesNotMatch(text, /^\{/m, 'no JSON lines');
  });

  it('JSON lines when stdout is not a terminal (the default here), with the same fields', async () => {
    const service = serve([
      '--db',
      join(folder, 'json.db'),
      '--container',
      'acme=examples/acme-commands.mjs',
    ]);
    const line = await eventually(
      () => service.lines.find((entry) => entry.includes('kjobs listening')),
      (entry) => entry !== undefined,
      30_000,
    );
    const entry = JSON.parse(line!) as Record<string, unknown>;
    assert.deepEqual(entry.containers, { acme: 3 });
    assert.equal(entry.concurrency, 10);
    assert.equal(entry.auth, 'off (loopback only)');
    assert.match(String(entry.store), /json\.db$/);
    service.child.kill('SIGTERM');
    await service.exited;
  });

  it('the store is named without its password', async () => {
    const service = serve(['--db', 'postgres://kjobs:s3cret@127.0.0.1:1/nothing', '--log-format', 'pretty']);
    await service.exited;
    assert.doesNotMatch(service.lines.join('\n'), /s3cret/);
  });
});

describe('formatPretty', () => {
  it('writes time, level, message and the fields; the stack for errors and at debug level', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    assert.equal(
      formatPretty(
        JSON.stringify({ level: 30, time, pid: 1, msg: 'job done', jobId: 7, command: 'a b', ms: 3 }),
      ),
      '03:04:05.006 INFO  job done jobId=7 command="a b" ms=3\n',
    );
    const warn = formatPretty(
      JSON.stringify({
        level: 40,
        time,
        msg: 'job failed',
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
      }),
    );
    assert.equal(warn, '03:04:05.006 WARN  job failed err=boom\n');
    const error = formatPretty(
      JSON.stringify({ level: 50, time, msg: 'x', err: { message: 'boom', stack: 'Error: boom\n    at x' } }),
    );
    assert.match(error, /ERROR x err=boom\n {4}Error: boom\n {8}at x\n$/);
    const debug = formatPretty(
      JSON.stringify({ level: 20, time, msg: 'x', err: { message: 'boom', stack: 'Error: boom\n    at x' } }),
    );
    assert.match(debug, /DEBUG x err=boom\n {4}Error: boom\n {8}at x\n$/);
    assert.equal(formatPretty('not json'), 'not json\n');
  });

  it('is the default on a terminal only', () => {
    assert.equal(defaultLogFormat({ isTTY: true }), 'pretty');
    assert.equal(defaultLogFormat({ isTTY: false }), 'json');
    assert.equal(defaultLogFormat({}), 'json');
  });
});
