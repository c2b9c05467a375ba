/**
 * For the console's end-to-end tests: a real kjobs (SQLite in a temp folder, executor on) behind a real HTTP
 * server with basic auth, and Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import type { CommandContext } from '../../src/commands/command.js';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Why the browser tests are skipped, or false when they can run. */
export const SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the console's browser tests`;

export const USER = { name: 'operator', password: 'console-secret', roles: ['kie-server'] };
export const PRINT_OUT = 'org.jbpm.executor.commands.PrintOutCommand';
export const FAILING = 'org.jbpm.executor.commands.JobExecutionErrorCommand';
/** A container with one command, as an operator's container module would give. */
export const BILLING = {
  'billing-1.0': {
    commands: {
      'com.acme.billing.SendInvoice': async ({ data }: CommandContext) => ({
        sent: true,
        invoice: data.invoice ?? null,
      }),
    },
  },
};
export const SEND_INVOICE = 'com.acme.billing.SendInvoice';
/** 2100-01-01T00:00:00Z: far enough away that a job stays QUEUED. */
export const FAR_FUTURE = 4102444800000;

export interface ConsoleServer {
  kjobs: Kjobs;
  app: FastifyInstance;
  origin: string;
  close(): Promise<void>;
}

/** kjobs with its executor and the HTTP server (auth on) on 127.0.0.1, port 0. */
export async function startConsoleServer(
  options: KjobsOptions = {},
  serverOptions: ServerOptions = {},
): Promise<ConsoleServer> {
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-console-'));
  const kjobs = await createKjobs({
    executor: { pollIntervalMs: 100 },
    ...options,
    store: join(folder, 'jobs.db'),
  });
  await kjobs.start();
  const app = await createServer(kjobs, { users: [USER], ...serverOptions });
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    kjobs,
    app,
    origin,
    async close() {
      await app.close();
      await kjobs.stop(100);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium as the machine notes prescribe: no sandbox (root), no network chatter. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
