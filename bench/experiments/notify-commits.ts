/**
 * Experiment behind the HTTP finding of docs/benchmarks.md: commits per second of single-row INSERT
 * transactions from 10 concurrent clients, with and without a pg_notify in the transaction. PostgreSQL takes a
 * global lock to queue notifications at commit, so notifying transactions commit (and wait for their WAL
 * flush) one at a time instead of sharing flushes.
 *
 *   node --import tsx bench/experiments/notify-commits.ts
 */
import pg from 'pg';
import { POSTGRES_URL } from '../systems/system.js';

const SECONDS = 3;
const admin = new pg.Client({ connectionString: POSTGRES_URL });
await admin.connect();
await admin.query(
  'DROP TABLE IF EXISTS bench_notify; CREATE TABLE bench_notify (id bigserial PRIMARY KEY, v text)',
);
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 });
const cases = [
  ['INSERT', 'INSERT INTO bench_notify (v) VALUES ($1) RETURNING id'],
  [
    'INSERT + pg_notify',
    `WITH i AS (INSERT INTO bench_notify (v) VALUES ($1) RETURNING id)
     SELECT i.id FROM i, (SELECT pg_notify('bench_notify', '')) AS n`,
  ],
] as const;
for (const [label, sql] of [...cases, ...cases]) {
  let commits = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (Date.now() < end) {
        await pool.query(sql, ['x']);
        commits++;
      }
    }),
  );
  console.log(`${label}: ${Math.round(commits / SECONDS)} commits/s (10 clients)`);
}
await admin.query('DROP TABLE bench_notify');
await admin.end();
await pool.end();
