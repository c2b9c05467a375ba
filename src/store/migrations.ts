import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A numbered SQL migration file, e.g. `001_jobs.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads the numbered `.sql` files of a folder, in order. */
export function readMigrations(folder: string): Migration[] {
  return readdirSync(folder)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .map((file) => ({
      version: Number.parseInt(file, 10),
      name: file,
      sql: readFileSync(join(folder, file), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}
