/**
 * `npm test` (scripts/run-tests.mjs) on a machine where no PostgreSQL answers at the tests' URL (an unused port
 * here; the machine's own server is never stopped): it provisions a throwaway server and removes it after the run,
 * also after Ctrl-C; without one it skips the PostgreSQL tests with one line, or fails under CI=true or
 * KJOBS_REQUIRE_POSTGRES=1; a server that answers but refuses fails the run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { eventually, freePort } from '../helpers.js';
import { POSTGRES_SKIP, POSTGRES_URL, postgresReady } from '../store/postgres-helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A small PostgreSQL test file that also stops and starts the server mid-run. */
const POSTGRES_TEST = 'store/postgres-outage';
/** What the runner says when it provisioned: the folder and the URL of the server. */
const PROVISIONED = /started .* in (\S+) .*at (postgres:\/\/\S+), removed after the run/;
const CANNOT_PROVISION = /no PostgreSQL server binaries/;

interface Run {
  code: number | null;
  output: string;
}

/** Runs `npm test -- <filters>` with the environment of a machine whose PostgreSQL is at `env`'s URL. */
function runTests(
  filters: string[],
  env: Record<string, string>,
  whileRunning?: (child: ReturnType<typeof spawn>, output: () => string) => Promise<void>,
): Promise<Run> {
  const inherited = { ...process.env };
  // What the outer run set for its own PostgreSQL, and what steers the runner: each test sets its own.
  for (const name of Object.keys(inherited)) {
    if (/^KJOBS_(TEST_|REQUIRE_POSTGRES)/.test(name) || name === 'CI') delete inherited[name];
  }
  delete inherited.NODE_TEST_CONTEXT; // else node --test in the child believes it runs inside this test
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...filters], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return (async () => {
    await whileRunning?.(child, () => output);
    return { code: await exited, output };
  })();
}

async function unusedUrl(): Promise<string> {
  return `postgres://postgres@127.0.0.1:${await freePort()}/test`;
}

const answers = (url: string) => postgresReady(url, 2000);

const lines = (output: string, pattern: RegExp) => output.split('\n').filter((line) => pattern.test(line));

describe('npm test without a PostgreSQL at the tests URL', { timeout: 120_000 }, () => {
  it('provisions a throwaway PostgreSQL, runs the PostgreSQL tests (restarts included) on it, and removes it', async (t) => {
    const url = await unusedUrl();
    const run = await runTests([POSTGRES_TEST], { KJOBS_TEST_POSTGRES_URL: url });
    if (CANNOT_PROVISION.test(run.output)) return t.skip('no PostgreSQL binaries on this machine');
    assert.equal(run.code, 0, run.output);
    const [, folder, serverUrl] =
      PROVISIONED.exec(run.output) ?? assert.fail(`not provisioned:\n${run.output}`);
    assert.match(run.output, new RegExp(`nothing answers at ${url}`));
    assert.notEqual(serverUrl, url);
    // The outage test ran (on a server of its own, provisioned beside the run's) and passed.
    assert.match(run.output, /^# pass 1$/m, run.output);
    assert.match(run.output, /^# skipped 0$/m, run.output);
    assert.equal(existsSync(folder!), false, `${folder} was removed`);
    assert.equal(await answers(serverUrl!), false, 'the provisioned server was stopped');
  });

  it('removes the provisioned PostgreSQL when the run is stopped with Ctrl-C', async (t) => {
    let provisioned: RegExpExecArray | null = null;
    const run = await runTests(
      [POSTGRES_TEST],
      { KJOBS_TEST_POSTGRES_URL: await unusedUrl() },
      async (child, output) => {
        provisioned = await eventually(
          () => PROVISIONED.exec(output()),
          (match) => match !== null || CANNOT_PROVISION.test(output()) || child.exitCode !== null,
          30_000,
        );
        if (!provisioned) return;
        await eventually(
          () => output(),
          (text) => text.includes('TAP version'),
          30_000,
        );
        child.kill('SIGINT');
      },
    );
    if (CANNOT_PROVISION.test(run.output)) return t.skip('no PostgreSQL binaries on this machine');
    assert.ok(provisioned, run.output);
    const [, folder, serverUrl] = provisioned as RegExpExecArray;
    assert.notEqual(run.code, 0, 'a stopped run does not pass');
    assert.equal(existsSync(folder!), false, `${folder} was removed`);
    assert.equal(await answers(serverUrl!), false, 'the provisioned server was stopped');
  });

  it('without a server to provision, skips the PostgreSQL tests with one line saying why and how, and passes', async () => {
    const url = await unusedUrl();
    const run = await runTests([POSTGRES_TEST], {
      KJOBS_TEST_POSTGRES_URL: url,
      KJOBS_TEST_PROVISION_POSTGRES: '0',
    });
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^# skipped 1$/m, run.output);
    assert.match(run.output, /^# fail 0$/m, run.output);
    // One line says why and how (each skipped test only points at it).
    assert.deepEqual(lines(run.output, /nothing answers|KJOBS_TEST_POSTGRES_URL/), [
      `PostgreSQL tests skipped: nothing answers at ${url} and provisioning a throwaway one is off ` +
        '(KJOBS_TEST_PROVISION_POSTGRES=0). To run them, start PostgreSQL there, or point the tests at a server ' +
        'with KJOBS_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DATABASE',
    ]);
  });

  for (const [name, value] of [
    ['CI', 'true'],
    ['KJOBS_REQUIRE_POSTGRES', '1'],
  ] as const) {
    it(`with ${name}=${value}, a missing PostgreSQL fails the run with that line, before any test`, async () => {
      const url = await unusedUrl();
      const run = await runTests([POSTGRES_TEST], {
        KJOBS_TEST_POSTGRES_URL: url,
        KJOBS_TEST_PROVISION_POSTGRES: '0',
        [name]: value,
      });
      assert.equal(run.code, 1, run.output);
      assert.equal(
        run.output.trim(),
        `PostgreSQL tests cannot run and are required (${name}=${value}): nothing answers at ${url} and ` +
          'provisioning a throwaway one is off (KJOBS_TEST_PROVISION_POSTGRES=0). To run them, start PostgreSQL ' +
          'there, or point the tests at a server with KJOBS_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DATABASE',
      );
    });
  }

  it(
    'a server that answers but refuses (no such database) fails the run with one line saying so',
    { skip: POSTGRES_SKIP },
    async () => {
      const url = new URL(POSTGRES_URL);
      url.pathname = '/kjobs_no_such_database';
      const run = await runTests([POSTGRES_TEST], { KJOBS_TEST_POSTGRES_URL: url.href });
      assert.equal(run.code, 1, run.output);
      assert.match(
        run.output.trim(),
        /^PostgreSQL at \S+ refused the tests' connection \(database "kjobs_no_such_database" does not exist\): .*createdb .* kjobs_no_such_database\b.*KJOBS_TEST_POSTGRES_URL=/,
      );
      assert.equal(run.output.trim().split('\n').length, 1, run.output);
    },
  );
});
