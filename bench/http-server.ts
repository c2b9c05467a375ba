/**
 * The server under test of scenarios 4 and 5, run as its own process so that the load generator does not share
 * its event loop: `bare` is a hello-world route of the same Fastify, `kjobs` is createServer over a store (an
 * API-only node: executor off, so only scheduling and queries are measured).
 *
 *   node --import tsx bench/http-server.ts bare|kjobs [store] [coalesce]   prints {"port": N} once listening
 *
 * `coalesce`: the group-commit experiment of bench/coalesce.ts wraps the store.
 */
import Fastify from 'fastify';
import { createKjobs } from '../src/kjobs.js';
import { createServer } from '../src/http/server.js';
import { openStore } from '../src/store/open-store.js';
import { coalesceSchedules } from './coalesce.js';

const [mode, database, option] = process.argv.slice(2);

async function main() {
  if (mode === 'bare') {
    const app = Fastify();
    app.get('/hello', async () => ({ hello: 'world' }));
    app.post('/hello', async (_request, reply) => reply.code(201).send({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  }
  const store = await openStore(database!);
  if (option === 'coalesce') coalesceSchedules(store);
  const kjobs = await createKjobs({ store, executor: false, commands: { noop: () => undefined } });
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
