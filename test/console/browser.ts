/**
 * For the console's end-to-end tests: a real kjobs (SQLite in a temp folder, executor on) behind a real HTTP
 * server with basic auth, and Debian's Chromium driven by playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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

/** A page of `browser` logged in as USER, collecting the page's errors (a refused request's log line aside). */
export async function openConsolePage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({
    httpCredentials: { username: USER.name, password: USER.password },
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // A refused request is logged by Chromium as a failed resource: expected when the test provokes it.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      pageErrors.push(message.text());
  });
  return { context, page, pageErrors };
}

/** What the console tests read and do on a page: the live region, a confirmation, the table's job ids. */
export function consoleActions(page: () => Page) {
  return {
    /** The text of the live region once it says `text`. */
    async message(text: string | RegExp): Promise<string> {
      const box = page().locator('#message').filter({ hasText: text });
      await box.waitFor({ timeout: 10_000 });
      return (await box.textContent()) ?? '';
    },
    async confirm(buttonName: string): Promise<void> {
      const dialog = page().getByRole('dialog');
      await dialog.waitFor();
      await dialog.getByRole('button', { name: buttonName }).click();
    },
    async rowIds(): Promise<number[]> {
      const links = await page().locator('#jobs tbody td:nth-child(2) a').allTextContents();
      return links.map((text) => Number(text.replace('#', '')));
    },
  };
}
