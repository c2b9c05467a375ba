/** A real kjobs server on loopback (temp SQLite file, port 0) for the client and CLI tests. */
import type { ServerOptions } from '../../src/http/server.js';
import type { Kjobs, KjobsOptions } from '../../src/kjobs.js';
import { startServer as startHttpServer } from '../http/helpers.js';

export { eventually } from '../helpers.js';

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

/** Starts kjobs (executor off unless given) and its server on port 0; both stop when the test file ends. */
export async function startServer(
  options: { kjobs?: KjobsOptions; server?: ServerOptions } = {},
): Promise<ClientTestServer> {
  const server = await startHttpServer(options);
  return { kjobs: server.kjobs, baseUrl: `${server.origin}/kie-server/services/rest` };
}
