// Builds the Java worker (workers/java/, issue 35) with the JDK alone: javac and jar, no Maven, no libraries.
// Writes workers/java/dist/kjobs-kie-worker.jar and, next to it, the hash of what it was built from.
// `--if-changed` skips the build when that hash matches (the tests build once per checkout and change).
// Exits 1 with a sentence when no JDK 17 or later is found (JAVA_HOME, else PATH).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER = join(ROOT, 'workers', 'java');
const SOURCES = join(WORKER, 'src');
const DIST = join(WORKER, 'dist');
const JAR = join(DIST, 'kjobs-kie-worker.jar');
const STAMP = `${JAR}.sha256`;
const MAIN_CLASS = 'org.kjobs.worker.Main';

/** A JDK tool: from JAVA_HOME when set, else from PATH. */
function tool(name) {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', name) : name;
}

function javaSources(folder) {
  return readdirSync(folder)
    .flatMap((entry) => {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) return javaSources(path);
      return entry.endsWith('.java') ? [path] : [];
    })
    .sort();
}

/** What the jar is built from: the sources, this script and the version it is stamped with. */
function sourceHash(sources, version) {
  const hash = createHash('sha256');
  hash.update(`version ${version}\n`);
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of sources) {
    hash.update(`\n${relative(WORKER, file)}\n`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

function fail(message) {
  console.error(`build-java: ${message}`);
  process.exit(1);
}

/** The JDK's major version, or a failure naming what is missing. */
function checkJdk() {
  const javac = spawnSync(tool('javac'), ['-version'], { encoding: 'utf8' });
  if (javac.error || javac.status !== 0) {
    fail(
      `no JDK found (${tool('javac')}: ${javac.error?.message ?? javac.stderr.trim()}): the Java worker needs a JDK 17 ` +
        'or later (javac and jar), on PATH or in JAVA_HOME; on Debian: apt-get install openjdk-17-jdk-headless',
    );
  }
  const major = Number(/javac (\d+)/.exec(`${javac.stdout}${javac.stderr}`)?.[1]);
  if (!(major >= 17))
    fail(`the Java worker needs a JDK 17 or later; ${tool('javac')} is ${javac.stdout.trim()}`);
  return major;
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    fail(
      `${command} ${args.join(' ')} failed:\n${result.error?.message ?? ''}${result.stdout}${result.stderr}`,
    );
  }
}

const started = Date.now();
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const sources = javaSources(SOURCES);
const hash = sourceHash(sources, version);
if (process.argv.includes('--if-changed') && existsSync(JAR) && existsSync(STAMP)) {
  if (readFileSync(STAMP, 'utf8').trim() === hash) {
    console.log(`build-java: ${relative(ROOT, JAR)} is up to date`);
    process.exit(0);
  }
}
checkJdk();

// Built aside, then moved into place: a build cut short never leaves a half-written jar.
const work = join(DIST, `.build-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'classes'), { recursive: true });
try {
  writeFileSync(join(work, 'sources.txt'), sources.map((file) => `"${file}"`).join('\n'));
  run(tool('javac'), [
    '--release',
    '17',
    '-encoding',
    'UTF-8',
    '-Xlint:all',
    '-Werror',
    '-d',
    join(work, 'classes'),
    `@${join(work, 'sources.txt')}`,
  ]);
  writeFileSync(
    join(work, 'manifest.txt'),
    [
      `Main-Class: ${MAIN_CLASS}`,
      'Implementation-Title: kjobs-kie-worker',
      `Implementation-Version: ${version}`,
      'Implementation-Vendor: kjobs',
      '',
    ].join('\n'),
  );
  run(tool('jar'), [
    '--create',
    '--file',
    join(work, 'kjobs-kie-worker.jar'),
    '--manifest',
    join(work, 'manifest.txt'),
    '-C',
    join(work, 'classes'),
    '.',
  ]);
  renameSync(join(work, 'kjobs-kie-worker.jar'), JAR);
  writeFileSync(STAMP, `${hash}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
const kib = Math.round(statSync(JAR).size / 1024);
console.log(`build-java: built ${relative(ROOT, JAR)} (${kib} KiB) in ${Date.now() - started} ms`);
