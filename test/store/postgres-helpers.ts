/** PostgreSQL for the tests: the real server on this machine, one throwaway schema per store. */
import pg from 'pg';
import { PostgresJobStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';

export const POSTGRES_URL = process.env.KJOBS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
