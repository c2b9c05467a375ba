/**
 * The Java worker (workers/java/, issue 35) with real Java and no server: KIE-style commands and callbacks
 * (test/fixtures/java/, examples/java/) compiled against the worker's jar in this test, run by the worker's own
 * code through its --run and --run-jobs entry points, which print each outcome as the worker would report it.
 * Proves the request data's Java values, the class loading, results, exceptions and stack traces, callbacks and
 * Reoccurring. (test/workers/java-worker-protocol.test.ts covers the worker's side of the HTTP protocol.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { javaSkip, jdkTool, prepareJava, ROOT, WORKER_JAR } from './java-helpers.js';

const skip = javaSkip();

interface Outcome {
  command: string;
  status: 'DONE' | 'RETRYING' | 'ERROR';
  responseData?: Record<string, unknown>;
  nextRun?: string | null;
  message?: string;
  stacktrace?: string;
  retry?: boolean;
  callbacks: string[];
}

/** Runs the worker's jar with `args`; answers its exit status and output. */
function worker(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(jdkTool('java'), ['-jar', WORKER_JAR, ...args], {
    encoding: 'utf8',
    input,
    env,
    cwd: ROOT,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const P = 'com.example.kjobs.';
const folder = mkdtempSync(join(tmpdir(), 'kjobs-java-'));
const callbackLog = join(folder, 'callbacks.log');
after(() => rmSync(folder, { recursive: true, force: true }));

const requestData = {
  text: 'Ada',
  small: 42,
  negative: -2147483648,
  big: 2147483648,
  huge: 2 ** 53,
  beyondLong: 1e20,
  ratio: 12.5,
  flag: true,
  nothing: null,
  due: { 'java.util.Date': 1796680000000 },
  dueIso: { 'java.util.Date': '2026-12-07T21:51:14.000Z' },
  list: [1, 'two', { 'java.util.Date': 0 }, [false]],
  map: { nested: { deeper: 3000000000 }, when: { 'java.util.Date': 5 } },
  unicode: 'é \u2028 😀 "quoted" \\ \n',
};

/** The jobs of the one --run-jobs run, by name; each test reads the outcome of its own. */
const JOBS = {
  describe: { command: `${P}ProbeCommand`, requestData: { mode: 'describe', ...requestData } },
  describeAgain: {
    command: `${P}ProbeCommand`,
    containerId: 'billing',
    businessKey: 'invoice-7',
    requestData: { mode: 'describe' },
  },
  javaValues: { command: `${P}ProbeCommand`, requestData: { mode: 'javaValues' } },
  nullResults: {
    command: `${P}ProbeCommand`,
    requestData: { mode: 'null', callbacks: `${P}RecordingCallback`, callbackLog },
  },
  throwsWithRetries: {
    command: `${P}ProbeCommand`,
    retries: 2,
    requestData: {
      mode: 'throw',
      message: 'mail server down',
      callbacks: `${P}RecordingCallback`,
      callbackLog,
    },
  },
  throwsLast: {
    command: `${P}ProbeCommand`,
    retries: 0,
    requestData: {
      mode: 'throw',
      message: 'still down',
      callbacks: ` ${P}ThrowingCallback , ${P}RecordingCallback`,
      callbackLog,
    },
  },
  object: { command: `${P}ProbeCommand`, requestData: { mode: 'object' } },
  cycle: { command: `${P}ProbeCommand`, requestData: { mode: 'cycle' } },
  inexact: { command: `${P}ProbeCommand`, requestData: { mode: 'inexact' } },
  nan: { command: `${P}ProbeCommand`, requestData: { mode: 'nan' } },
  mapKey: { command: `${P}ProbeCommand`, requestData: { mode: 'mapKey' } },
  javaObject: {
    command: `${P}ProbeCommand`,
    requestData: { mode: 'describe', person: { 'com.acme.Person': { name: 'john' } } },
  },
  workItem: {
    command: `${P}ProbeCommand`,
    requestData: { mode: 'describe', workItem: { 'org.drools.core.process.instance.impl.WorkItemImpl': {} } },
  },
  badDate: {
    command: `${P}ProbeCommand`,
    requestData: { mode: 'describe', when: { 'java.util.Date': 'soon' } },
  },
  unknown: { command: `${P}Nope`, retries: 3, requestData: {} },
  notACommand: { command: `${P}NotACommand`, retries: 3, requestData: {} },
  noConstructor: { command: `${P}NoDefaultConstructorCommand`, retries: 3, requestData: {} },
  needsRuntime: { command: `${P}NeedsRuntimeCommand`, retries: 3, requestData: {} },
  unknownCallback: { command: `${P}ProbeCommand`, requestData: { mode: 'null', callbacks: `${P}Nobody` } },
  callbacksNotText: { command: `${P}ProbeCommand`, requestData: { mode: 'null', callbacks: [`${P}Nobody`] } },
  reoccurring: { command: `${P}EveryIntervalCommand`, requestData: { intervalMs: 60000 } },
  reoccurringPast: { command: `${P}EveryIntervalCommand`, requestData: { intervalMs: 1, past: true } },
  reoccurringStops: { command: `${P}EveryIntervalCommand`, requestData: {} },
} as const;
type JobName = keyof typeof JOBS;

const outcomes = new Map<JobName, Outcome>();
let commandsJar = '';
let runLog = '';

describe('the Java worker, without a server', { skip }, () => {
  before(() => {
    commandsJar = prepareJava();
    const names = Object.keys(JOBS) as JobName[];
    const ran = worker(['--classpath', commandsJar, '--run-jobs', '-'], JSON.stringify(Object.values(JOBS)));
    assert.equal(ran.status, 0, ran.stderr);
    runLog = ran.stderr;
    const lines = ran.stdout.trim().split('\n');
    assert.equal(lines.length, names.length, ran.stdout + ran.stderr);
    names.forEach((name, i) => outcomes.set(name, JSON.parse(lines[i]!) as Outcome));
  });

  const outcome = (name: JobName) => outcomes.get(name)!;
  const callbackLines = () => readFileSync(callbackLog, 'utf8').trim().split('\n');

  it('gives the command its request data as KIE does: String, Integer or Long, Double, Boolean, Date, List, Map', () => {
    const { status, responseData } = outcome('describe');
    assert.equal(status, 'DONE');
    assert.deepEqual(responseData?.types, {
      mode: 'String',
      text: 'String',
      small: 'Integer',
      negative: 'Integer',
      big: 'Long',
      huge: 'Long',
      beyondLong: 'Double',
      ratio: 'Double',
      flag: 'Boolean',
      nothing: 'null',
      due: 'Date',
      dueIso: 'Date',
      list: ['Integer', 'String', 'Date', ['Boolean']],
      map: { nested: { deeper: 'Long' }, when: 'Date' },
      unicode: 'String',
    });
  });

  it('writes the values back as the same JSON, dates as {"java.util.Date": ms}', () => {
    const echo = outcome('describe').responseData?.echo as Record<string, unknown>;
    assert.deepEqual(echo, {
      ...requestData,
      mode: 'describe',
      dueIso: { 'java.util.Date': Date.parse('2026-12-07T21:51:14.000Z') },
    });
  });

  it('makes a new instance per run, in a class loader of its own that sees KIE’s API and the JDK, not the worker', () => {
    const first = outcome('describe').responseData!;
    const second = outcome('describeAgain').responseData!;
    assert.equal(Number(second.instances), Number(first.instances) + 1);
    for (const seen of [first, second]) {
      assert.equal(seen.classLoaderIsOwn, true, 'ctx ClassLoader (as KIE sets it) is the commands’ loader');
      assert.equal(seen.contextClassLoaderIsOwn, true);
      assert.equal(seen.contextIsHashMap, true);
      assert.equal(seen.workerClassesHidden, true);
      assert.equal(seen.kieApiVisible, true);
      assert.equal(seen.jdkVisible, true);
    }
  });

  it('has KIE’s serial version UIDs and toString forms', () => {
    const seen = outcome('describe').responseData!;
    assert.equal(seen.commandContextUID, '-1440017934399413860');
    assert.equal(seen.executionResultsUID, '-1738336024526084091');
    assert.equal(seen.contextToString, 'CommandContext{data={a=1}}');
    assert.equal(seen.resultsToString, 'ExecutionResults{data={a=1}}');
  });

  it('adds the keys KIE’s executor adds (deploymentId, businessKey) where the request data lacks them', () => {
    assert.deepEqual(outcome('describeAgain').responseData?.echo, {
      mode: 'describe',
      deploymentId: 'billing',
      businessKey: 'invoice-7',
    });
  });

  it('converts the Java types of results that JSON can hold', () => {
    const { status, responseData } = outcome('javaValues');
    assert.equal(status, 'DONE');
    assert.deepEqual(responseData, {
      short: 7,
      long: 2 ** 60,
      float: 1.5,
      decimal: 2.25,
      char: 'x',
      enum: 'RED',
      ints: [1, 2],
      set: ['a', 'b'],
      dates: [{ 'java.util.Date': 0 }, { 'java.util.Date': 1000 }],
      nothing: null,
    });
  });

  it('null results are empty response data; onCommandDone gets results with CompletedAt, as under KIE', () => {
    const { status, responseData, callbacks } = outcome('nullResults');
    assert.equal(status, 'DONE');
    assert.deepEqual(responseData, {});
    assert.deepEqual(callbacks, [`${P}RecordingCallback.onCommandDone`]);
    assert.ok(callbackLines().includes('done [CompletedAt]'), readFileSync(callbackLog, 'utf8'));
  });

  it('a thrown exception is a failed attempt with its message and Java stack trace, retried; no callback yet', () => {
    const { status, message, stacktrace, retry, callbacks } = outcome('throwsWithRetries');
    assert.equal(status, 'RETRYING');
    assert.equal(retry, true);
    assert.equal(message, 'java.io.IOException: mail server down');
    assert.match(
      stacktrace!,
      /^java\.io\.IOException: mail server down\n\tat com\.example\.kjobs\.ProbeCommand\.execute\(ProbeCommand\.java:\d+\)\n/,
    );
    assert.deepEqual(callbacks, []);
  });

  it('the last failed attempt calls onCommandError of each callback, in order, past one that throws', () => {
    const { status, callbacks } = outcome('throwsLast');
    assert.equal(status, 'ERROR');
    assert.deepEqual(callbacks, [
      `${P}ThrowingCallback.onCommandError threw java.lang.IllegalStateException: callback fails on purpose`,
      `${P}RecordingCallback.onCommandError`,
    ]);
    assert.ok(callbackLines().includes('error java.io.IOException: still down'));
    assert.match(
      runLog,
      /callback com\.example\.kjobs\.ThrowingCallback\.onCommandError threw: java\.lang\.IllegalStateException/,
    );
  });

  it('results JSON cannot hold fail the job without retry, saying where and what', () => {
    const expected: Partial<Record<JobName, RegExp>> = {
      object: /^results value at thing is a java\.lang\.Object, which has no JSON form/,
      cycle: /^results value at list\[0\] contains itself$/,
      inexact: /^results value at big is 9007199254740993, beyond the integers a JSON number keeps exactly/,
      nan: /^results value at ratio is NaN, which JSON cannot hold/,
      mapKey:
        /^results value at byNumber has a key 1 of class java\.lang\.Integer: map keys must be strings$/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const failed = outcome(name as JobName);
      assert.equal(failed.status, 'ERROR', name);
      assert.equal(failed.retry, false, name);
      assert.match(failed.message!, pattern, name);
    }
  });

  it('request data holding other Java objects is refused before the command runs, without retry', () => {
    assert.equal(outcome('javaObject').retry, false);
    assert.match(
      outcome('javaObject').message!,
      /^request data value at person holds a Java object of class com\.acme\.Person \(\{"com\.acme\.Person": \.\.\.\}\): the kjobs Java worker gives commands only strings, numbers, booleans, dates/,
    );
    assert.match(outcome('workItem').message!, /belongs to KIE's engine \(process runtime\)/);
    assert.match(
      outcome('badDate').message!,
      /^request data value at when is a date .* holding "soon": expected epoch milliseconds/,
    );
  });

  it('commands that need KIE’s process runtime fail with a clear error, without retry', () => {
    const { status, message, retry, stacktrace } = outcome('needsRuntime');
    assert.equal(status, 'ERROR');
    assert.equal(retry, false);
    assert.equal(
      message,
      `${P}NeedsRuntimeCommand needs KIE's process runtime or engine (missing class ` +
        "org.kie.internal.runtime.manager.RuntimeManagerRegistry): the kjobs Java worker provides only KIE's " +
        'command API (org.kie.api.executor)',
    );
    assert.match(
      stacktrace!,
      /NoClassDefFoundError: org\/kie\/internal\/runtime\/manager\/RuntimeManagerRegistry/,
    );
  });

  it('an unknown command is KIE’s error, retried (its jar may come); a class that cannot be one is not retried', () => {
    assert.equal(outcome('unknown').status, 'RETRYING');
    assert.equal(
      outcome('unknown').message,
      `Unknown Command implementation with name '${P}Nope' (not in --classpath)`,
    );
    assert.match(
      outcome('unknown').stacktrace!,
      /Caused by: java\.lang\.ClassNotFoundException: com\.example\.kjobs\.Nope/,
    );
    assert.equal(outcome('notACommand').retry, false);
    assert.equal(
      outcome('notACommand').message,
      `${P}NotACommand does not implement org.kie.api.executor.Command`,
    );
    assert.equal(outcome('noConstructor').retry, false);
    assert.match(
      outcome('noConstructor').message!,
      /NoDefaultConstructorCommand has no public no-argument constructor/,
    );
  });

  it('callbacks are class names, found before the command runs', () => {
    assert.equal(outcome('unknownCallback').status, 'ERROR');
    assert.equal(
      outcome('unknownCallback').message,
      `Unknown CommandCallback implementation with name '${P}Nobody' (not in --classpath)`,
    );
    assert.equal(outcome('callbacksNotText').retry, false);
    assert.match(outcome('callbacksNotText').message!, /callbacks must be a comma-separated string/);
  });

  it('a Reoccurring command gives its next run when it is in the future, and none otherwise', () => {
    const next = Date.parse(outcome('reoccurring').nextRun!);
    assert.ok(Math.abs(next - (Date.now() + 60_000)) < 30_000, outcome('reoccurring').nextRun!);
    assert.match(outcome('reoccurring').nextRun!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(outcome('reoccurringPast').nextRun, null);
    assert.match(runLog, /getScheduleTime\(\) answered .*, not in the future: no next run/);
    assert.equal(outcome('reoccurringStops').nextRun, null);
  });

  it('--run tries one command (here examples/java) and exits 0 when DONE, 1 when not', () => {
    const data = { customer: 'Ada', amount: 12.5, due: { 'java.util.Date': 1796680000000 } };
    const done = worker([
      '--classpath',
      `${dirname(commandsJar)}/*`,
      '--run',
      'com.acme.billing.SendInvoiceCommand',
      '--data',
      JSON.stringify({ ...data, callbacks: 'com.acme.billing.InvoiceAuditCallback' }),
    ]);
    assert.equal(done.status, 0, done.stderr);
    const result = JSON.parse(done.stdout) as Outcome;
    assert.equal(result.responseData?.invoice, 'F-20261207-7e');
    assert.equal(result.responseData?.total, 12.5);
    assert.deepEqual(result.callbacks, ['com.acme.billing.InvoiceAuditCallback.onCommandDone']);
    assert.match(done.stderr, /invoice F-20261207-7e sent to Ada/);

    const failed = worker([
      '--classpath',
      commandsJar,
      '--run',
      'com.acme.billing.SendInvoiceCommand',
      '--data',
      '{"customer": "Ada", "amount": -1}',
    ]);
    assert.equal(failed.status, 1);
    assert.equal(
      (JSON.parse(failed.stdout) as Outcome).message,
      'java.lang.IllegalArgumentException: amount must be positive, got -1',
    );
  });

  it('usage errors exit 2 with a sentence; the password is never an option', () => {
    const cases: [string[], RegExp][] = [
      [[], /--classpath JARS is required/],
      [['--classpath', join(folder, 'none.jar')], /--classpath: no file or folder .*none\.jar/],
      [['--classpath', commandsJar], /--container ID is required/],
      [
        ['--classpath', commandsJar, '--container', 'b', '--password', 'x'],
        /KJOBS_PASSWORD, never on the command line/,
      ],
      [['--classpath', commandsJar, '--concurrency', '0'], /--concurrency 0: expected a whole number from 1/],
      [
        ['--classpath', `${commandsJar}${delimiter}${folder}`, '--run', 'x', '--data', '[1]'],
        /--data is not a JSON object/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const ran = worker(args, undefined, { ...process.env, KJOBS_CONTAINER: '' });
      assert.equal(ran.status, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, pattern);
    }
    const help = worker(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--url URL .*KJOBS_URL/);
  });

  it('npm run build:java builds the jar, stamped with the package version', () => {
    const { version, scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      scripts: Record<string, string>;
    };
    assert.equal(scripts['build:java'], 'node scripts/build-java.mjs');
    assert.equal(worker(['--version']).stdout.trim(), `kjobs-kie-worker ${version}`);
  });
});
