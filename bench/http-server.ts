/**
 * The server under test of the HTTP scenarios, run as its own process so that the load generator does not share
 * its event loop.
 *
 *   node --import tsx bench/http-server.ts MODE [store] [option]   prints {"port": N} once listening
 *
 * Modes:
 * - `bare`: a hello-world route of the same Fastify (GET and POST /hello): the ceiling.
 * - `insert`: the minimal honest insert, the reference for scheduling: a Fastify route that parses the JSON body
 *   and runs one prepared INSERT (better-sqlite3, WAL, synchronous=NORMAL as kjobs) or one INSERT ... RETURNING
 *   on a `pg` pool of 10, answering 201 with the id. No validation, no formats, no executor.
 * - `kjobs`: createServer over a store. `option` is `executor` (jobs also run in this process: a no-op command in
 *   container `bench`), or `coalesce` (the group-commit experiment of bench/coalesce.ts wraps the store);
 *   without option, an API-only node.
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { createKjobs } from '../src/kjobs.js';
import { createServer } from '../src/http/server.js';
import { openStore } from '../src/store/open-store.js';
import { coalesceSchedules } from './coalesce.js';

const [mode, database, option] = process.argv.slice(2);

interface JobBody {
  'job-command'?: string;
  'request-data'?: unknown;
}

async function minimalInsert(target: string) {
  const app = Fastify();
  if (target.startsWith('postgres')) {
    const url = new URL(target);
    const schema = url.searchParams.get('schema') ?? 'bench_insert';
    url.searchParams.delete('schema');
    const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".jobs (id bigserial PRIMARY KEY, command text NOT NULL,
      status text NOT NULL, scheduled_at bigint NOT NULL, request_data text NOT NULL)`);
    const insert = `INSERT INTO "${schema}".jobs (command, status, scheduled_at, request_data)
      VALUES ($1, 'QUEUED', $2, $3) RETURNING id`;
    app.post('/jobs', async (request, reply) => {
      const body = request.body as JobBody;
      const { rows } = await pool.query({
        name: 'insert',
        text: insert,
        values: [body['job-command'], Date.now(), JSON.stringify(body['request-data'] ?? {})],
      });
      return reply.code(201).send(Number((rows[0] as { id: string }).id));
    });
    app.addHook('onClose', () => pool.end());
  } else {
    const db = new Database(target);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, status TEXT NOT NULL,
      scheduled_at INTEGER NOT NULL, request_data TEXT NOT NULL)`);
    const insert = db.prepare(
      "INSERT INTO jobs (command, status, scheduled_at, request_data) VALUES (?, 'QUEUED', ?, ?)",
    );
    app.post('/jobs', async (request, reply) => {
      const body = request.body as JobBody;
      const { lastInsertRowid } = insert.run(
        body['job-command'],
        Date.now(),
        JSON.stringify(body['request-data'] ?? {}),
      );
      return reply.code(201).send(Number(lastInsertRowid));
    });
    app.addHook('onClose', async () => db.close());
  }
  return app;
}

async function main() {
  if (mode === 'bare') {
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'world' }));
    app.post('/hello', async (_request, reply) => reply.code(201).send({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  }
  if (mode === 'insert') {
    const app = await minimalInsert(database!);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  }
  const store = await openStore(database!);
  if (option === 'coalesce') coalesceSchedules(store);
  const kjobs = await createKjobs({
    store,
    executor: option === 'executor',
    commands: { noop: () => undefined },
    containers: { bench: { commands: { noop: () => undefined } } },
  });
  await kjobs.start();
  const app = await createServer(kjobs);
  app.addHook('onClose', async () => {
    await kjobs.stop();
    await store.close();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

const app = await main();
const address = app.server.address();
process.stdout.write(
  JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n',
);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
