/**
 * The Java worker's side of the worker protocol (docs/workers.md), over real HTTP against a scripted stand-in
 * for the server (protocol-stand-in.ts): what it claims and with what, how it completes and fails jobs, its
 * heartbeats and the jobs they stop, its answers to 409 and 413, a SIGTERM, a server that is down, one that refuses
 * it. The real server's end-to-end tests come with the server (issue 30).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, freePort } from '../helpers.js';
import { javaSkip, JavaWorkerProcess, prepareJava } from './java-helpers.js';
import { ROOT_PATH, WorkerProtocolStandIn, type ClaimJob } from './protocol-stand-in.js';

const skip = javaSkip();
const P = 'com.example.kjobs.';
const folder = mkdtempSync(join(tmpdir(), 'kjobs-java-protocol-'));
const callbackLog = join(folder, 'callbacks.log');
/** What the tests started, ended when the file's tests end (an after() in a hook would run as the hook ends). */
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(folder, { recursive: true, force: true });
});

/** A worker for the REST root `url`, with this file's user and container, killed when the file's tests end. */
function startWorker(url: string, args: string[], password = 'secret'): JavaWorkerProcess {
  const worker = new JavaWorkerProcess(
    ['--url', url, '--user', 'billing-worker', '--container', 'billing', ...args],
    { KJOBS_PASSWORD: password },
  );
  cleanups.push(() => worker.signal('SIGKILL'));
  return worker;
}

const callbacks = () => {
  try {
    return readFileSync(callbackLog, 'utf8');
  } catch {
    return '';
  }
};

describe('the Java worker over the worker protocol (a scripted stand-in for the server)', { skip }, () => {
  let classpath = '';
  let standIn: WorkerProtocolStandIn;
  let worker: JavaWorkerProcess;
  let nextId = 1;
  /** Queues a job; answers its id. */
  const queue = (job: Omit<ClaimJob, 'id'>): number => {
    const id = nextId++;
    standIn.enqueue({ id, ...job });
    return id;
  };
  const outcome = (id: number, kind: 'complete' | 'fail' | 'release') =>
    eventually(
      () => standIn.callsTo(`/jobs/${id}/${kind}`),
      (calls) => calls.length > 0,
    ).then((calls) => calls[0]!.body);

  before(async () => {
    classpath = prepareJava();
    standIn = new WorkerProtocolStandIn();
    const url = await standIn.listen();
    cleanups.push(() => standIn.close());
    worker = startWorker(url, [
      '--classpath',
      classpath,
      '--name',
      'java-test-1',
      '--commands',
      `${P}*`,
      '--concurrency',
      '2',
      '--stop-timeout',
      '500',
    ]);
  });

  it('claims for its free slots with a long poll, its name, containers and commands, with basic auth', async () => {
    const [claim] = await eventually(
      () => standIn.callsTo('/claim'),
      (calls) => calls.length > 0,
    );
    assert.deepEqual(claim!.body, {
      worker: 'java-test-1',
      containers: ['billing'],
      commands: [`${P}*`],
      max: 2,
      waitMs: 20000,
    });
    assert.equal(claim!.authorization, `Basic ${Buffer.from('billing-worker:secret').toString('base64')}`);
  });

  it('completes a job with its lease, response data and next run, then calls onCommandDone', async () => {
    const id = queue({
      command: `${P}EveryIntervalCommand`,
      requestData: { intervalMs: 60000, callbacks: `${P}RecordingCallback`, callbackLog },
    });
    const body = await outcome(id, 'complete');
    assert.equal(body.lease, standIn.leaseOf(id));
    assert.deepEqual(body.responseData, {});
    assert.ok(
      Math.abs(Date.parse(String(body.nextRun)) - Date.now() - 60_000) < 30_000,
      String(body.nextRun),
    );
    await worker.logged(
      new RegExp(`job ${id} ${P}EveryIntervalCommand DONE in \\d+ ms \\(attempt 1\\), next run at`),
    );
    await eventually(callbacks, (text) => text.includes('done [CompletedAt]'));
  });

  it('fails a throwing job with its message and Java stack trace; onCommandError only once the server says ERROR', async () => {
    const data = { mode: 'throw', message: 'boom', callbacks: `${P}RecordingCallback`, callbackLog };
    const retried = queue({ command: `${P}ProbeCommand`, retries: 2, requestData: data });
    const body = await outcome(retried, 'fail');
    assert.equal(body.lease, standIn.leaseOf(retried));
    assert.equal(body.message, 'java.io.IOException: boom');
    assert.match(
      String(body.stacktrace),
      /^java\.io\.IOException: boom\n\tat com\.example\.kjobs\.ProbeCommand\.execute/,
    );
    assert.equal(body.retry, true);
    await worker.logged(
      new RegExp(
        `job ${retried} ${P}ProbeCommand failed in \\d+ ms \\(attempt 1\\): java.io.IOException: boom; now RETRYING`,
      ),
    );
    assert.doesNotMatch(callbacks(), /error/);

    const last = queue({ command: `${P}ProbeCommand`, retries: 0, requestData: data });
    await outcome(last, 'fail');
    await worker.logged(new RegExp(`job ${last} .* now ERROR`));
    await eventually(callbacks, (text) => text.includes('error java.io.IOException: boom'));
  });

  it('asks for no retry where retrying cannot help', async () => {
    const id = queue({ command: `${P}NeedsRuntimeCommand`, retries: 3 });
    const body = await outcome(id, 'fail');
    assert.equal(body.retry, false);
    assert.match(String(body.message), /needs KIE's process runtime/);
  });

  it('a 409 drops the outcome; a 413 on complete fails the job without retry', async () => {
    const lost = nextId;
    standIn.outcomeAnswers.set(`/jobs/${lost}/complete`, [409, { error: 'lease lost' }]);
    queue({ command: `${P}ProbeCommand`, requestData: { mode: 'null' } });
    await worker.logged(new RegExp(`job ${lost} ${P}ProbeCommand DONE, but its lease was lost meanwhile`));

    const large = nextId;
    standIn.outcomeAnswers.set(`/jobs/${large}/complete`, [413, { error: 'response data too large' }]);
    queue({ command: `${P}ProbeCommand`, retries: 3, requestData: { mode: 'null' } });
    await eventually(
      () => standIn.callsTo(`/jobs/${large}/fail`),
      (calls) => calls.length > 0,
    );
    const body = standIn.callsTo(`/jobs/${large}/fail`)[0]!.body;
    assert.equal(body.retry, false);
    assert.match(String(body.message), /larger than the server accepts \(--max-data-size\)/);
  });

  it('heartbeats its running jobs in one call, and interrupts those cancelled or lost, reporting nothing', async () => {
    const sleep = { command: `${P}ProbeCommand`, requestData: { mode: 'sleep', ms: 60000 } };
    const cancelled = queue(sleep);
    const lost = queue(sleep);
    const [beat] = await eventually(
      () => standIn.callsTo('/heartbeat').filter((call) => (call.body.jobs as unknown[]).length === 2),
      (calls) => calls.length > 0,
    );
    const beaten = (beat!.body.jobs as { id: number; lease: string }[]).sort((a, b) => a.id - b.id);
    assert.deepEqual(
      beaten,
      [cancelled, lost].map((id) => ({ id, lease: standIn.leaseOf(id) })),
    );
    standIn.leases.set(cancelled, { held: true, cancelled: true });
    standIn.leases.set(lost, { held: false, cancelled: false });
    await worker.logged(
      new RegExp(`job ${cancelled} ${P}ProbeCommand was CANCELLED on the server: interrupting it`),
    );
    await worker.logged(new RegExp(`job ${lost} ${P}ProbeCommand lost its lease`));
    // Their slots are free again: the next job runs at once.
    const quick = queue({ command: `${P}ProbeCommand`, requestData: { mode: 'null' } });
    await outcome(quick, 'complete');
    for (const id of [cancelled, lost]) {
      assert.deepEqual(
        standIn.calls.filter((call) => call.path.startsWith(`/jobs/${id}/`)),
        [],
      );
    }
  });

  it('on SIGTERM stops claiming, gives back the job still running at its stop timeout, and exits', async () => {
    const id = queue({ command: `${P}ProbeCommand`, requestData: { mode: 'sleep', ms: 60000 } });
    await eventually(
      () => standIn.callsTo('/heartbeat').filter((call) => JSON.stringify(call.body).includes(`"id":${id},`)),
      (calls) => calls.length > 0,
    );
    const claims = standIn.callsTo('/claim').length;
    worker.signal('SIGTERM');
    const body = await outcome(id, 'release');
    assert.equal(body.lease, standIn.leaseOf(id));
    const { code } = await worker.exited;
    assert.equal(code, 143);
    assert.equal(standIn.callsTo('/claim').length, claims);
    assert.match(worker.log, /stopped: 0 of 1 running jobs finished, 1 given back/);
  });
});

describe('the Java worker and a server that is down or refuses it', { skip }, () => {
  before(() => prepareJava());

  it('retries the claim with backoff while nothing answers, then claims; SIGTERM ends it', async () => {
    const port = await freePort();
    const worker = startWorker(`http://127.0.0.1:${port}${ROOT_PATH}`, ['--classpath', prepareJava()]);
    await worker.logged(/WARN {2}claim failed, next try in \d+ ms: POST .*\/claim: ConnectException/);
    const standIn = new WorkerProtocolStandIn();
    await standIn.listen(port);
    cleanups.push(() => standIn.close());
    await eventually(
      () => standIn.callsTo('/claim'),
      (calls) => calls.length > 0,
    );
    standIn.enqueue({ id: 1, command: `${P}ProbeCommand`, requestData: { mode: 'null' } });
    await eventually(
      () => standIn.callsTo('/jobs/1/complete'),
      (calls) => calls.length > 0,
    );
    await worker.logged(/server reachable again: claiming/);
    worker.signal('SIGTERM');
    assert.equal((await worker.exited).code, 143);
  });

  it('exits 3 with the server’s sentence and a hint when it refuses the worker', async () => {
    const standIn = new WorkerProtocolStandIn();
    standIn.claimAnswer = [401, { error: 'Unauthorized: wrong user or password' }];
    const url = await standIn.listen();
    cleanups.push(() => standIn.close());
    const worker = startWorker(url, ['--classpath', prepareJava()], 'wrong');
    assert.equal((await worker.exited).code, 3);
    assert.match(
      worker.log,
      /ERROR the server refused this worker's claim: POST .*\/claim answered 401: Unauthorized: wrong user or password \(check --user and KJOBS_PASSWORD\)/,
    );
  });
});
