/**
 * The numbered SQL migrations of a store, and the guard both stores run before applying them: a migration whose file
 * changed after it was applied is refused (a change is a new migration), and so is a database that a newer kjobs
 * migrated with a migration marked breaking for older code (`-- kjobs: breaking` in its first lines). Newer
 * migrations that are not breaking let older nodes run on (rolling upgrades of several nodes on one PostgreSQL).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A numbered SQL migration file, e.g. `001_jobs.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 of the file's text (line endings as LF), hex. */
  checksum: string;
  /** Older kjobs cannot run on a database that has it (`-- kjobs: breaking` near the top of the file). */
  breaking: boolean;
}

/** A migration as a database recorded it. Databases of earlier releases recorded no checksum, flag nor version. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string | null;
  breaking: boolean | null;
  kjobsVersion: string | null;
}

/** A database this kjobs must not run on; the message says why and what to do. */
export class MigrationGuardError extends Error {
  override name = 'MigrationGuardError';
}

/** Reads the numbered `.sql` files of a folder, in order. */
export function readMigrations(folder: string): Migration[] {
  return readdirSync(folder)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .map((file) => {
      const sql = readFileSync(join(folder, file), 'utf8');
      return {
        version: Number.parseInt(file, 10),
        name: file,
        sql,
        checksum: checksumOf(sql),
        breaking: /^--\s*kjobs:\s*breaking\b/m.test(sql.split('\n').slice(0, 10).join('\n')),
      };
    })
    .sort((a, b) => a.version - b.version);
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/**
 * Checks a database's applied migrations against this kjobs' own: throws MigrationGuardError for a migration whose
 * file changed since it was applied, and for a breaking migration newer than this kjobs knows.
 */
export function guardMigrations(
  applied: readonly AppliedMigration[],
  known: readonly Migration[],
  kjobsVersion: string,
): void {
  const byVersion = new Map(known.map((migration) => [migration.version, migration]));
  const newest = Math.max(0, ...known.map((migration) => migration.version));
  for (const row of applied) {
    const mine = byVersion.get(row.version);
    if (mine && row.checksum !== null && row.checksum !== mine.checksum) {
      throw new MigrationGuardError(
        `migration ${mine.name} was changed after it was applied to this database (its checksum differs): ` +
          'restore the file as it was; a change to the schema is a new numbered migration',
      );
    }
    if (!mine && row.version > newest && row.breaking === true) {
      throw new MigrationGuardError(
        `this database was migrated by kjobs ${row.kjobsVersion ?? 'of a newer release'} (migration ${row.name}), ` +
          `which older kjobs cannot run on; this is kjobs ${kjobsVersion}: run kjobs ` +
          `${row.kjobsVersion ?? 'of that release'} or later on it`,
      );
    }
  }
}
