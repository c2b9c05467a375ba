// The web console, end to end: headless Chromium on the page a real kjobs server serves, with basic auth.
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
  USER,
  type ConsoleServer,
} from './browser.js';

if (SKIP) console.log(`# console tests skipped: ${SKIP}`);

describe('web console', { skip: SKIP }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  const { message, confirm, rowIds } = consoleActions(() => page);

  before(async () => {
    server = await startConsoleServer({ containers: BILLING });
    browser = await launchChromium();
    ({ context, page, pageErrors } = await openConsolePage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('asks for credentials: / redirects to the console, which answers 401 with WWW-Authenticate', async () => {
    const root = await fetch(`${server.origin}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console/');
    for (const path of ['/console', '/console/', '/console/app.js', '/console/api/counts']) {
      const answer = await fetch(server.origin + path);
      assert.equal(answer.status, 401, path);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic /, path);
    }
  });

  it('shows the counts per status and keeps them live', async () => {
    await server.kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'c-1' },
    });
    await page.goto(`${server.origin}/`);
    assert.equal(new URL(page.url()).pathname, '/console/');
    assert.equal(await page.title(), 'kjobs console');
    const queued = page.locator('.count[data-status="QUEUED"] .n');
    await page.waitForFunction(
      () => document.querySelector('.count[data-status="QUEUED"] .n')?.textContent === '1',
    );
    // A job scheduled behind the page's back shows up in the counts without a reload.
    await server.kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'c-2' },
    });
    await page.waitForFunction(
      () => document.querySelector('.count[data-status="QUEUED"] .n')?.textContent === '2',
      undefined,
      { timeout: 6000 },
    );
    assert.equal(await queued.textContent(), '2');
    assert.deepEqual(pageErrors, []);
  });

  it('filters the table by status, business key, command, container and process instance, pages and sorts', async () => {
    const { kjobs } = server;
    const ids = {
      a1: await kjobs.schedule({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE - 3000,
        data: { businessKey: 'order-7' },
      }),
      a2: await kjobs.schedule({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE - 1000,
        data: { businessKey: 'order-7' },
      }),
      other: await kjobs.schedule({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE,
        data: { businessKey: 'order-8', processInstanceId: 42 },
      }),
      done: await kjobs.schedule({ command: PRINT_OUT, data: { businessKey: 'order-7' } }),
    };
    await eventually(
      () => kjobs.get(ids.done),
      (job) => job.status === 'DONE',
    );
    await page.goto(`${server.origin}/console/`);

    // Business key, any status: three jobs, newest scheduled first.
    await page.getByLabel('Filter by').selectOption({ label: 'Business key' });
    await page.getByLabel('Value').fill('order-7');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: 'business key order-7' }).waitFor();
    assert.deepEqual(await rowIds(), [ids.a2, ids.a1, ids.done]);

    // Sorting by time: oldest first.
    await page.getByRole('button', { name: /Scheduled/ }).click();
    assert.deepEqual(await rowIds(), [ids.done, ids.a1, ids.a2]);
    assert.equal(await page.locator('#sort-header').getAttribute('aria-sort'), 'ascending');
    await page.getByRole('button', { name: /Scheduled/ }).click();

    // Business key and status DONE.
    await page.getByRole('checkbox', { name: 'Done' }).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: 'DONE; business key order-7' }).waitFor();
    assert.deepEqual(await rowIds(), [ids.done]);
    await page.getByRole('button', { name: 'Reset' }).click();

    // Process instance.
    await page.getByLabel('Filter by').selectOption({ label: 'Process instance' });
    await page.getByLabel('Value').fill('42');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: 'process instance 42' }).waitFor();
    assert.deepEqual(await rowIds(), [ids.other]);

    // Command, one job a page: paging walks through them.
    await page.getByLabel('Filter by').selectOption({ label: 'Command' });
    await page.getByLabel('Value').fill(PRINT_OUT);
    await page.getByRole('checkbox', { name: 'Queued' }).check();
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: `QUEUED; command ${PRINT_OUT}` }).waitFor();
    const queued = await rowIds();
    assert.ok(queued.includes(ids.a1) && queued.includes(ids.a2) && !queued.includes(ids.done));

    // A container no job has: an empty table, said so.
    await page.getByLabel('Filter by').selectOption({ label: 'Container' });
    await page.getByLabel('Value').fill('no-such-container');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#jobs tbody', { hasText: 'No jobs match' }).waitFor();

    // Clicking a count filters by that status.
    await page.getByRole('button', { name: /Done$/ }).click();
    await page.locator('#list-summary', { hasText: 'Jobs (DONE)' }).waitFor();
    assert.ok((await rowIds()).includes(ids.done));
    assert.equal(await page.getByRole('checkbox', { name: 'Done' }).isChecked(), true);
    assert.deepEqual(pageErrors, []);
  });

  it('pages through a long list', async () => {
    const { kjobs } = server;
    for (let i = 0; i < 12; i++) {
      await kjobs.schedule({
        command: PRINT_OUT,
        scheduledAt: FAR_FUTURE + i,
        data: { businessKey: 'many' },
      });
    }
    await page.goto(`${server.origin}/console/`);
    await page.getByLabel('Filter by').selectOption({ label: 'Business key' });
    await page.getByLabel('Value').fill('many');
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: 'page 1: 10 shown' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Previous/ }).isDisabled(), true);
    await page.getByRole('button', { name: /Next/ }).click();
    await page.locator('#list-summary', { hasText: 'page 2: 2 shown' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Next/ }).isDisabled(), true);
    await page.getByRole('button', { name: /Previous/ }).click();
    await page.locator('#list-summary', { hasText: 'page 1: 10 shown' }).waitFor();
  });

  it('opens a failed job, shows its error and stack trace, and requeues it', async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({ command: FAILING, data: { businessKey: 'doomed', retries: 0 } });
    await eventually(
      () => kjobs.get(id),
      (job) => job.status === 'ERROR',
    );

    await page.goto(`${server.origin}/console/`);
    await page.getByRole('checkbox', { name: 'Error' }).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('link', { name: `Job ${id}` }).click();
    await page.getByRole('heading', { name: `Job ${id}` }).waitFor();
    const body = page.locator('#job-body');
    await body.getByRole('heading', { name: 'Errors (1)' }).waitFor();
    const facts = await body.locator('dl.facts').innerText();
    assert.match(facts, /Status\s+ERROR/);
    assert.match(facts, /Executions\s+1/);
    assert.match(facts, /Retries left\s+0/);
    assert.match(await body.locator('.error-message').innerText(), /\S/);
    const stored = await kjobs.get(id, { withErrors: true });
    const error = stored.errors?.[0];
    assert.ok(error);
    assert.equal(await body.locator('.error-message').innerText(), error.message);
    assert.ok(error.stacktrace);
    assert.ok((await body.getByLabel('Stack trace').innerText()).includes(error.stacktrace.split('\n')[0]!));
    assert.match(await body.locator('section.data').first().innerText(), /"businessKey": "doomed"/);
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isEnabled(), true);

    await page.getByRole('button', { name: 'Requeue' }).click();
    await confirm('Requeue');
    assert.equal(await message(`Job ${id} requeued.`), `Job ${id} requeued.`);
    // Requeued, it runs again and fails again: a second execution and a second error, followed live by the page.
    await eventually(
      () => kjobs.get(id),
      (job) => job.executions === 2 && job.status === 'ERROR',
    );
    await body.getByRole('heading', { name: 'Errors (2)' }).waitFor({ timeout: 10_000 });
    assert.match(await body.locator('dl.facts').innerText(), /Executions\s+2/);
    assert.deepEqual(pageErrors, []);
  });

  it('cancels a scheduled job after confirmation, and keeps it when the dialog is dismissed', async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'later' },
    });
    await page.goto(`${server.origin}/console/#/jobs/${id}`);
    await page.locator('#job-body dl.facts', { hasText: 'QUEUED' }).waitFor();

    await page.getByRole('button', { name: 'Cancel job' }).click();
    await confirm('Keep it');
    assert.equal((await kjobs.get(id)).status, 'QUEUED');
    // Focus returns to the button that opened the dialog.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'cancel');

    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('dialog').getByText('A cancelled job never runs again.').waitFor();
    await confirm('Cancel job');
    assert.equal(await message(`Job ${id} cancelled.`), `Job ${id} cancelled.`);
    assert.equal((await kjobs.get(id)).status, 'CANCELLED');
    await page.locator('#job-body dl.facts', { hasText: 'CANCELLED' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Requeue' }).isDisabled(), true);
  });

  it('updates the data of a queued job, and refuses what is not a JSON object', async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE,
      data: { businessKey: 'edit-me' },
    });
    await page.goto(`${server.origin}/console/#/jobs/${id}`);
    await page.locator('#job-body dl.facts', { hasText: 'QUEUED' }).waitFor();
    const editor = page.getByLabel(/Data to merge/);

    await editor.fill('[1, 2]');
    await page.getByRole('button', { name: 'Update data' }).click();
    await message(/must be a JSON object/);
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');

    await editor.fill('{"customer": "Ada", "amount": 12}');
    await page.getByRole('button', { name: 'Update data' }).click();
    await confirm('Update data');
    await message(`Data of job ${id} updated.`);
    const job = await kjobs.get(id, { withData: true });
    assert.deepEqual(job.requestData, { businessKey: 'edit-me', customer: 'Ada', amount: 12 });
    await page.locator('#job-body section.data', { hasText: '"customer": "Ada"' }).waitFor();
  });

  it("shows the server's error text when an action is refused", async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    await page.goto(`${server.origin}/console/#/jobs/${id}`);
    await page.locator('#job-body dl.facts', { hasText: 'QUEUED' }).waitFor();
    await kjobs.cancel(id); // behind the page's back: its buttons still offer the cancel
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await confirm('Cancel job');
    const text = await message(/The server refused: 409/);
    assert.match(text, /CANCELLED/);
    assert.equal(await page.locator('#message').getAttribute('class'), 'message error');
  });

  it('schedules a job from the form, and shows the error of an unknown command', async () => {
    const { kjobs } = server;
    await page.goto(`${server.origin}/console/`);
    await page.getByRole('link', { name: 'Schedule a job' }).click();
    await page.getByRole('heading', { name: 'Schedule a job' }).waitFor();

    await page.getByLabel('Command (class name)').fill('com.acme.NoSuchCommand');
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    const refused = await message(/The server refused: 400/);
    assert.match(refused, /NoSuchCommand/);

    await page.getByLabel('Command (class name)').fill(PRINT_OUT);
    await page.getByLabel(/Request data/).fill('{"businessKey": "from-the-form", "retries": 1}');
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    const said = await message(/^Job \d+ scheduled\.$/);
    const id = Number(/Job (\d+)/.exec(said)?.[1]);
    await page.getByRole('heading', { name: `Job ${id}` }).waitFor();
    const job = await kjobs.waitFor(id, { timeoutMs: 10_000 });
    assert.equal(job.status, 'DONE');
    assert.equal(job.businessKey, 'from-the-form');
    assert.equal(job.retries, 1);
    // The page follows the job until it is done, with its response data.
    await page.locator('#job-body dl.facts', { hasText: 'DONE' }).waitFor({ timeout: 10_000 });

    // In a container: the command is resolved there, and the container filter finds the job.
    await page.goto(`${server.origin}/console/#/new`);
    await page.getByLabel('Command (class name)').fill(SEND_INVOICE);
    await page.getByRole('textbox', { name: /^Container/ }).fill('billing-1.0');
    await page.getByLabel(/Request data/).fill('{"businessKey": "invoice-77", "invoice": 77}');
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    const invoice = Number(/Job (\d+)/.exec(await message(/^Job \d+ scheduled\.$/))?.[1]);
    const sent = await kjobs.waitFor(invoice, { timeoutMs: 10_000 });
    assert.equal(sent.status, 'DONE');
    assert.equal(sent.containerId, 'billing-1.0');
    await page.locator('#job-body section.data', { hasText: '"sent": true' }).waitFor({ timeout: 10_000 });
    await page.getByRole('link', { name: 'Back to jobs' }).click();
    await page.getByLabel('Filter by').selectOption({ label: 'Container' });
    await page.getByLabel('Value').fill('billing-1.0');
    await page.getByRole('checkbox', { name: 'Done' }).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#list-summary', { hasText: 'container billing-1.0' }).waitFor();
    assert.deepEqual(await rowIds(), [invoice]);

    // A time in the future: the job waits.
    await page.goto(`${server.origin}/console/#/new`);
    await page.getByLabel('Command (class name)').fill(PRINT_OUT);
    await page.getByRole('textbox', { name: /^Container/ }).fill('');
    await page.getByLabel(/Scheduled date and time/).fill('2099-06-01T12:30:00');
    await page.getByRole('button', { name: 'Schedule', exact: true }).click();
    const later = Number(/Job (\d+)/.exec(await message(/^Job \d+ scheduled\.$/))?.[1]);
    const waiting = await kjobs.get(later);
    assert.equal(waiting.status, 'QUEUED');
    const local = new Date(waiting.scheduledAt);
    assert.deepEqual(
      [local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes()],
      [2099, 5, 1, 12, 30],
    );
    assert.deepEqual(pageErrors, []);
  });

  it('works by keyboard alone: a skip link, visible focus, Enter on a job link', async () => {
    const { kjobs } = server;
    const id = await kjobs.schedule({
      command: PRINT_OUT,
      scheduledAt: FAR_FUTURE + 10_000,
      data: { businessKey: 'keys' },
    });
    await page.goto(`${server.origin}/console/`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.getByRole('link', { name: `Job ${id}` }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Job ${id}` }).waitFor();
    // The heading of the new view takes focus, so a screen reader announces it.
    await page.waitForFunction(() => document.activeElement?.id === 'job-title');
  });

  it('reads the dates of a server configured for ISO-8601 JSON dates', async () => {
    const iso = await startConsoleServer({}, { jsonDates: 'iso' });
    const context = await browser.newContext({
      httpCredentials: { username: USER.name, password: USER.password },
    });
    try {
      const at = Date.UTC(2099, 0, 2, 3, 4, 5);
      const id = await iso.kjobs.schedule({ command: PRINT_OUT, scheduledAt: at });
      const isoPage = await context.newPage();
      await isoPage.goto(`${iso.origin}/console/#/jobs/${id}`);
      const time = isoPage.locator('#job-body dl.facts time').first();
      await time.waitFor();
      assert.equal(await time.getAttribute('datetime'), new Date(at).toISOString());
      await isoPage.goto(`${iso.origin}/console/`);
      const row = isoPage.locator('#jobs tbody time');
      await row.waitFor();
      assert.equal(await row.getAttribute('datetime'), new Date(at).toISOString());
    } finally {
      await context.close();
      await iso.close();
    }
  });

  it('shows the loaded containers with their commands, and leads to the jobs of one', async () => {
    const id = await server.kjobs.schedule({
      command: SEND_INVOICE,
      containerId: 'billing-1.0',
      scheduledAt: FAR_FUTURE,
      data: { invoice: 'INV-9' },
    });
    await page.goto(`${server.origin}/console/#/`);
    await page.getByRole('link', { name: 'Containers' }).click();
    const row = page.locator('#containers tbody tr').filter({ hasText: 'billing-1.0' });
    await row.waitFor();
    assert.equal(await page.getByRole('link', { name: 'Containers' }).getAttribute('aria-current'), 'page');
    assert.equal(await row.locator('th').textContent(), 'billing-1.0');
    assert.equal(await row.locator('td[data-label="Status"]').textContent(), 'STARTED');
    assert.deepEqual(await row.locator('td[data-label="Commands"] li').allTextContents(), [SEND_INVOICE]);
    await row.getByRole('button', { name: 'Jobs of billing-1.0' }).click();
    await page.locator('#view-list').waitFor({ state: 'visible' });
    await page.waitForFunction(
      (jobId) =>
        Array.from(document.querySelectorAll('#jobs tbody td:nth-child(2) a')).some(
          (a) => a.textContent === `#${jobId}`,
        ),
      id,
    );
    assert.equal(await page.locator('#filter-by').inputValue(), 'container');
    assert.equal(await page.locator('#filter-value').inputValue(), 'billing-1.0');
    const containers = await page.locator('#jobs tbody td[data-label="Container"]').allTextContents();
    assert.ok(containers.length > 0 && containers.every((text) => text === 'billing-1.0'), containers.join());
    assert.deepEqual(pageErrors, []);
  });

  it('pauses and resumes a command from the containers view (kjobs extension)', async () => {
    await page.goto(`${server.origin}/console/#/containers`);
    await page.locator('#paused li').first().waitFor();
    await page.locator('#pause-kind').selectOption('command');
    await page.locator('#pause-name').fill(SEND_INVOICE);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const resume = page.getByRole('button', { name: `Resume ${SEND_INVOICE}` });
    await resume.waitFor();
    assert.deepEqual(
      (await server.kjobs.listPaused()).map((target) => `${target.kind} ${target.name}`),
      [`command ${SEND_INVOICE}`],
    );
    await resume.click();
    await page.locator('#paused li', { hasText: 'Nothing is paused.' }).waitFor();
    assert.deepEqual(await server.kjobs.listPaused(), []);
    assert.deepEqual(pageErrors, []);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const phone = await browser.newContext({
      httpCredentials: { username: USER.name, password: USER.password },
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
    });
    try {
      const small = await phone.newPage();
      await small.goto(`${server.origin}/console/`);
      await small.locator('#jobs tbody tr').first().waitFor();
      await small.waitForFunction(() => document.querySelector('.count .n')?.textContent !== '–');
      const widths = await small.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
      }));
      assert.ok(
        widths.page <= widths.viewport,
        `page ${widths.page}px wide in a ${widths.viewport}px viewport`,
      );
    } finally {
      await phone.close();
    }
  });
});
