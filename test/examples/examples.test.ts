/**
 * The container modules in examples/ (those of docs/library.md): each command and callback does what its comment says, run by
 * a real executor on a SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKjobs, type Kjobs } from '../../src/kjobs.js';
import { eventually } from '../helpers.js';

/** The audit log, once it has a line matching `pattern` (callbacks run after the job's outcome is stored). */
const auditLine = (pattern: RegExp) =>
  eventually(
    () => {
      try {
        return readFileSync(join(outbox, 'audit.log'), 'utf8');
      } catch {
        return '';
      }
    },
    (text) => pattern.test(text),
  );

const folder = mkdtempSync(join(tmpdir(), 'kjobs-examples-'));
const outbox = join(folder, 'outbox');
// Read by the module when it is imported.
process.env.ACME_OUTBOX = outbox;
let kjobs: Kjobs;

before(async () => {
  kjobs = await createKjobs({
    store: join(folder, 'jobs.db'),
    containers: { acme: 'examples/acme-commands.mjs', 'billing-1.0': 'examples/billing-commands.mjs' },
    executor: { concurrency: 4, pollIntervalMs: 20 },
  });
  await kjobs.start();
});
after(async () => {
  await kjobs.stop(100);
  rmSync(folder, { recursive: true, force: true });
});

describe('examples/acme-commands.mjs', () => {
  it('SendMail writes the message to the outbox and says where', async () => {
    const id = await kjobs.schedule({
      command: 'com.acme.SendMail',
      containerId: 'acme',
      data: { to: 'ada@example.com', subject: 'Hello', body: 'Hi Ada', callbacks: 'com.acme.Audit' },
    });
    const job = await kjobs.waitFor(id, { pollMs: 20 });
    assert.equal(job.status, 'DONE');
    const file = String(job.responseData?.file);
    assert.equal(readFileSync(file, 'utf8'), 'To: ada@example.com\nSubject: Hello\n\nHi Ada\n');
    await auditLine(new RegExp(`job ${id} done: .*"file"`));
  });

  it('Flaky fails its first runs, then succeeds; the failures are its errors', async () => {
    const id = await kjobs.schedule({
      command: 'com.acme.Flaky',
      containerId: 'acme',
      data: { failTimes: 2, retries: 3 },
    });
    const job = await kjobs.waitFor(id, { pollMs: 20 });
    assert.equal(job.status, 'DONE');
    assert.deepEqual(job.responseData, { succeededOnAttempt: 3 });
    const withErrors = await kjobs.get(id, { withErrors: true });
    assert.deepEqual(
      withErrors.errors?.map((error) => error.message),
      ['Attempt 1 of 3 fails on purpose', 'Attempt 2 of 3 fails on purpose'],
    );
  });

  it('Report stops when its signal fires (its timeout here); the last failure reaches the Audit callback', async () => {
    const started = Date.now();
    const id = await kjobs.schedule({
      command: 'com.acme.Report',
      containerId: 'acme',
      data: { steps: 100, stepMs: 1000, timeout: '200ms', retries: 0, callbacks: 'com.acme.Audit' },
    });
    const job = await kjobs.waitFor(id, { pollMs: 20 });
    assert.equal(job.status, 'ERROR');
    assert.ok(Date.now() - started < 10_000, 'the run gave up long before its 100 steps');
    const withErrors = await kjobs.get(id, { withErrors: true });
    assert.match(withErrors.errors?.[0]?.message ?? '', /timed out after 200 ms/);
    await auditLine(new RegExp(`job ${id} failed: Job ${id} timed out after 200 ms`));
  });

  it('Report finishes its steps when nothing stops it', async () => {
    const id = await kjobs.schedule({
      command: 'com.acme.Report',
      containerId: 'acme',
      data: { steps: 3, stepMs: 10 },
    });
    assert.deepEqual((await kjobs.waitFor(id, { pollMs: 20 })).responseData, { steps: 3 });
  });

  it('SendMail without an address fails with a message that says what is missing', async () => {
    const id = await kjobs.schedule({
      command: 'com.acme.SendMail',
      containerId: 'acme',
      data: { retries: 0 },
    });
    const job = await kjobs.get((await kjobs.waitFor(id, { pollMs: 20 })).id, { withErrors: true });
    assert.equal(job.errors?.[0]?.message, 'com.acme.SendMail needs "to" in its data');
    assert.ok(!readdirSync(outbox).includes(`mail-${id}.eml`));
  });
});

describe('examples/billing-commands.mjs', () => {
  it('SendInvoice numbers the invoice', async () => {
    const id = await kjobs.schedule({
      command: 'com.acme.SendInvoice',
      containerId: 'billing-1.0',
      data: { customer: 'Ada' },
    });
    const job = await kjobs.waitFor(id, { pollMs: 20 });
    assert.deepEqual(job.responseData, {
      invoiceNumber: `INV-${String(id).padStart(6, '0')}`,
      customer: 'Ada',
    });
  });
});
