import pg from 'pg';
import { POSTGRES_URL } from './system.js';

/** Runs one statement on a short-lived connection (dropping a peer's schema between scenarios). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const dropSchema = (schema: string) => adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
