/**
 * PostgreSQL for the tests: a real server, one throwaway schema per store. scripts/run-tests.mjs (`npm test`) sets the
 * URL: the server on this machine, or one it provisioned for the run, or none (then the PostgreSQL tests skip).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import type { ClaimPositionsOptions } from '../../src/store/postgres/claim-positions.js';
import { PostgresJobStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';

export const POSTGRES_URL = process.env.KJOBS_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** The `skip` option of every PostgreSQL test: set when the run found no PostgreSQL (its last line says why). */
export const POSTGRES_SKIP: string | false =
  process.env.KJOBS_TEST_POSTGRES_SKIP === '1' && 'no PostgreSQL for the tests: the end of the run says why';

/** Set by scripts/run-tests.mjs when it provisioned the server (scripts/test-postgres.mjs): how to stop and start it. */
interface ProvisionedServer {
  pgCtl: string;
  dataDir: string;
  logFile: string;
  uid?: number;
  gid?: number;
}
const provisioned: ProvisionedServer | undefined = process.env.KJOBS_TEST_POSTGRES_SERVER
  ? (JSON.parse(process.env.KJOBS_TEST_POSTGRES_SERVER) as ProvisionedServer)
  : undefined;

/**
 * Stops (fast: connections are cut) or starts the tests' PostgreSQL: the run's provisioned server, or else this
 * machine's Debian cluster. Only for tests gated by KJOBS_TEST_RESTART_POSTGRES=1.
 */
export function postgresServer(action: 'start' | 'stop'): void {
  const stopMode = action === 'stop' ? ['-m', 'fast'] : [];
  if (provisioned) {
    const { pgCtl, dataDir, logFile, uid, gid } = provisioned;
    execFileSync(pgCtl, ['-D', dataDir, '-l', logFile, '-w', ...stopMode, action], {
      stdio: 'ignore',
      cwd: dirname(dataDir),
      uid,
      gid,
    });
    return;
  }
  const version = readdirSync('/etc/postgresql')[0]!;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action, ...stopMode], {
    stdio: 'ignore',
  });
}

/** Whether the tests' PostgreSQL (or the one at `url`) accepts connections. */
export async function postgresReady(url = POSTGRES_URL, timeoutMs = 1000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let count = 0;

/** A schema name no other test (or test process) uses. */
export function freshSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${count++}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A migrated store in a fresh schema; closing it drops the schema. */
export async function openTestStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresJobStore> {
  const schema = options.schema ?? freshSchema();
  const store = new PostgresJobStore({ connectionString: POSTGRES_URL, poolSize: 4, ...options, schema });
  await store.migrate();
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await dropSchema(schema);
  };
  return store;
}

/** Positions looked up before every claim, and used however fast the look was. */
export const ALWAYS_FROM_POSITIONS: ClaimPositionsOptions = {
  slowClaimMs: 0,
  slowLookMs: 0,
  lookEvery: 0,
  minLookMs: 0,
  maxLookMs: 0,
  waitForLooks: true,
};
