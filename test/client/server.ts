/** A real kjobs server on loopback (temp SQLite file, port 0) for the client and CLI tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';

export const PRINT_OUT = 'org.jbpm.executor.commands.PrintOutCommand';
export const FAILING = 'org.jbpm.executor.commands.JobExecutionErrorCommand';
/** 2100-01-01T00:00:00Z: due far enough away that the job stays QUEUED. */
export const FAR_FUTURE = new Date(4102444800000);

/** A running kjobs and its HTTP server. */
export interface ClientTestServer {
  kjobs: Kjobs;
  /** `http://127.0.0.1:PORT/kie-server/services/rest` */
  baseUrl: string;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

let count = 0;

/** Starts kjobs (executor off unless given) and its server on port 0; both stop when the test file ends. */
export async function startServer(
  options: { kjobs?: KjobsOptions; server?: ServerOptions } = {},
): Promise<ClientTestServer> {
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-client-'));
  const kjobs = await createKjobs({
    executor: false,
    ...options.kjobs,
    store: join(folder, `jobs-${count++}.db`),
  });
  await kjobs.start();
  const app = await createServer(kjobs, options.server);
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    await app.close();
    await kjobs.stop(100);
    rmSync(folder, { recursive: true, force: true });
  });
  return { kjobs, baseUrl: `${origin}/kie-server/services/rest` };
}

/** Polls until `probe` answers a value `predicate` accepts. */
export async function eventually<T>(
  probe: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
