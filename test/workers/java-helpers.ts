/**
 * Real Java for the Java worker's tests: the worker's jar, built once per change of its sources
 * (scripts/build-java.mjs --if-changed), and a jar of the test commands (test/fixtures/java/) and of examples/java,
 * compiled against it with javac and cached by what it is made from.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WORKER_JAR = join(ROOT, 'workers', 'java', 'dist', 'kjobs-kie-worker.jar');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'java');
const CACHE = join(ROOT, '.tmp', 'java-worker');

/** A JDK tool: from JAVA_HOME when set, else from PATH (as scripts/build-java.mjs finds them). */
export function jdkTool(name: string): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', name) : name;
}

/** Why the Java tests cannot run here (no JDK 17+), or false when they can. */
export function missingJdk(): string | false {
  for (const name of ['javac', 'java']) {
    const probe = spawnSync(jdkTool(name), ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      return `no JDK (${jdkTool(name)} not found on PATH or in JAVA_HOME): the Java worker's tests need a JDK 17 or later`;
    }
    const major = Number(/(\d+)[.\s]/.exec(probe.stdout)?.[1]);
    if (!(major >= 17))
      return `the Java worker's tests need a JDK 17 or later; ${jdkTool(name)} is ${probe.stdout}`;
  }
  return false;
}

/**
 * The `skip` option of the Java tests: a sentence when no JDK is found, false otherwise. Under CI=true a missing
 * JDK is an error instead (thrown when the test file loads).
 */
export function javaSkip(): string | false {
  const missing = missingJdk();
  if (missing && process.env.CI === 'true')
    throw new Error(`${missing} (CI=true: the Java worker must be tested)`);
  return missing;
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: ROOT });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} failed: ${result.error?.message ?? ''}${result.stdout}${result.stderr}`,
  );
  return result.stdout;
}

function javaFiles(folder: string): string[] {
  return readdirSync(folder)
    .flatMap((entry) => {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) return javaFiles(path);
      return entry.endsWith('.java') ? [path] : [];
    })
    .sort();
}

/**
 * Builds the worker's jar if its sources changed, then answers the jar of the test commands and the examples,
 * compiled against it (with a stand-in for a class of KIE's engine that the jar leaves out).
 */
export function prepareJava(): string {
  prepared ??= buildAndCompile();
  return prepared;
}
let prepared: string | undefined;

function buildAndCompile(): string {
  run(process.execPath, [join(ROOT, 'scripts', 'build-java.mjs'), '--if-changed']);
  const sources = [...javaFiles(FIXTURES), ...javaFiles(join(ROOT, 'examples', 'java'))];
  const hash = createHash('sha256').update(readFileSync(WORKER_JAR));
  for (const file of sources) hash.update(file).update(readFileSync(file));
  const jar = join(CACHE, `commands-${hash.digest('hex').slice(0, 16)}.jar`);
  if (existsSync(jar)) return jar;

  const work = join(CACHE, `build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'classes'), { recursive: true });
  try {
    run(jdkTool('javac'), [
      '--release',
      '17',
      '-encoding',
      'UTF-8',
      '-cp',
      WORKER_JAR,
      '-d',
      join(work, 'classes'),
      ...sources,
    ]);
    // The jar holds the commands (com/...), not the engine stand-in (org/kie/internal): absent at run time.
    run(jdkTool('jar'), [
      '--create',
      '--file',
      join(work, 'commands.jar'),
      '-C',
      join(work, 'classes'),
      'com',
    ]);
    // Jars of older sources go; not this one, which a test file running beside this one may be using.
    for (const old of readdirSync(CACHE)) {
      if (old.startsWith('commands-') && join(CACHE, old) !== jar) rmSync(join(CACHE, old), { force: true });
    }
    renameSync(join(work, 'commands.jar'), jar);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return jar;
}

/**
 * A running worker (`java -jar` the worker's jar with `args`, `env` added to this process's environment): its log
 * (standard error) so far, and how it ended. The caller ends it (`signal`) when its tests end.
 */
export class JavaWorkerProcess {
  log = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(jdkTool('java'), ['-jar', WORKER_JAR, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves once the log has a line matching `pattern`. */
  logged(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    return eventually(
      () => this.log,
      (log) => pattern.test(log),
      timeoutMs,
    );
  }

  /** Sends a signal (SIGTERM: a graceful stop; SIGKILL: a crash); nothing if it has ended. */
  signal(name: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(name);
  }
}
