/**
 * The migration guard (issue 28), on SQLite and PostgreSQL: a database of an earlier release (its migrations table
 * without checksums) gets them on its first start; a migration whose file changed after it was applied is refused;
 * a database a newer kjobs migrated is refused only when a migration newer than this kjobs is marked breaking, so
 * that rolling upgrades of several nodes keep working.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MigrationGuardError } from '../../src/store/migrations.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { KJOBS_VERSION } from '../../src/version.js';
import { tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from './postgres-helpers.js';

interface Subject {
  name: string;
  skip: string | false;
  /** A fresh place; `migrate` opens a store on it, migrates and closes it; `sql` runs statements on it. */
  open(): Promise<{ migrate(): Promise<void>; sql(text: string): Promise<Record<string, unknown>[]> }>;
}

const folder = tempFolder('kjobs-migration-guard-');
let n = 0;
const SUBJECTS: Subject[] = [
  {
    name: 'SQLite',
    skip: false,
    async open() {
      const path = join(folder, `guard-${n++}.db`);
      return {
        migrate: async () => {
          const store = new SqliteJobStore({ path });
          try {
            await store.migrate();
          } finally {
            await store.close();
          }
        },
        sql: async (text) => {
          const db = new Database(path);
          try {
            return /^\s*select/i.test(text)
              ? (db.prepare(text).all() as Record<string, unknown>[])
              : (db.exec(text), []);
          } finally {
            db.close();
          }
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: POSTGRES_SKIP,
    async open() {
      const schema = freshSchema('guard');
      after(() => dropSchema(schema));
      return {
        migrate: async () => {
          const store = new PostgresJobStore({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
          try {
            await store.migrate();
          } finally {
            await store.close();
          }
        },
        sql: async (text) => {
          const client = new pg.Client({ connectionString: POSTGRES_URL });
          await client.connect();
          try {
            await client.query(`SET search_path TO "${schema}"`);
            return (await client.query(text)).rows as Record<string, unknown>[];
          } finally {
            await client.end();
          }
        },
      };
    },
  },
];

for (const subject of SUBJECTS) {
  describe(`migration guard (${subject.name})`, { skip: subject.skip }, () => {
    it('records a checksum, the breaking flag and the kjobs version of each migration it applies', async () => {
      const place = await subject.open();
      await place.migrate();
      const rows = await place.sql(
        'SELECT version, name, checksum, breaking, kjobs_version FROM kjobs_migrations ORDER BY version',
      );
      assert.ok(rows.length >= 4);
      for (const row of rows) {
        assert.match(String(row.checksum), /^[0-9a-f]{64}$/, String(row.name));
        assert.equal(row.kjobs_version, KJOBS_VERSION);
      }
      const breaking = rows
        .filter((row) => row.breaking === true || row.breaking === 1)
        .map((row) => row.name);
      assert.deepEqual(breaking, ['008_dependency_release.sql']);
      await place.migrate(); // and starts again on it
    });

    it("fills in the checksums of an earlier release's database on its first start", async () => {
      const place = await subject.open();
      await place.migrate();
      await place.sql('UPDATE kjobs_migrations SET checksum = NULL, breaking = NULL, kjobs_version = NULL');
      await place.migrate();
      const rows = await place.sql('SELECT checksum FROM kjobs_migrations');
      assert.ok(rows.every((row) => /^[0-9a-f]{64}$/.test(String(row.checksum))));
    });

    it('refuses a database whose applied migration no longer matches its file', async () => {
      const place = await subject.open();
      await place.migrate();
      await place.sql(`UPDATE kjobs_migrations SET checksum = '${'0'.repeat(64)}' WHERE version = 5`);
      await assert.rejects(place.migrate(), (error: unknown) => {
        assert.ok(error instanceof MigrationGuardError);
        assert.match(
          error.message,
          /migration 005_dependencies_progress\.sql was changed after it was applied/,
        );
        return true;
      });
    });

    it('runs on a database a newer kjobs migrated compatibly; refuses one it migrated with a breaking migration', async () => {
      const place = await subject.open();
      await place.migrate();
      const flag = (on: boolean) => (subject.name === 'SQLite' ? (on ? '1' : '0') : String(on));
      await place.sql(
        `INSERT INTO kjobs_migrations (version, name, applied_at, checksum, breaking, kjobs_version)
        VALUES (998, '998_compatible.sql', ${subject.name === 'SQLite' ? '0' : 'now()'}, 'x', ${flag(false)}, '9.0.0')`,
      );
      await place.migrate();
      await place.sql(
        `INSERT INTO kjobs_migrations (version, name, applied_at, checksum, breaking, kjobs_version)
        VALUES (999, '999_breaking.sql', ${subject.name === 'SQLite' ? '0' : 'now()'}, 'x', ${flag(true)}, '9.1.0')`,
      );
      await assert.rejects(place.migrate(), (error: unknown) => {
        assert.ok(error instanceof MigrationGuardError);
        assert.match(error.message, /migrated by kjobs 9\.1\.0 \(migration 999_breaking\.sql\)/);
        assert.match(error.message, new RegExp(`this is kjobs ${KJOBS_VERSION.replace(/\./g, '\\.')}`));
        return true;
      });
    });
  });
}
