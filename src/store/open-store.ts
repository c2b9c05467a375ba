/**
 * The single place that picks a store from configuration: a file path (or `sqlite:PATH`) opens the embedded
 * SQLite store; a `postgres://` (or `postgresql://`) URL is meant for the PostgreSQL store.
 */
import type { JobStore } from './job-store.js';
import { SqliteJobStore } from './sqlite/sqlite-store.js';

/** Opens (but does not migrate) the store `database` names. */
export async function openStore(database: string): Promise<JobStore> {
  if (/^postgres(ql)?:\/\//i.test(database)) {
    throw new Error(
      'PostgreSQL stores are not available in this build yet: use a SQLite file path for --db / KJOBS_DATABASE_URL',
    );
  }
  const path = database.replace(/^sqlite:(\/\/)?/i, '');
  if (!path) throw new Error('The database path is empty');
  return new SqliteJobStore({ path });
}
