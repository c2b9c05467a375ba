/**
 * The single place that picks a store from configuration: a file path (or `sqlite:PATH`) opens the embedded
 * SQLite store; a `postgres://` (or `postgresql://`) URL opens the PostgreSQL store (its tables in schema `kjobs`,
 * or in the one a `schema` URL parameter names: `postgres://host/db?schema=jobs_eu`).
 */
import type { Logger } from 'pino';
import type { JobStore } from './job-store.js';
import { PostgresJobStore } from './postgres/postgres-store.js';
import { SqliteJobStore } from './sqlite/sqlite-store.js';

/** Opens (but does not migrate) the store `database` names. */
export function openStore(database: string, options: { logger?: Logger } = {}): JobStore {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    const url = new URL(database);
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return new PostgresJobStore({ connectionString: url.toString(), schema, logger: options.logger });
  }
  const path = database.replace(/^sqlite:(\/\/)?/i, '');
  if (!path) throw new Error('The database path is empty');
  return new SqliteJobStore({ path, logger: options.logger });
}
