// Runs every test/**/*.test.ts with node's test runner (Node 20's --test does not expand globs itself).
// Extra arguments narrow the run to files whose path contains one of them: `npm test -- store executor`.
// PostgreSQL: the server at KJOBS_TEST_POSTGRES_URL (default 127.0.0.1:5432/test) when it answers; otherwise a
// throwaway one provisioned for the run and removed after it (scripts/test-postgres.mjs); otherwise the PostgreSQL
// tests are skipped with one line saying why, or the run fails under CI=true or KJOBS_REQUIRE_POSTGRES=1.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, sep } from 'node:path';
import { setTimeout } from 'node:timers';
import {
  CannotProvision,
  DEFAULT_URL,
  missingLine,
  postgresRequired,
  probe,
  provisionPostgres,
  refusedLine,
} from './test-postgres.mjs';

function find(folder) {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return entry === 'fixtures' ? [] : find(path);
    return entry.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** Sets up PostgreSQL for the run: answers the tests' environment and the line to print at the end. */
async function postgresForRun() {
  const env = { ...process.env };
  const none = { env, endLine: undefined };
  if (!files.some((file) => readFileSync(file, 'utf8').includes('postgres-helpers'))) return none;
  const url = env.KJOBS_TEST_POSTGRES_URL || DEFAULT_URL;
  const answer = await probe(url);
  if (answer.state === 'ready') return none;
  if (answer.state === 'refused') {
    console.error(refusedLine(url, answer.reason));
    process.exit(1);
  }
  let why;
  if (env.KJOBS_TEST_PROVISION_POSTGRES === '0') {
    why = 'provisioning a throwaway one is off (KJOBS_TEST_PROVISION_POSTGRES=0)';
  } else {
    try {
      const server = await provisionPostgres(url);
      console.log(
        `PostgreSQL for the tests: nothing answers at ${url}; started ${server.description} at ${server.url}, removed after the run`,
      );
      env.KJOBS_TEST_POSTGRES_URL = server.url;
      return { env, endLine: undefined };
    } catch (error) {
      if (!(error instanceof CannotProvision)) throw error;
      why = error.message;
    }
  }
  const required = postgresRequired(env);
  const line = missingLine(url, why, { required });
  if (required) {
    console.error(line);
    process.exit(1);
  }
  env.KJOBS_TEST_POSTGRES_SKIP = '1';
  return { env, endLine: line };
}

// A stop signal (Ctrl-C) ends the tests, then this process, whose exit removes a provisioned PostgreSQL.
let child;
let stoppedBy;
function signalTests(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The tests have ended already.
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stoppedBy = signal;
    if (!child) process.exit(1);
    signalTests(signal);
    setTimeout(() => signalTests('SIGKILL'), 10_000).unref();
  });
}

// The Java worker's jar is built once, before its test files run side by side (each would otherwise build it, and
// one could replace it under the other). Without a JDK the build says so, and those tests skip (or fail under CI).
if (files.some((file) => file.includes(`${sep}workers${sep}`))) {
  spawnSync(process.execPath, [join('scripts', 'build-java.mjs'), '--if-changed'], { stdio: 'inherit' });
}

const postgres = await postgresForRun();
// The tests run in their own process group, so that a stop signal reaches all of them (and the services they
// started) before PostgreSQL is removed.
// Test files run side by side (each has its own temporary files, PostgreSQL schemas and ports, and the tests that
// stop PostgreSQL start a server of their own): KJOBS_TEST_CONCURRENCY files at once, by default two per core.
const concurrency = Number(process.env.KJOBS_TEST_CONCURRENCY) || Math.max(2, 2 * availableParallelism());
child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: postgres.env,
  detached: true,
});
const [code, signal] = await new Promise((resolve) => child.on('exit', (...ended) => resolve(ended)));
if (stoppedBy) signalTests('SIGKILL'); // whatever the tests left running
if (postgres.endLine) console.log(postgres.endLine);
process.exit(stoppedBy || signal ? 1 : (code ?? 1));
