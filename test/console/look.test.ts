// What the console looks like at a laptop's width (1280 px), in headless Chromium: nothing shows that should not,
// the live toggle stays on the line of its status, buttons that lead somewhere look like links, and a paused
// container says so.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  BILLING,
  FAILING,
  launchChromium,
  openConsolePage,
  SKIP,
  startConsoleServer,
  type ConsoleServer,
} from './browser.js';

if (SKIP) console.log(`# console tests skipped: ${SKIP}`);

describe('web console: the look', { skip: SKIP }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];

  before(async () => {
    server = await startConsoleServer({ containers: BILLING });
    await server.kjobs.schedule({ command: FAILING, data: { retries: 0 } });
    browser = await launchChromium();
    ({ context, page, pageErrors } = await openConsolePage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  /** An element's box and the styles that make it look the way it does. */
  const look = (selector: string) =>
    page.locator(selector).evaluate((element) => {
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      return {
        top: box.top,
        bottom: box.bottom,
        height: box.height,
        fontWeight: style.fontWeight,
        color: style.color,
        decoration: style.textDecorationLine,
      };
    });

  it('shows no empty box under the bulk buttons, and the live toggle as a link beside its status', async () => {
    await page.goto(`${server.origin}/console/`);
    await page.locator('#jobs tbody tr').first().waitFor();
    assert.equal(await page.locator('#bulk-result').isHidden(), true);
    assert.equal(await page.locator('#bulk-result').boundingBox(), null);

    const toggle = await look('#live-toggle');
    const status = await look('#live-status');
    // On one line, and on the line of the status: their boxes overlap vertically.
    assert.ok(toggle.top < status.bottom && status.top < toggle.bottom, JSON.stringify({ toggle, status }));
    assert.equal(
      await page.locator('#live-toggle').evaluate((element) => element.getClientRects().length),
      1,
    );
    assert.ok(Number(toggle.fontWeight) < 600, `font-weight ${toggle.fontWeight}`);
    assert.equal(toggle.decoration, 'underline');
    assert.deepEqual(pageErrors, []);
  });

  it('shows the containers\' "Jobs of" as links, and a paused container as paused', async () => {
    await server.kjobs.pause({ kind: 'container', name: 'billing-1.0' });
    await page.goto(`${server.origin}/console/#/containers`);
    const row = page.locator('#containers tbody tr', { hasText: 'billing-1.0' });
    await row.waitFor();
    await row.locator('.s-paused').waitFor();
    const badges = () => row.locator('td').first().locator('.badge').allTextContents();
    assert.deepEqual(await badges(), ['STARTED', 'PAUSED']);

    const jobsOf = await look('#containers button.link');
    const link = await look('#view-containers a[href="#/"]');
    assert.equal(jobsOf.color, link.color);
    assert.equal(jobsOf.decoration, 'underline');
    assert.ok(Number(jobsOf.fontWeight) < 600, `font-weight ${jobsOf.fontWeight}`);

    await page.getByRole('button', { name: 'Resume billing-1.0' }).click();
    await row.locator('.s-paused').waitFor({ state: 'detached' });
    assert.deepEqual(await badges(), ['STARTED']);
    assert.deepEqual(pageErrors, []);
  });
});
