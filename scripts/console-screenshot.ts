// Takes the README's screenshot of the web console: a real kjobs server with a few jobs of every kind, headless
// Chromium at laptop width (docs/console.png), and at phone width (docs/console-phone.png, or the path given).
// Run: node --import tsx scripts/console-screenshot.ts
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../test/helpers.js';
import {
  BILLING,
  FAILING,
  launchChromium,
  PRINT_OUT,
  SEND_INVOICE,
  startConsoleServer,
  USER,
} from '../test/console/browser.js';

const server = await startConsoleServer({ containers: BILLING });
const { kjobs } = server;
const hour = 3_600_000;
const now = Date.now();
const done: number[] = [];
for (const invoice of [1040, 1041, 1042]) {
  done.push(
    await kjobs.schedule({
      command: SEND_INVOICE,
      containerId: 'billing-1.0',
      data: { businessKey: `invoice-${invoice}`, invoice },
    }),
  );
}
done.push(await kjobs.schedule({ command: PRINT_OUT, data: { businessKey: 'nightly-report' } }));
const failed = await kjobs.schedule({ command: FAILING, data: { businessKey: 'sync-crm', retries: 0 } });
const retrying = await kjobs.schedule({
  command: FAILING,
  data: { businessKey: 'export-ledger', retries: 3, retryDelay: '1h' },
});
await eventually(
  async () => Promise.all([...done, failed, retrying].map((id) => kjobs.get(id))),
  (jobs) => jobs.every((job) => job.executions > 0 && job.status !== 'RUNNING'),
);
const cancelled = await kjobs.schedule({ command: PRINT_OUT, scheduledAt: now + 2 * hour });
await kjobs.cancel(cancelled);
await kjobs.schedule({
  command: SEND_INVOICE,
  containerId: 'billing-1.0',
  scheduledAt: now + 3 * hour,
  data: { businessKey: 'invoice-1043', invoice: 1043 },
});
await kjobs.schedule({
  command: PRINT_OUT,
  scheduledAt: now + 24 * hour,
  data: { businessKey: 'weekly-digest' },
});

const browser = await launchChromium();
try {
  mkdirSync('docs', { recursive: true });
  for (const [width, height, path] of [
    [1100, 860, process.argv[2] ?? 'docs/console.png'],
    [390, 844, process.argv[3] ?? 'docs/console-phone.png'],
  ] as const) {
    const context = await browser.newContext({
      httpCredentials: { username: USER.name, password: USER.password },
      viewport: { width, height },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    await page.goto(`${server.origin}/console/`);
    await page.locator('#jobs tbody tr').first().waitFor();
    await page.waitForFunction(() => document.querySelector('.count .n')?.textContent !== '–');
    await sleep(200);
    await page.screenshot({ path, type: 'png' });
    console.log(`${path}: ${width}×${height}`);
    if (process.env.KJOBS_SCREENSHOT_JOB) {
      // The failed job's page, whole, for a look (not in the README).
      await page.goto(`${server.origin}/console/#/jobs/${failed}`);
      await page.locator('.stacktrace').first().waitFor();
      const jobPath = path.replace(/\.png$/, '-job.png');
      await page.screenshot({ path: jobPath, type: 'png', fullPage: true });
      console.log(`${jobPath}: ${width}×${height}, whole page`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
