// Takes docs/console.md's screenshots: a real kjobs server with a few jobs of every kind, headless
// Chromium at laptop width (docs/console.png), and at phone width (docs/console-phone.png, or the path given).
// The charts' history (the day before the script ran) is made up: written straight into the statistics table, as
// the executor's sampler would have written it, so that the charts show something. The jobs are real.
// Run: node --import tsx scripts/console-screenshot.ts
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqliteJobStore } from '../src/store/sqlite/sqlite-store.js';
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

const server = await startConsoleServer({ containers: BILLING, statsIntervalMs: 200 });
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

// A made-up day of history: a busy afternoon, a few failures, a queue that grows and drains.
const store = kjobs.store as SqliteJobStore;
const minute = 60_000;
const thisMinute = Math.floor(Date.now() / minute) * minute;
const history = store.db.prepare(
  'INSERT OR REPLACE INTO job_stats (minute, done, error, waiting) VALUES (?, ?, ?, ?)',
);
store.db.transaction(() => {
  for (let back = 24 * 60; back >= 3; back--) {
    const i = 24 * 60 - back;
    const wave = Math.sin(i / 90) + 0.6 * Math.sin(i / 7);
    const done = Math.max(0, Math.round(18 + 9 * wave + ((i * 37) % 7)));
    const error = (i * 13) % 29 === 0 ? 3 : (i * 7) % 11 === 0 ? 1 : 0;
    const waiting = Math.max(0, Math.round(12 + 10 * Math.sin(i / 25) + ((i * 17) % 5)));
    history.run(thisMinute - back * minute, done, error, waiting);
  }
})();

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
    await page.locator('#chart-finished g[data-series="done"] circle').first().waitFor();
    await page.locator('#breakdown tbody tr').first().waitFor();
    await sleep(200);
    await page.screenshot({ path, type: 'png' });
    console.log(`${path}: ${width}×${height}`);
    if (process.env.KJOBS_SCREENSHOT_JOB) {
      // The failed job's page, whole, for a look (not in docs/console.md).
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
