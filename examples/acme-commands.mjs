// The acme container: `npx kjobs serve --container acme=./examples/acme-commands.mjs`.
// A command gets { data, jobId, attempt, signal, log, ... } and returns the job's response data.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Where SendMail writes its messages and Audit its lines.
const OUTBOX = process.env.ACME_OUTBOX ?? './outbox';

export default {
  // E-mail-like: writes the message to a file in the outbox (call your mail service here instead).
  'com.acme.SendMail': async ({ data, jobId }) => {
    if (typeof data.to !== 'string') throw new Error('com.acme.SendMail needs "to" in its data');
    await mkdir(OUTBOX, { recursive: true });
    const file = join(OUTBOX, `mail-${jobId}.eml`);
    await writeFile(file, `To: ${data.to}\nSubject: ${data.subject ?? ''}\n\n${data.body ?? ''}\n`);
    return { file, sentAt: new Date().toISOString() };
  },

  // Fails its first `failTimes` runs (default 1), then succeeds: each failure is in the job's errors.
  'com.acme.Flaky': async ({ data, attempt }) => {
    const failTimes = Number(data.failTimes ?? 1);
    if (attempt <= failTimes) throw new Error(`Attempt ${attempt} of ${failTimes + 1} fails on purpose`);
    return { succeededOnAttempt: attempt };
  },

  // Long-running: `steps` steps of `stepMs` ms (default 10 of 1 s). It stops when `signal` fires, on its
  // `timeout` or when kjobs shuts down: sleep() then rejects, and the run ends as failed (or back in QUEUED).
  // Its progress (GET .../jobs/{id}/progress, the console) says how far it is.
  'com.acme.Report': async ({ data, signal, log, progress }) => {
    const steps = Number(data.steps ?? 10);
    for (let step = 1; step <= steps; step++) {
      await sleep(Number(data.stepMs ?? 1000), undefined, { signal });
      log.debug({ step, steps }, 'report step done');
      progress(Math.round((step / steps) * 100), { step, steps });
    }
    return { steps };
  },
};

// Callbacks, named in a job's data ("callbacks": "com.acme.Audit"): after success, and after the last failure.
export const callbacks = {
  'com.acme.Audit': {
    onCommandDone: (context, response) => audit(`job ${context.jobId} done: ${JSON.stringify(response)}`),
    onCommandError: (context, error) => audit(`job ${context.jobId} failed: ${error.message}`),
  },
};

async function audit(line) {
  await mkdir(OUTBOX, { recursive: true });
  await appendFile(join(OUTBOX, 'audit.log'), `${line}\n`);
}
