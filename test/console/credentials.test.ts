/**
 * The console opened as http://user:pass@host/console (credentials in the URL, which fetch refuses to take), and
 * what it says when a call fails: a 401 is a wrong user or password, no answer at all is an unreachable server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  FAR_FUTURE,
  launchChromium,
  PRINT_OUT,
  SKIP,
  startConsoleServer,
  USER,
  type ConsoleServer,
} from './browser.js';

if (SKIP) console.log(`# console tests skipped: ${SKIP}`);

describe('web console: credentials in the URL, and failures named', { skip: SKIP }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let closed = false;
  const pageErrors: string[] = [];

  before(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
    // No httpCredentials: the only credentials are those in the URL.
    context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (!closed) await server?.close();
  });

  const countsText = () => page.locator('#counts-updated').textContent();

  it('works when opened as http://user:password@host/console', async () => {
    const id = await server.kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'in-url' },
    });
    const withCredentials = new URL('/console/', server.origin);
    withCredentials.username = USER.name;
    withCredentials.password = USER.password;
    await page.goto(withCredentials.href);
    await page.waitForFunction(
      () => document.querySelector('.count[data-status="QUEUED"] .n')?.textContent === '1',
      undefined,
      { timeout: 10_000 },
    );
    assert.match((await countsText()) ?? '', /^Updated /);
    await page.locator('#jobs tbody a', { hasText: `#${id}` }).waitFor({ timeout: 10_000 });
    assert.equal(
      await page.locator('#message.error').count(),
      0,
      (await page.locator('#message').textContent()) ?? '',
    );
    assert.deepEqual(pageErrors, []);
  });

  it('says "wrong user or password" when the server answers 401', async () => {
    // The server no longer accepts the credentials the page signed in with (e.g. the password was changed).
    await page.route('**/console/api/counts', (route) =>
      route.fulfill({ status: 401, contentType: 'text/plain', body: '"Unauthorized"' }),
    );
    await page.waitForFunction(
      () => document.querySelector('#counts-updated')?.textContent?.includes('401'),
      undefined,
      {
        timeout: 10_000,
      },
    );
    assert.match((await countsText()) ?? '', /Wrong user or password \(401\)/i);
    await page.unroute('**/console/api/counts');
  });

  it('says "server unreachable" when the server does not answer', async () => {
    await server.close();
    closed = true;
    await page.waitForFunction(
      () => document.querySelector('#counts-updated')?.textContent?.includes('unreachable'),
      undefined,
      { timeout: 10_000 },
    );
    assert.match((await countsText()) ?? '', /Server unreachable .*is kjobs running\?/);
    assert.doesNotMatch((await countsText()) ?? '', /401|password/);
  });
});
