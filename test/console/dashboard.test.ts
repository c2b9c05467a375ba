// The console's charts, breakdown, live table, bulk actions, job timeline and find-by-id, end to end: headless
// Chromium on a real kjobs server (SQLite, executor on, statistics sampled every 100 ms).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../helpers.js';
import {
  BILLING,
  FAILING,
  FAR_FUTURE,
  consoleActions,
  launchChromium,
  openConsolePage,
  PRINT_OUT,
  SEND_INVOICE,
  SKIP,
  startConsoleServer,
  type ConsoleServer,
} from './browser.js';

if (SKIP) console.log(`# console tests skipped: ${SKIP}`);

describe('web console: charts, breakdown, live table, bulk actions, timeline', { skip: SKIP }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  const { message, confirm, rowIds } = consoleActions(() => page);

  before(async () => {
    server = await startConsoleServer({ containers: BILLING, statsIntervalMs: 100, maxBulkJobs: 5 });
    browser = await launchChromium();
    ({ context, page, pageErrors } = await openConsolePage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  /** The values of a chart series, as drawn (one circle per point). */
  function values(chart: string, series: string): Promise<number[]> {
    return page
      .locator(`#${chart} g[data-series="${series}"] circle`)
      .evaluateAll((circles) => circles.map((circle) => Number(circle.getAttribute('data-value'))));
  }

  async function filterTable(by: string, value: string, statuses: string[] = []): Promise<void> {
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Filter by').selectOption({ label: by });
    await page.getByLabel('Value').fill(value);
    for (const status of statuses) await page.getByRole('checkbox', { name: status, exact: true }).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: value }).waitFor();
  }

  it('draws the charts: 60 points a series for the last hour, 24 for the last day, with the finished jobs', async () => {
    const { kjobs } = server;
    const done = await kjobs.scheduleMany([
      { command: PRINT_OUT },
      { command: PRINT_OUT },
      { command: PRINT_OUT },
    ]);
    const failed = await kjobs.schedule({ command: FAILING, data: { retries: 0 } });
    for (const id of [...done, failed]) await kjobs.waitFor(id);
    await page.goto(`${server.origin}/console/`);
    const sum = (list: number[]) => list.reduce((n, v) => n + v, 0);
    await eventually(
      () => values('chart-finished', 'done'),
      (list) => list.length === 60 && sum(list) === 3,
    );
    assert.equal((await values('chart-finished', 'error')).length, 60);
    assert.equal(sum(await values('chart-finished', 'error')), 1);
    // The sampler writes every 100 ms; under load its first write may come after the page read the stats.
    const sampled = await eventually(
      async () => (await server.kjobs.stats('hour')).points.filter((point) => point.waiting !== null).length,
      (count) => count >= 1,
    );
    assert.ok((await values('chart-waiting', 'waiting')).length >= sampled);
    assert.match(
      (await page.locator('#finished-desc').textContent()) ?? '',
      /3 done and 1 failed in the last hour/,
    );
    assert.equal(await page.locator('#chart-finished').getAttribute('role'), 'img');
    assert.ok((await page.locator('#chart-finished .axis text').count()) >= 5, 'axis labels');
    assert.ok(await page.locator('#figure-finished .legend', { hasText: 'Done' }).isVisible());
    // The same numbers as a table, for screen readers.
    await page.getByText("The charts' numbers as a table").click();
    // Filled as the details open (and again at each refresh): wait for the rows rather than read them at once.
    await eventually(
      () => page.locator('#chart-table tbody tr').count(),
      (rows) => rows === 60,
    );
    const doneCells = await page.locator('#chart-table tbody td[data-label="Done"]').allTextContents();
    assert.equal(sum(doneCells.map(Number)), 3);

    await page.getByRole('radio', { name: 'Last 24 hours' }).check();
    await eventually(
      () => values('chart-finished', 'done'),
      (list) => list.length === 24 && sum(list) === 3,
    );
    assert.equal((await values('chart-finished', 'error')).length, 24);
    assert.match((await page.locator('#finished-title').textContent()) ?? '', /per hour, last 24 hours/);
    await page.getByRole('radio', { name: 'Last hour' }).check();
    await eventually(
      () => values('chart-finished', 'done'),
      (list) => list.length === 60,
    );

    // Live: a job finishing while the page is open shows up without a click.
    await kjobs.waitFor(await kjobs.schedule({ command: PRINT_OUT }));
    await eventually(
      () => values('chart-finished', 'done'),
      (list) => sum(list) === 4,
      15_000,
    );
    assert.deepEqual(pageErrors, []);
  });

  it('breaks jobs down by command and container; a row filters the table', async () => {
    await page.goto(`${server.origin}/console/`);
    const row = page.locator('#breakdown tbody tr', { hasText: 'JobExecutionErrorCommand' });
    await row.waitFor();
    assert.equal(await row.locator('td[data-label="Error"]').textContent(), '1');
    assert.equal(await row.locator('td[data-label="Failure rate"]').textContent(), '100 %');
    assert.equal(await row.locator('td[data-label="Runs (1 h)"]').textContent(), '1');
    assert.match((await row.locator('td[data-label="p50"]').textContent()) ?? '', /\d+ (ms|s)/);
    // By keyboard: the row's button filters the table by the command.
    await row.getByRole('button').focus();
    await page.keyboard.press('Enter');
    await page.locator('#list-summary', { hasText: `command ${FAILING}` }).waitFor();
    assert.equal(await page.locator('#filter-by').inputValue(), 'command');
    const commands = await page.locator('#jobs tbody td[data-label="Command"]').allTextContents();
    assert.ok(commands.length > 0 && commands.every((text) => text === FAILING), commands.join());

    const invoice = await server.kjobs.schedule({
      command: SEND_INVOICE,
      containerId: 'billing-1.0',
      scheduledAt: FAR_FUTURE,
    });
    await page.getByRole('radio', { name: 'By container' }).check();
    await page.locator('#breakdown tbody tr', { hasText: '(no container)' }).waitFor();
    assert.equal(await page.locator('#breakdown-key').textContent(), 'Container');
    // With the mouse: a click anywhere on the row filters the table by the container.
    const billing = page.locator('#breakdown tbody tr[data-key="billing-1.0"]');
    await billing.locator('td[data-label="Queued"]').click();
    await page.locator('#list-summary', { hasText: 'container billing-1.0' }).waitFor();
    assert.equal(await page.locator('#filter-by').inputValue(), 'container');
    assert.deepEqual(await rowIds(), [invoice]);
    assert.deepEqual(pageErrors, []);
  });

  it('updates the table live, keeping filters, selection and scroll, and waits while the user acts', async () => {
    const { kjobs } = server;
    await page.setViewportSize({ width: 1280, height: 500 });
    await page.goto(`${server.origin}/console/`);
    const first = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'live-1' },
    });
    await filterTable('Business key', 'live-1');
    assert.deepEqual(await rowIds(), [first]);
    await page.getByRole('checkbox', { name: `Select job ${first}` }).check();
    await page.locator('#jobs').scrollIntoViewIfNeeded();
    await page.mouse.wheel(0, 200);
    await page.waitForTimeout(100);
    const scrolled = await page.evaluate(() => window.scrollY);
    assert.ok(scrolled > 0);

    // New and changed jobs appear without a click; a job of another key does not (the filter stays).
    const second = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE - 1,
      data: { businessKey: 'live-1' },
    });
    await kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE, data: { businessKey: 'other' } });
    await eventually(rowIds, (ids) => ids.length === 2, 15_000);
    assert.deepEqual((await rowIds()).sort(), [first, second].sort());
    await kjobs.cancel(second);
    await page
      .locator(`#jobs tbody tr[data-id="${second}"] td[data-label="Status"]`, { hasText: 'CANCELLED' })
      .waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('checkbox', { name: `Select job ${first}` }).isChecked(), true);
    assert.equal(await page.locator('#selected-count').textContent(), '1');
    assert.equal(await page.evaluate(() => window.scrollY), scrolled);
    assert.equal(await page.locator('#filter-value').inputValue(), 'live-1');

    // While a confirmation is open, the table waits.
    await page.getByRole('button', { name: /Cancel selected/ }).click();
    await page.getByRole('dialog').waitFor();
    const third = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'live-1' },
    });
    assert.match((await page.locator('#live-status').textContent()) ?? '', /wait/);
    await page.waitForTimeout(3000);
    assert.equal((await rowIds()).includes(third), false, 'no update while the dialog is open');
    await page.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
    await eventually(rowIds, (ids) => ids.includes(third), 15_000);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(pageErrors, []);
  });

  it('requeues the ERROR jobs of the filter in one call, and they really run again', async () => {
    const { kjobs } = server;
    const failed = await kjobs.scheduleMany([
      { command: FAILING, data: { retries: 0, businessKey: 'bulk-requeue' } },
      { command: FAILING, data: { retries: 0, businessKey: 'bulk-requeue' } },
    ]);
    for (const id of failed)
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'ERROR',
      );
    await page.goto(`${server.origin}/console/`);
    await filterTable('Business key', 'bulk-requeue');
    await page.getByRole('button', { name: 'Requeue ERROR jobs matching the filter' }).click();
    assert.match(
      (await page.getByRole('dialog').textContent()) ?? '',
      /Every ERROR job with business key bulk-requeue/,
    );
    await confirm('Requeue jobs');
    assert.match(await message(/Requeued 2 of 2 jobs/), /Requeued 2 of 2 jobs\./);
    assert.match((await page.locator('#bulk-result').textContent()) ?? '', /Requeued 2 of 2 jobs/);
    for (const id of failed) {
      await eventually(
        () => kjobs.get(id),
        (job) => job.status === 'ERROR' && job.executions === 2,
      );
    }
    // With a status filter that leaves ERROR out, the action is not offered.
    await filterTable('Business key', 'bulk-requeue', ['Done']);
    assert.equal(
      await page.getByRole('button', { name: 'Requeue ERROR jobs matching the filter' }).isDisabled(),
      true,
    );
    assert.deepEqual(pageErrors, []);
  });

  it('cancels the selected jobs, and the QUEUED jobs of the filter, with a summary; past the limit it says so', async () => {
    const { kjobs } = server;
    const ids = await kjobs.scheduleMany(
      [1, 2, 3].map(() => ({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE,
        data: { businessKey: 'bulk-cancel' },
      })),
    );
    const done = await kjobs.schedule({ command: PRINT_OUT, data: { businessKey: 'bulk-cancel' } });
    await kjobs.waitFor(done);
    await page.goto(`${server.origin}/console/`);
    await filterTable('Business key', 'bulk-cancel');
    await eventually(rowIds, (rows) => rows.length === 4);
    for (const id of [ids[0]!, done]) await page.getByRole('checkbox', { name: `Select job ${id}` }).check();
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    await confirm('Cancel jobs');
    const summary = await message(/Cancelled 1 of 2 jobs/);
    assert.match(summary, new RegExp(`job ${done}: it is DONE`));
    assert.equal((await kjobs.get(ids[0]!)).status, 'CANCELLED');
    assert.equal((await kjobs.get(done)).status, 'DONE');

    await page.getByRole('button', { name: 'Cancel QUEUED jobs matching the filter' }).click();
    await confirm('Cancel jobs');
    await message(/Cancelled 2 of 2 jobs/);
    for (const id of ids.slice(1)) assert.equal((await kjobs.get(id)).status, 'CANCELLED');
    await page
      .locator(`#jobs tbody tr[data-id="${ids[2]}"] td[data-label="Status"]`, { hasText: 'CANCELLED' })
      .waitFor();

    // More than the server's bulk limit (5 here): refused, nothing changed.
    const many = await kjobs.scheduleMany(
      Array.from({ length: 6 }, () => ({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE,
        data: { businessKey: 'bulk-many' },
      })),
    );
    await filterTable('Business key', 'bulk-many');
    await page.getByRole('button', { name: 'Cancel QUEUED jobs matching the filter' }).click();
    await confirm('Cancel jobs');
    assert.match(await message(/bulk limit/), /400: The filter matches more than 5 jobs/);
    for (const id of many) assert.equal((await kjobs.get(id)).status, 'QUEUED');
    assert.deepEqual(pageErrors, []);
  });

  it("shows a job's timeline: scheduled, each attempt with its times and error, requeues and cancels", async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({ command: FAILING, data: { retries: 1, retryDelay: '10ms' } });
    await eventually(
      () => kjobs.get(id),
      (job) => job.status === 'ERROR',
    );
    await kjobs.requeue(id);
    await eventually(
      () => kjobs.get(id),
      (job) => job.status === 'ERROR' && job.executions === 3,
    );
    await kjobs.cancel(id);
    await page.goto(`${server.origin}/console/#/jobs/${id}`);
    const items = page.locator('#job-timeline > li');
    await eventually(
      () => items.count(),
      (n) => n === 6,
    );
    const texts = await items.allTextContents();
    assert.match(texts[0]!, /^Scheduled/);
    assert.match(texts[1]!, /^Attempt 1\s*ERROR\s*started .*, ended .*, took \d+ ms/);
    assert.match(texts[1]!, /Throwing error for testing purpose/);
    assert.match(texts[2]!, /^Attempt 2/);
    assert.match(texts[3]!, /^Requeued .* \(was ERROR\)/);
    assert.match(texts[4]!, /^Attempt 3/);
    assert.match(texts[5]!, /^Cancelled .* \(was ERROR\)/);
    const facts = await page.locator('#job-body dl.facts dt').allTextContents();
    for (const name of ['Created', 'Started', 'Finished']) assert.ok(facts.includes(name), name);
    const started = await kjobs.get(id);
    assert.equal(
      await page.locator('#job-body dl.facts dt:text-is("Started") + dd time').getAttribute('datetime'),
      new Date(started.startedAt!).toISOString(),
    );
    assert.deepEqual(pageErrors, []);
  });

  it('finds a job by id from any page, by keyboard, and says when there is none', async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    await page.goto(`${server.origin}/console/#/containers`);
    await page.getByRole('textbox', { name: 'Job id' }).fill(String(id));
    await page.keyboard.press('Enter');
    await page.locator('#job-title', { hasText: `Job ${id}` }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/jobs/${id}`);
    await page.locator('#job-body .badge', { hasText: 'QUEUED' }).waitFor();
    await page.getByRole('textbox', { name: 'Job id' }).fill('987654');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('#job-body', { hasText: 'There is no job 987654.' }).waitFor();
    await page.getByRole('textbox', { name: 'Job id' }).fill('abc');
    await page.keyboard.press('Enter');
    await message('A job id is a whole number.');
    assert.deepEqual(
      pageErrors.filter((text) => !/404/.test(text)),
      [],
    );
  });
});
