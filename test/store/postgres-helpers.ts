/**
 * PostgreSQL for the tests: a real server, one throwaway schema per store. scripts/run-tests.mjs (`npm test`) sets the
 * URL: the server on this machine, or one it provisioned for the run, or none (then the PostgreSQL tests skip).
 */
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import pg from 'pg';
import { CannotProvision, postgresRequired, provisionPostgres } from '../../scripts/test-postgres.mjs';
import type { ClaimPositionsOptions } from '../../src/store/postgres/claim-positions.js';
import { PostgresJobStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';

export const POSTGRES_URL = process.env.KJOBS_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** The `skip` option of every PostgreSQL test: set when the run found no PostgreSQL (its last line says why). */
export const POSTGRES_SKIP: string | false =
  process.env.KJOBS_TEST_POSTGRES_SKIP === '1' && 'no PostgreSQL for the tests: the end of the run says why';

/** A PostgreSQL server of one test's own, which the test may stop and start (see privatePostgres). */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/test` */
  url: string;
  /** Stops it fast (connections are cut), or starts it again; resolves once it answers (start) or is gone (stop). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL for one test (scripts/test-postgres.mjs: this machine's server binaries, a free port,
 * removed when the test process exits), so that a test stopping and starting PostgreSQL disturbs no other test
 * running at the same time. Skips the test (`t.skip`, answering undefined) when that is not possible here, unless
 * PostgreSQL is required (CI=true), where it throws.
 */
export async function privatePostgres(t: {
  skip(message: string): void;
}): Promise<PrivatePostgres | undefined> {
  let server: Awaited<ReturnType<typeof provisionPostgres>>;
  try {
    server = await provisionPostgres(POSTGRES_URL);
  } catch (error) {
    if (!(error instanceof CannotProvision) || postgresRequired()) throw error;
    t.skip(`needs a PostgreSQL of its own, and ${error.message}`);
    return undefined;
  }
  const { pgCtl, dataDir, logFile, uid, gid } = server.control;
  const control = (action: 'start' | 'stop') =>
    execFileSync(
      pgCtl,
      ['-D', dataDir, '-l', logFile, '-w', ...(action === 'stop' ? ['-m', 'fast'] : []), action],
      {
        stdio: 'ignore',
        cwd: dirname(dataDir),
        uid,
        gid,
      },
    );
  return {
    url: server.url,
    stop: async () => {
      control('stop');
    },
    start: async () => {
      if (await postgresReady(server.url)) return;
      control('start');
      for (let i = 0; i < 300 && !(await postgresReady(server.url)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
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

export async function dropSchema(schema: string, url = POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
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
    await dropSchema(schema, options.connectionString);
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
