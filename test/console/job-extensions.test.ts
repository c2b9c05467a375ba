// The console's job page shows kjobs' extensions of issue 18: parents and children linked, progress live.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CommandContext } from '../../src/commands/command.js';
import { launchChromium, SKIP, startConsoleServer, USER, type ConsoleServer } from './browser.js';

describe('console job page: dependencies and progress', { skip: SKIP }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  let step: (value: number) => void = () => undefined;
  let finish: () => void = () => undefined;

  before(async () => {
    server = await startConsoleServer({
      commands: {
        'acme.Steps': async ({ progress }: CommandContext) => {
          await new Promise<void>((resolve) => {
            step = (value) => progress(value, { rows: value * 10 });
            finish = resolve;
          });
        },
        'acme.After': () => ({}),
      },
      executor: { pollIntervalMs: 100, progressIntervalMs: 1 },
    });
    browser = await launchChromium();
    context = await browser.newContext({ httpCredentials: { username: USER.name, password: USER.password } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('links parents and children, and follows the progress of a running job', async () => {
    const [parent, child] = await server.kjobs.scheduleMany([
      { command: 'acme.Steps' },
      { command: 'acme.After', data: { dependsOn: ['$0'] } },
    ]);
    await page.goto(`${server.origin}/console/#/jobs/${child}`);
    const parents = page.locator('#job-dependencies section').first();
    await parents.getByText('Depends on (waiting for 1)').waitFor({ timeout: 15_000 });
    await parents.getByRole('link', { name: `Job ${parent}` }).click();
    await page.locator('#job-title').getByText(`Job ${parent}`).waitFor();
    const children = page.locator('#job-dependencies').getByRole('link', { name: `Job ${child}` });
    await children.waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      () => document.querySelector('#job-body')?.textContent?.includes('RUNNING'),
      null,
      {
        timeout: 15_000,
      },
    );
    step(40);
    await page.locator('#job-progress progress[value="40"]').waitFor({ timeout: 15_000 });
    assert.match((await page.locator('#job-progress').textContent()) ?? '', /40%[\s\S]*"rows": 400/);
    step(75);
    await page.locator('#job-progress progress[value="75"]').waitFor({ timeout: 15_000 });
    finish();
    await server.kjobs.waitFor(child!, { timeoutMs: 30_000 });
    assert.deepEqual(pageErrors, []);
  });
});
