// PostgreSQL for `npm test`: the server at the tests' URL when one answers there, otherwise a throwaway one started
// from this machine's PostgreSQL binaries for the run (and removed after it), otherwise none: the runner then skips
// the PostgreSQL tests with one line saying why (or fails the run under CI=true or KJOBS_REQUIRE_POSTGRES=1).
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import pg from 'pg';

export const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const URL_HINT = 'KJOBS_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DATABASE';

/** Network errors: nothing answers at the URL (as opposed to a server that answers and refuses). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

/**
 * What the tests' URL answers: `ready`, `unreachable` (nothing listens), or `refused` with the server's reason
 * (a wrong database, user or password).
 */
export async function probe(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return { state: 'ready' };
  } catch (error) {
    await client.end().catch(() => undefined);
    const code = error?.code;
    if (UNREACHABLE.has(code) || /timeout/i.test(error?.message ?? '')) return { state: 'unreachable' };
    return { state: 'refused', reason: error?.message ?? String(error) };
  }
}

/** The line a run prints when the tests' URL answers but refuses the connection; the run fails. */
export function refusedLine(url, reason) {
  const { hostname, port, username, pathname } = new URL(url);
  const createdb = `createdb -h ${hostname} -p ${port || 5432} -U ${username || 'postgres'} ${pathname.slice(1)}`;
  return (
    `PostgreSQL at ${url} refused the tests' connection (${reason}): create what is missing there ` +
    `(a missing database: ${createdb}), or point the tests at another server with ${URL_HINT}`
  );
}

/** The one line of a run without PostgreSQL: why, and how to run the PostgreSQL tests. */
export function missingLine(url, why, { required }) {
  const what = required
    ? `PostgreSQL tests cannot run and are required (${requiredBy()})`
    : 'PostgreSQL tests skipped';
  return (
    `${what}: nothing answers at ${url} and ${why}. To run them, start PostgreSQL there, or point the tests at a ` +
    `server with ${URL_HINT}`
  );
}

/** Whether this run must fail rather than skip the PostgreSQL tests. */
export function postgresRequired(env = process.env) {
  return env.CI === 'true' || env.KJOBS_REQUIRE_POSTGRES === '1';
}

function requiredBy() {
  return process.env.KJOBS_REQUIRE_POSTGRES === '1' ? 'KJOBS_REQUIRE_POSTGRES=1' : 'CI=true';
}

/** An error whose message completes "nothing answers at URL and ...". */
export class CannotProvision extends Error {}

const hasServerBinaries = (folder) =>
  ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(join(folder, name)));

/** Versions newest first: /usr/lib/postgresql/17/bin before .../15/bin. */
function newestFirst(parent, toBin) {
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .map((entry) => ({ entry, version: Number.parseFloat(entry.replace(/^\D+/, '')) || 0 }))
    .sort((a, b) => b.version - a.version)
    .map(({ entry }) => toBin(join(parent, entry)));
}

/** The folder with initdb, pg_ctl and postgres: KJOBS_TEST_POSTGRES_BIN, the PATH, or where distributions put them. */
export function findServerBinaries(env = process.env) {
  if (env.KJOBS_TEST_POSTGRES_BIN) {
    if (hasServerBinaries(env.KJOBS_TEST_POSTGRES_BIN)) return env.KJOBS_TEST_POSTGRES_BIN;
    throw new CannotProvision(
      `KJOBS_TEST_POSTGRES_BIN=${env.KJOBS_TEST_POSTGRES_BIN} has no initdb, pg_ctl and postgres`,
    );
  }
  const candidates = [
    ...(env.PATH ?? '').split(delimiter).filter(Boolean),
    ...newestFirst('/usr/lib/postgresql', (folder) => join(folder, 'bin')), // Debian, Ubuntu
    ...newestFirst('/usr', (folder) => join(folder, 'bin')).filter((bin) => bin.includes('/usr/pgsql-')), // RHEL
    '/usr/local/pgsql/bin',
  ];
  const found = candidates.find(hasServerBinaries);
  if (found) return found;
  throw new CannotProvision(
    'no PostgreSQL server binaries (initdb, pg_ctl) were found to start a throwaway one ' +
      '(install PostgreSQL, or set KJOBS_TEST_POSTGRES_BIN to their folder)',
  );
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user, or else `nobody`. */
function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length >= 4);
  const user = users.find(([name]) => name === 'postgres') ?? users.find(([name]) => name === 'nobody');
  if (!user)
    throw new CannotProvision('running as root, with neither a postgres nor a nobody user to run it as');
  return { name: user[0], uid: Number(user[2]), gid: Number(user[3]) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL program as the server's user; its output goes into the error when it fails. */
function runAs(user, program, args, cwd) {
  try {
    return execFileSync(program, args, {
      cwd,
      uid: user?.uid,
      gid: user?.gid,
      stdio: 'pipe',
      encoding: 'utf8',
    });
  } catch (error) {
    const output = `${error.stderr ?? ''}${error.stdout ?? ''}`.trim().split('\n').slice(-3).join(' ');
    throw new CannotProvision(`${basename(program)} failed: ${output || error.message}`);
  }
}

/**
 * Starts a throwaway PostgreSQL in a new temporary folder on a free port of 127.0.0.1 (trust auth, user
 * `postgres`, a database named as in `url`), removed when this process exits. Answers its URL, `control` (what the
 * tests need to stop and start it, see test/store/postgres-helpers.ts) and a description.
 * Throws CannotProvision when that is not possible here.
 */
export async function provisionPostgres(url = DEFAULT_URL) {
  const bin = findServerBinaries();
  const user = serverUser();
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-pg-'));
  const dataDir = join(folder, 'data');
  const logFile = join(folder, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  let started = false;
  const remove = () => {
    if (started) {
      try {
        runAs(user, pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], folder);
      } catch {
        // Already stopped (a test stopped it, or it died): the folder goes all the same.
      }
      started = false;
    }
    rmSync(folder, { recursive: true, force: true });
  };
  // However this process ends (tests done, failed, Ctrl-C), the server and its folder go with it.
  process.on('exit', remove);
  try {
    if (user) chownSync(folder, user.uid, user.gid);
    const port = await freePort();
    runAs(
      user,
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      folder,
    );
    // A throwaway server: TCP on loopback only, no Unix socket (its folder may not be writable), no fsync.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `\n# kjobs tests (scripts/test-postgres.mjs)\nport = ${port}\nlisten_addresses = '127.0.0.1'\n` +
        `unix_socket_directories = ''\nfsync = off\nmax_connections = 200\n`,
    );
    const control = { pgCtl, dataDir, logFile, uid: user?.uid, gid: user?.gid };
    runAs(user, pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start'], folder);
    started = true;

    const database = decodeURIComponent(new URL(url).pathname.slice(1)) || 'test';
    const serverUrl = `postgres://postgres@127.0.0.1:${port}`;
    const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
    await admin.connect();
    try {
      if (database !== 'postgres') await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    const version = runAs(user, join(bin, 'postgres'), ['--version'], folder).trim();
    return {
      url: `${serverUrl}/${encodeURIComponent(database)}`,
      control,
      folder,
      description: `${version} in ${folder}${user ? ` as ${user.name}` : ''}`,
    };
  } catch (error) {
    remove();
    process.off('exit', remove);
    if (error instanceof CannotProvision) throw error;
    throw new CannotProvision(`starting a throwaway PostgreSQL failed: ${error?.message ?? error}`);
  }
}
