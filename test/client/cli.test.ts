// `kjobs jobs ...` as a child process against a real kjobs on loopback: every command, tables and --json, JSON and
// XML on the wire, and the exit codes (0 ok, 1 failure, 2 usage, 3 not found, 4 wrong state, 5 authentication).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, FAILING, FAR_FUTURE, PRINT_OUT, startServer, type ClientTestServer } from './server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const USER = { name: 'ops', password: 's3cret', roles: ['kie-server'] };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kjobs jobs ...args` with KJOBS_URL/USER/PASSWORD pointing at `server` unless `env` says otherwise. */
function kjobs(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return cli(['jobs', ...args], env);
}

/** Runs `kjobs ...args`. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KJOBS_URL: undefined, KJOBS_USER: undefined, KJOBS_PASSWORD: undefined, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Runs `kjobs ...args` on a terminal (util-linux script's pseudo-terminal): everything it wrote there. */
function onTerminal(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, '--import', 'tsx', MAIN, ...args].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, TERM: 'xterm', NO_COLOR: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolvePromise(output));
  });
}

describe('kjobs jobs', () => {
  let server: ClientTestServer;
  let env: Record<string, string>;
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-cli-'));
  after(() => rmSync(folder, { recursive: true, force: true }));

  before(async () => {
    server = await startServer({
      kjobs: {
        executor: { pollIntervalMs: 20 },
        containers: {
          acme: {
            'com.acme.Greet': () => ({}),
            'com.acme.Halfway': ({ progress }) => {
              progress(50, { step: 1 });
              return { answer: 42 };
            },
          },
        },
      },
      server: { users: [USER] },
    });
    env = { KJOBS_URL: server.baseUrl, KJOBS_USER: USER.name, KJOBS_PASSWORD: USER.password };
  });

  for (const format of ['json', 'xml']) {
    test(`schedule, get, list, update-data, cancel over ${format}: tables and --json`, async () => {
      const key = `cli-${format}`;
      const at = FAR_FUTURE.toISOString();
      const scheduled = await kjobs(
        [
          'schedule',
          PRINT_OUT,
          '--key',
          key,
          '--at',
          at,
          '--data',
          '{"retries": 2, "n": 1.5}',
          '--set',
          'who=Ada',
          '--format',
          format,
          '--json',
        ],
        env,
      );
      assert.equal(scheduled.code, 0, scheduled.stderr);
      const { id } = JSON.parse(scheduled.stdout) as { id: number };
      assert.ok(id > 0);

      const human = await kjobs(
        ['schedule', PRINT_OUT, '--key', key, '--at', String(FAR_FUTURE.getTime()), '--format', format],
        env,
      );
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^Scheduled job \d+\n$/);

      const got = await kjobs(['get', String(id), '--json', '--format', format], env);
      assert.equal(got.code, 0, got.stderr);
      const job = JSON.parse(got.stdout) as Record<string, unknown>;
      assert.equal(job.requestStatus, 'QUEUED');
      assert.equal(job.requestBusinessKey, key);
      assert.equal(job.requestScheduledDate, at);
      assert.deepEqual(job.requestData, { retries: 2, n: 1.5, who: 'Ada', businessKey: key });
      assert.deepEqual(job.requestErrors, { errorInfoInstance: [] });

      const details = await kjobs(['get', String(id), '--format', format], env);
      assert.match(details.stdout, new RegExp(`^Job +${id}\\nStatus +QUEUED\\n`));
      assert.match(details.stdout, /Request data +\{"retries":2,"n":1\.5,"who":"Ada","businessKey":"cli-/);
      assert.match(details.stdout, /Errors +none/);

      const listed = await kjobs(['list', '--key', key, '--format', format], env);
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trimEnd().split('\n');
      assert.match(
        lines[0] ?? '',
        /^ID +STATUS +COMMAND +BUSINESS KEY +CONTAINER +RETRIES +EXECUTIONS +SCHEDULED$/,
      );
      assert.equal(lines.length, 3);
      assert.match(
        lines[1] ?? '',
        new RegExp(`^${id} +QUEUED +${PRINT_OUT.replace(/\./g, '\\.')} +${key} +- +2 +0 +${at}$`),
      );

      const updated = await kjobs(['update-data', String(id), '--set', 'who=Grace', '--format', format], env);
      assert.equal(updated.code, 0, updated.stderr);
      assert.equal(updated.stdout, `Updated the data of job ${id}\n`);
      assert.equal((await server.kjobs.get(id, { withData: true })).requestData?.who, 'Grace');

      const cancelled = await kjobs(['cancel', String(id), '--format', format, '--json'], env);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.deepEqual(JSON.parse(cancelled.stdout), { id, result: 'cancelled' });

      const byStatus = await kjobs(
        ['list', '--status', 'CANCELLED', '--page-size', '100', '--json', '--format', format],
        env,
      );
      assert.ok(
        (JSON.parse(byStatus.stdout) as { requestInstanceId: number }[]).some(
          (item) => item.requestInstanceId === id,
        ),
      );
    });
  }

  test('list by command, container and process instance; paging; empty lists', async () => {
    const inContainer = await kjobs(
      ['schedule', 'com.acme.Greet', '--container', 'acme', '--at', FAR_FUTURE.toISOString(), '--json'],
      env,
    );
    assert.equal(inContainer.code, 0, inContainer.stderr);
    const { id } = JSON.parse(inContainer.stdout) as { id: number };
    const byContainer = await kjobs(['list', '--container', 'acme', '--json'], env);
    assert.deepEqual(
      (JSON.parse(byContainer.stdout) as { requestInstanceId: number }[]).map((job) => job.requestInstanceId),
      [id],
    );
    const byCommand = await kjobs(['list', '--command', 'com.acme.Greet'], env);
    assert.match(byCommand.stdout, new RegExp(`\\n${id} +QUEUED +com\\.acme\\.Greet +- +acme `));

    const withPid = await kjobs(
      [
        'schedule',
        PRINT_OUT,
        '--data',
        '{"processInstanceId": 4242}',
        '--at',
        FAR_FUTURE.toISOString(),
        '--json',
      ],
      env,
    );
    const pidJob = (JSON.parse(withPid.stdout) as { id: number }).id;
    const byProcess = await kjobs(['list', '--process-instance', '4242', '--json'], env);
    assert.deepEqual(
      (JSON.parse(byProcess.stdout) as { requestInstanceId: number }[]).map((job) => job.requestInstanceId),
      [pidJob],
    );

    const paged = await kjobs(
      ['list', '--status', 'QUEUED', '--page', '0', '--page-size', '1', '--json'],
      env,
    );
    assert.equal((JSON.parse(paged.stdout) as unknown[]).length, 1);
    const none = await kjobs(['list', '--key', 'nobody'], env);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, 'No jobs.\n');
    assert.equal((await kjobs(['list', '--key', 'nobody', '--json'], env)).stdout, '[]\n');
  });

  test('requeue: a failed job runs again', async () => {
    const scheduled = await kjobs(['schedule', FAILING, '--data', '{"retries": 0}', '--json'], env);
    const { id } = JSON.parse(scheduled.stdout) as { id: number };
    await eventually(
      () => server.kjobs.get(id),
      (job) => job.status === 'ERROR',
    );
    const requeued = await kjobs(['requeue', String(id)], env);
    assert.equal(requeued.code, 0, requeued.stderr);
    assert.equal(requeued.stdout, `Requeued job ${id}\n`);
    const failedTwice = await eventually(
      () => server.kjobs.get(id),
      (job) => job.status === 'ERROR' && job.executions === 2,
    );
    assert.equal(failedTwice.executions, 2);
    const details = await kjobs(['get', String(id)], env);
    assert.match(details.stdout, /Errors \(2\):\n {2}#\d+ {2}\S+ {2}Throwing error for testing purpose\n/);
  });

  test('get: every value in one column, with response data, progress and parents', async () => {
    const parent = await kjobs(['schedule', 'com.acme.Halfway', '--container', 'acme', '--json'], env);
    const parentId = (JSON.parse(parent.stdout) as { id: number }).id;
    await eventually(
      () => server.kjobs.get(parentId),
      (job) => job.status === 'DONE',
    );
    const child = await kjobs(
      ['schedule', PRINT_OUT, '--data', JSON.stringify({ dependsOn: [parentId] }), '--json'],
      env,
    );
    const childId = (JSON.parse(child.stdout) as { id: number }).id;
    for (const [id, labels] of [
      [parentId, ['Response data', 'Progress', 'Children', 'Errors']],
      [childId, ['Request data', 'Depends on', 'Errors']],
    ] as const) {
      const details = await kjobs(['get', String(id)], env);
      assert.equal(details.code, 0, details.stderr);
      const lines = details.stdout.trimEnd().split('\n');
      for (const label of labels) {
        assert.ok(
          lines.some((line) => line.startsWith(`${label} `)),
          `${label} in:\n${details.stdout}`,
        );
      }
      const columns = new Set(lines.map((line) => /^\S+(?: \S+)* {2,}/.exec(line)?.[0].length));
      assert.deepEqual([...columns], [[...columns][0]], `one column of values:\n${details.stdout}`);
    }
  });

  test('exit codes: 3 not found, 4 wrong state, 5 bad credentials, 1 other failures, 2 usage', async () => {
    const missing = await kjobs(['get', '99999'], env);
    assert.equal(missing.code, 3);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^kjobs: Request with id: 99999 doesn't exist \(HTTP 404\)\n$/);
    const missingJson = await kjobs(['cancel', '99999', '--json'], env);
    assert.equal(missingJson.code, 3);
    assert.deepEqual(Object.keys(JSON.parse(missingJson.stderr) as object), ['error', 'status', 'exitCode']);
    assert.equal((await kjobs(['requeue', '99999'], env)).code, 3);
    assert.equal((await kjobs(['update-data', '99999', '--set', 'a=b'], env)).code, 3);

    const scheduled = await kjobs(['schedule', PRINT_OUT, '--at', FAR_FUTURE.toISOString(), '--json'], env);
    const { id } = JSON.parse(scheduled.stdout) as { id: number };
    assert.equal((await kjobs(['cancel', String(id)], env)).code, 0);
    const again = await kjobs(['cancel', String(id)], env);
    assert.equal(again.code, 4, again.stderr);
    assert.match(again.stderr, /HTTP 409/);
    assert.equal((await kjobs(['requeue', String(id)], env)).code, 4);
    // KIE answers a data update of a finished job with 400, which is a failure like any refused input.
    assert.equal((await kjobs(['update-data', String(id), '--set', 'a=b'], env)).code, 1);
    assert.equal((await kjobs(['schedule', 'no.such.Command'], env)).code, 1);

    const wrong = await kjobs(['get', String(id)], { ...env, KJOBS_PASSWORD: 'nope' });
    assert.equal(wrong.code, 5);
    assert.match(wrong.stderr, /HTTP 401/);
    assert.equal(
      (
        await kjobs([
          'get',
          String(id),
          '--user',
          USER.name,
          '--password',
          USER.password,
          '--url',
          server.baseUrl,
        ])
      ).code,
      0,
    );
    assert.equal((await kjobs(['get', String(id)], { KJOBS_URL: server.baseUrl })).code, 5);

    const unreachable = await kjobs(['get', '1', '--url', 'http://127.0.0.1:1']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /127\.0\.0\.1:1\/kie-server\/services\/rest\/server\/jobs\/1/);

    for (const args of [
      ['get', 'abc'],
      ['get'],
      ['cancel', '-1'],
      ['list', '--status', 'SLEEPING'],
      ['list', '--key', 'a', '--command', 'b'],
      ['list', '--key', '..'],
      ['list', '--page', 'x'],
      ['schedule', PRINT_OUT, '--data', '[1]'],
      ['schedule', PRINT_OUT, '--data', '{bad'],
      ['schedule', PRINT_OUT, '--set', 'novalue'],
      ['schedule', PRINT_OUT, '--at', 'tomorrow'],
      ['update-data', '1'],
      ['get', '1', '--format', 'yaml'],
      ['get', '1', '--url', 'ftp://x'],
      ['get', '1', '--nope'],
      ['nothing'],
    ]) {
      const run = await kjobs(args, env);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    }
  });

  test('status: the jobs of each status and what is paused; --json; exit codes', async () => {
    await server.kjobs.pause({ kind: 'command', name: PRINT_OUT });
    try {
      const asJson = await cli(['status', '--json'], env);
      assert.equal(asJson.code, 0, asJson.stderr);
      const status = JSON.parse(asJson.stdout) as {
        counts: Record<string, number>;
        total: number;
        paused: { kind: string; name: string; pausedAt: string }[];
      };
      const counts = await server.kjobs.countByStatus();
      assert.deepEqual(status.counts, counts);
      assert.equal(
        status.total,
        Object.values(counts).reduce((sum, count) => sum + count, 0),
      );
      assert.deepEqual(
        status.paused.map((target) => [target.kind, target.name]),
        [['command', PRINT_OUT]],
      );
      const human = await cli(['status'], env);
      assert.equal(human.code, 0, human.stderr);
      const lines = human.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^STATUS +JOBS$/);
      for (const [name, count] of Object.entries(counts)) {
        assert.ok(lines.includes(`${name.padEnd(9)}  ${count}`), `${name} ${count} in:\n${human.stdout}`);
      }
      assert.match(
        lines.at(-1) ?? '',
        new RegExp(`^Paused: command ${PRINT_OUT.replace(/\./g, '\\.')} \\(since `),
      );
    } finally {
      await server.kjobs.resume({ kind: 'command', name: PRINT_OUT });
    }
    assert.match((await cli(['status'], env)).stdout, /\nNothing is paused\.\n$/);
    assert.equal((await cli(['status'], { KJOBS_URL: server.baseUrl })).code, 5);
    assert.equal((await cli(['status', '--url', 'http://127.0.0.1:1'])).code, 1);
    assert.equal((await cli(['status', '--nope'], env)).code, 2);
  });

  test('requeue with a filter: the ERROR jobs it matches at once', async () => {
    const ids: number[] = [];
    for (let n = 0; n < 2; n++) {
      const scheduled = await kjobs(
        ['schedule', FAILING, '--key', 'bulk-requeue', '--data', '{"retries": 0}', '--json'],
        env,
      );
      ids.push((JSON.parse(scheduled.stdout) as { id: number }).id);
    }
    for (const id of ids) {
      await eventually(
        () => server.kjobs.get(id),
        (job) => job.status === 'ERROR',
      );
    }
    const requeued = await kjobs(['requeue', '--key', 'bulk-requeue', '--status', 'ERROR'], env);
    assert.equal(requeued.code, 0, requeued.stderr);
    assert.equal(
      requeued.stdout,
      `Requeued 2 jobs of 2 matched: ${[...ids].sort((a, b) => a - b).join(', ')}\n`,
    );
    for (const id of ids) {
      await eventually(
        () => server.kjobs.get(id),
        (job) => job.status === 'ERROR' && job.executions === 2,
      );
    }
    // ERROR unless --status says otherwise.
    const asJson = await kjobs(['requeue', '--key', 'bulk-requeue', '--json'], env);
    assert.equal(asJson.code, 0, asJson.stderr);
    const result = JSON.parse(asJson.stdout) as { matched: number; changed: number[] };
    assert.deepEqual([...result.changed].sort(), [...ids].sort());
    assert.equal((await kjobs(['requeue', '--key', 'nobody'], env)).stdout, 'No jobs matched.\n');
    for (const args of [
      ['requeue'],
      ['requeue', '1', '--status', 'ERROR'],
      ['requeue', '--status', 'SLEEPING'],
    ]) {
      assert.equal((await kjobs(args, env)).code, 2, args.join(' '));
    }
  });

  test('colours: statuses coloured on a terminal, never with NO_COLOR, --json or in a pipe', async (t) => {
    if (!existsSync('/usr/bin/script')) {
      t.skip('util-linux script (a terminal for the CLI) is absent');
      return;
    }
    const scheduled = await kjobs(
      ['schedule', FAILING, '--key', 'colours', '--data', '{"retries": 0}', '--json'],
      env,
    );
    const { id } = JSON.parse(scheduled.stdout) as { id: number };
    await eventually(
      () => server.kjobs.get(id),
      (job) => job.status === 'ERROR',
    );
    const escape = String.fromCharCode(27);
    const red = `${escape}[31mERROR${escape}[0m`;
    const list = ['jobs', 'list', '--key', 'colours'];
    assert.ok((await onTerminal(list, env)).includes(red));
    const details = (await onTerminal(['jobs', 'get', String(id)], env)).split('\n');
    assert.ok(
      details.some((line) => /^Status +/.test(line) && line.trimEnd().endsWith(red)),
      details.join('\n'),
    );
    assert.ok((await onTerminal(['status'], env)).includes(red));
    assert.ok(!(await onTerminal(list, { ...env, NO_COLOR: '1' })).includes(escape));
    assert.ok(!(await onTerminal([...list, '--json'], env)).includes(escape));
    const piped = await cli(list, env);
    assert.match(piped.stdout, /ERROR/);
    assert.ok(!piped.stdout.includes(escape));
  });

  test('--data @FILE and a bare origin as --url', async () => {
    const file = join(folder, 'data.json');
    writeFileSync(file, JSON.stringify({ businessKey: 'from-file', nested: { a: [1, 2] } }));
    const origin = new URL(server.baseUrl).origin;
    const scheduled = await kjobs(
      [
        'schedule',
        PRINT_OUT,
        '--data',
        `@${file}`,
        '--at',
        FAR_FUTURE.toISOString(),
        '--json',
        '--url',
        origin,
      ],
      env,
    );
    assert.equal(scheduled.code, 0, scheduled.stderr);
    const { id } = JSON.parse(scheduled.stdout) as { id: number };
    const job = await server.kjobs.get(id, { withData: true });
    assert.deepEqual(job.requestData, { businessKey: 'from-file', nested: { a: [1, 2] } });
    assert.equal((await kjobs(['schedule', PRINT_OUT, '--data', `@${file}.missing`], env)).code, 2);
  });

  test('kjobs containers: a table, --json, one container, 3 for an unknown one', async () => {
    for (const format of ['json', 'xml']) {
      const listed = await cli(['containers', '--format', format], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(
        listed.stdout,
        'CONTAINER  STATUS   RELEASE  COMMANDS\nacme       STARTED  -        com.acme.Greet, com.acme.Halfway\n',
      );
    }
    const asJson = await cli(['containers', '--json'], env);
    assert.equal(asJson.code, 0, asJson.stderr);
    const [container] = JSON.parse(asJson.stdout) as { containerId: string; commands: string[] }[];
    assert.equal(container?.containerId, 'acme');
    assert.deepEqual(container?.commands, ['com.acme.Greet', 'com.acme.Halfway']);
    const one = await cli(['containers', 'acme', '--json'], env);
    assert.equal(JSON.parse(one.stdout).status, 'STARTED');
    const unknown = await cli(['containers', 'nope'], env);
    assert.equal(unknown.code, 3);
    assert.equal(unknown.stderr, 'kjobs: Container nope is not instantiated. (HTTP 404)\n');
    const anonymous = await cli(['containers'], { KJOBS_URL: server.baseUrl });
    assert.equal(anonymous.code, 5);
  });
});
