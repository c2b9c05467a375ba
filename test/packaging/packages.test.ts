/**
 * The packages as users install them: `npm pack` of kjobs and @kjobs/client (each built by its prepack), the
 * tarballs installed into empty projects with no build step there, then used as README.md and docs/ say: the library
 * runs a job on SQLite, `npx kjobs --version`, `kjobs serve` answering both clients and serving the console, and
 * loading TypeScript containers once the project has tsx (and compiled CommonJS ones), `--otel` once the project
 * has the OpenTelemetry SDK (not installed with kjobs), a TypeScript
 * file type-checked under strict with moduleResolution nodenext, node16 and bundler, the client bundled for the
 * browser, and the client's dependency tree free of native modules and database drivers.
 *
 * Installs take packages from npm's cache (`--prefer-offline`): after `npm ci` it holds every tarball, but not the
 * registry's metadata, which a first run fetches (a few seconds) and later runs find in the cache. better-sqlite3's
 * install script runs, with the checkout's binary as its prebuild (install-env.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { OTEL_INSTALL_LINE } from '../../src/observability/otel-sdk.js';
import { headingSlugs, relativeLinks } from '../doc-links.js';
import { eventually } from '../helpers.js';
import { localPrebuilds, userEnv } from './install-env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
interface Manifest {
  version: string;
  dependencies: Record<string, string>;
}
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const versionIn = (name: string) =>
  (createRequire(join(ROOT, 'package.json'))(`${name}/package.json`) as { version: string }).version;

const work = mkdtempSync(join(tmpdir(), 'kjobs-packages-'));
const serverProject = join(work, 'server-project');
const clientProject = join(work, 'client-project');

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}
let packed: Record<'kjobs' | '@kjobs/client', Packed>;
/** What the installs add to npm's environment: where better-sqlite3's prebuilt binary is. */
let prebuilds: Record<string, string> = {};

function run(command: string, args: string[], cwd: string, env = userEnv()): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ''}):\n` +
      `${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

/**
 * An empty project, as `npm init` and docs/install.md leave it: better-sqlite3's install script approved, and
 * cookie kept at 1 for fastify's light-my-request (cookie 2 needs Node.js 22). The install warns of no engine.
 */
function project(folder: string, tarballs: string[], more: string[] = []): void {
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'package.json'),
    JSON.stringify({
      name: 'user-project',
      private: true,
      type: 'module',
      allowScripts: { 'better-sqlite3': true },
      overrides: { 'light-my-request': { cookie: '^1.1.1' } },
    }),
  );
  const env = userEnv(prebuilds);
  const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, ...more];
  const result = spawnSync('npm', args, { cwd: folder, env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(result.status, 0, `npm ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /EBADENGINE/, result.stderr);
}

before(() => {
  const destination = join(work, 'tarballs');
  mkdirSync(destination);
  const answer = run(
    'npm',
    ['pack', '--json', '--workspaces', '--include-workspace-root', '--pack-destination', destination],
    ROOT,
  );
  const list = JSON.parse(answer) as Packed[];
  packed = Object.fromEntries(list.map((entry) => [entry.name, entry])) as typeof packed;
  assert.deepEqual(Object.keys(packed).sort(), ['@kjobs/client', 'kjobs']);
  const tarball = (name: keyof typeof packed) => join(destination, packed[name].filename);
  prebuilds = localPrebuilds(join(work, 'prebuilds'));
  project(
    serverProject,
    [tarball('kjobs'), tarball('@kjobs/client')],
    [`typescript@${versionIn('typescript')}`],
  );
  project(clientProject, [tarball('@kjobs/client')]);
});

after(() => rmSync(work, { recursive: true, force: true }));

/**
 * `kjobs serve` of the server project on a free port: resolves once it listens (with its origin) or has ended (with
 * its exit code), and its log lines either way.
 */
async function serve(
  args: string[],
): Promise<{ origin?: string; code?: number | null; log: string[]; stop(): Promise<void> }> {
  const child = spawn(
    join(serverProject, 'node_modules/.bin/kjobs'),
    ['serve', '--port', '0', '--db', './data/serve.db', '--log-format', 'json', ...args],
    { cwd: serverProject, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  const origin = await new Promise<string | undefined>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kjobs serve did not start:\n${log.join('\n')}`)),
      60_000,
    );
    void exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      const address = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line);
      if (address) {
        clearTimeout(timer);
        resolve(address[1]!);
      }
    });
  });
  return origin ? { origin, log, stop } : { code: await exited, log, stop };
}

describe('the packages users install', () => {
  it('kjobs ships the library, the binary, the migrations and the console: no sources, tests, benchmarks or configs', () => {
    const paths = packed.kjobs.files.map((file) => file.path);
    const strays = paths.filter(
      (path) =>
        !['package.json', 'README.md', 'LICENSE', 'bin/kjobs.js'].includes(path) &&
        !path.startsWith('dist/') &&
        !path.startsWith('docs/'),
    );
    assert.deepEqual(strays, []);
    assert.deepEqual(
      paths.filter((path) => path.endsWith('.map')),
      [],
    );
    for (const path of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/client/index.js',
      'dist/console/index.html',
      'dist/console/app.js',
      'dist/store/sqlite/migrations/001_jobs.sql',
    ]) {
      assert.ok(paths.includes(path), `${path} is missing from kjobs: ${paths.join(' ')}`);
    }
    assert.ok(paths.some((path) => /^dist\/store\/postgres\/migrations\/.+\.sql$/.test(path)));
  });

  it('@kjobs/client ships the client and what it shares with the server, nothing of the server', () => {
    const paths = packed['@kjobs/client'].files.map((file) => file.path);
    const strays = paths.filter(
      (path) =>
        !['package.json', 'README.md', 'LICENSE'].includes(path) &&
        !/^dist\/(client|kie)\/[^/]+\.(js|d\.ts)$/.test(path),
    );
    assert.deepEqual(strays, []);
    assert.ok(paths.includes('dist/client/index.js') && paths.includes('dist/client/index.d.ts'));
    // Released together with kjobs, on the same XML parser as kjobs/client.
    const client = JSON.parse(readFileSync(join(ROOT, 'packages/client/package.json'), 'utf8')) as Manifest;
    assert.equal(client.version, rootPackage.version);
    assert.deepEqual(client.dependencies, { 'fast-xml-parser': rootPackage.dependencies['fast-xml-parser'] });
  });

  it("both ship the Apache-2.0 license their package.json names, and their pages' links lead to files they ship", () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    for (const [name, installed] of [
      ['kjobs', join(serverProject, 'node_modules/kjobs')],
      ['@kjobs/client', join(clientProject, 'node_modules/@kjobs/client')],
    ] as const) {
      const paths = new Set(packed[name].files.map((file) => file.path));
      assert.ok(paths.has('LICENSE'), `${name} ships no LICENSE`);
      assert.equal(readFileSync(join(installed, 'LICENSE'), 'utf8'), license);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
        license: string;
      };
      assert.equal(manifest.license, 'Apache-2.0');
      const broken: string[] = [];
      for (const page of [...paths].filter((path) => path.endsWith('.md'))) {
        for (const { target, line } of relativeLinks(readFileSync(join(installed, page), 'utf8'))) {
          const [path = '', anchor] = target.split('#');
          const file = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), path));
          if (!paths.has(file)) broken.push(`${name} ${page} line ${line}: ${target} (not in the package)`);
          else if (
            anchor &&
            file.endsWith('.md') &&
            !headingSlugs(readFileSync(join(installed, file), 'utf8')).has(anchor)
          )
            broken.push(`${name} ${page} line ${line}: ${target} (no such heading)`);
        }
      }
      assert.deepEqual(broken, []);
    }
  });

  it('the library runs a job on SQLite', () => {
    writeFileSync(
      join(serverProject, 'library.js'),
      `import { createKjobs } from 'kjobs';
const kjobs = await createKjobs({
  store: './data/jobs.db',
  commands: { 'com.acme.Greet': async ({ data }) => ({ greeting: 'Hello, ' + data.name }) },
});
await kjobs.start();
const id = await kjobs.schedule({ command: 'com.acme.Greet', data: { name: 'Ada' } });
const job = await kjobs.waitFor(id);
console.log(job.status, JSON.stringify(job.responseData));
await kjobs.stop();
`,
    );
    assert.equal(
      run(process.execPath, ['library.js'], serverProject).trim(),
      'DONE {"greeting":"Hello, Ada"}',
    );
  });

  it("a CommonJS project (npm 11's npm init -y) requires kjobs, its client and @kjobs/client", (t) => {
    const folder = join(serverProject, 'commonjs');
    mkdirSync(folder);
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'cjs', type: 'commonjs' }));
    writeFileSync(
      join(folder, 'index.js'),
      `const { createKjobs } = require('kjobs');
const { KieJobsClient } = require('kjobs/client');
const { fetchWithCa } = require('kjobs/client/node');
const client = require('@kjobs/client');
async function main() {
  const kjobs = await createKjobs({ store: ':memory:', commands: { Greet: async ({ data }) => ({ hi: data.name }) } });
  await kjobs.start();
  const job = await kjobs.waitFor(await kjobs.schedule({ command: 'Greet', data: { name: 'Ada' } }));
  await kjobs.stop();
  console.log(job.status, job.responseData.hi, typeof KieJobsClient, typeof fetchWithCa, typeof client.KieJobsClient);
}
main();
`,
    );
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    // Node.js requires an ES module (without top-level await) from 20.19 and 22.12 on.
    if ((major === 20 && minor < 19) || (major === 22 && minor < 12) || major === 21) {
      t.skip(`Node.js ${process.version} cannot require an ES module`);
      return;
    }
    assert.equal(run(process.execPath, ['index.js'], folder).trim(), 'DONE Ada function function function');
  });

  it('npx kjobs --version answers the package version', () => {
    assert.equal(
      run('npx', ['--no-install', 'kjobs', '--version'], serverProject).trim(),
      rootPackage.version,
    );
  });

  it('kjobs serve answers @kjobs/client and kjobs/client, and serves the console', async () => {
    const server = spawn(
      join(serverProject, 'node_modules/.bin/kjobs'),
      ['serve', '--port', '0', '--db', './data/serve.db'],
      { cwd: serverProject, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log: string[] = [];
    createInterface({ input: server.stderr }).on('line', (line) => log.push(line));
    try {
      const origin = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`kjobs serve did not start:\n${log.join('\n')}`)),
          60_000,
        );
        server.on('exit', (code) => reject(new Error(`kjobs serve exited (${code}):\n${log.join('\n')}`)));
        createInterface({ input: server.stdout }).on('line', (line) => {
          log.push(line);
          const address = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line);
          if (address) {
            clearTimeout(timer);
            resolve(address[1]!);
          }
        });
      });
      writeFileSync(
        join(serverProject, 'client.js'),
        `import { KieJobsClient } from '@kjobs/client';
import { KieJobsClient as BundledClient } from 'kjobs/client';
const baseUrl = process.argv[2] + '/kie-server/services/rest';
for (const [name, Client, format] of [['@kjobs/client', KieJobsClient, 'json'], ['kjobs/client', BundledClient, 'xml']]) {
  const client = new Client({ baseUrl, format });
  const id = await client.scheduleRequest({
    jobCommand: 'org.jbpm.executor.commands.PrintOutCommand',
    requestData: { businessKey: name },
  });
  let job = await client.getRequestById(id);
  for (let tries = 0; job.requestStatus !== 'DONE' && tries < 600; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = await client.getRequestById(id);
  }
  console.log(name, job.requestStatus, job.requestBusinessKey);
}
`,
      );
      assert.equal(
        run(process.execPath, ['client.js', origin], serverProject).trim(),
        '@kjobs/client DONE @kjobs/client\nkjobs/client DONE kjobs/client',
      );
      const page = await fetch(`${origin}/console/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('TypeScript containers: a start failure naming tsx without it, loaded through tsx with it', async () => {
    writeFileSync(
      join(serverProject, 'greet.ts'),
      `interface GreetData { name?: string }
export default {
  'com.acme.TsGreet': async ({ data }: { data: GreetData }) => ({ greeting: \`Hello, \${data.name ?? 'you'}\` }),
};
`,
    );
    // What tsc writes for a container in a "type": "commonjs" project (--module nodenext).
    writeFileSync(
      join(serverProject, 'compiled.cjs'),
      `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.default = { 'com.acme.Compiled': async () => ({ compiled: true }) };
`,
    );
    const without = await serve(['--container', 'acme=./greet.ts']);
    assert.equal(without.code, 1, without.log.join('\n'));
    assert.ok(
      without.log.some((line) =>
        line.includes(
          'Container acme: cannot load ./greet.ts: a TypeScript container needs tsx: npm install tsx ' +
            '(or compile it with tsc and give the .js file)',
        ),
      ),
      without.log.join('\n'),
    );
    run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', `tsx@${versionIn('tsx')}`],
      serverProject,
    );
    const server = await serve(['--container', 'acme=./greet.ts', '--container', 'compiled=./compiled.cjs']);
    try {
      assert.ok(server.origin, server.log.join('\n'));
      const jobs = `${server.origin}/kie-server/services/rest/server/jobs`;
      for (const [container, command, response] of [
        ['acme', 'com.acme.TsGreet', { greeting: 'Hello, Ada' }],
        ['compiled', 'com.acme.Compiled', { compiled: true }],
      ] as const) {
        const answer = await fetch(`${jobs}?containerId=${container}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ 'job-command': command, 'request-data': { name: 'Ada' } }),
        });
        assert.equal(answer.status, 201, await answer.clone().text());
        const id = Number(await answer.text());
        const job = await eventually(
          async () =>
            (await (
              await fetch(`${jobs}/${id}?withData=true`, { headers: { accept: 'application/json' } })
            ).json()) as Record<string, unknown>,
          (found) => found['request-status'] === 'DONE',
          30_000,
        );
        assert.deepEqual(job['response-data'], response);
      }
    } finally {
      await server.stop();
    }
  });

  it('--otel: the SDK is not installed with kjobs; without it a start failure naming its install, with it traces', async () => {
    assert.equal(existsSync(join(serverProject, 'node_modules/@opentelemetry/sdk-trace-node')), false);
    const without = await serve(['--otel']);
    assert.equal(without.code, 1, without.log.join('\n'));
    assert.ok(
      without.log.some((line) =>
        line.includes(
          `--otel needs the OpenTelemetry SDK, which kjobs does not install: ${OTEL_INSTALL_LINE} `,
        ),
      ),
      without.log.join('\n'),
    );
    const [npm, ...args] = OTEL_INSTALL_LINE.split(' ');
    run(npm!, [...args, '--prefer-offline', '--no-audit', '--no-fund'], serverProject);
    const server = await serve(['--otel']);
    try {
      assert.ok(server.origin, server.log.join('\n'));
      assert.ok(server.log.some((line) => line.includes('OpenTelemetry tracing on')));
    } finally {
      await server.stop();
    }
  });

  it('TypeScript resolves both packages under strict with nodenext, node16 and bundler', () => {
    writeFileSync(
      join(serverProject, 'check.ts'),
      `import { createKjobs, type Kjobs } from 'kjobs';
import { KieJobsClient as BundledClient } from 'kjobs/client';
import { ApiError, KieJobsClient, type RequestInfoInstance } from '@kjobs/client';

const kjobs: Kjobs = await createKjobs({
  store: ':memory:',
  commands: { Greet: async ({ data }) => ({ greeting: String(data.name) }) },
});
const id: number = await kjobs.schedule({ command: 'Greet', data: { name: 'Ada' } });
const client = new KieJobsClient({ baseUrl: 'http://127.0.0.1:8080/kie-server/services/rest' });
const job: RequestInfoInstance = await client.getRequestById(id);
new BundledClient({ baseUrl: 'http://127.0.0.1:8080' });
// @ts-expect-error the types are real, not any: a number is no status
const wrong: RequestInfoInstance['requestStatus'] = 7;
// @ts-expect-error nor a number a command
await kjobs.schedule({ command: 42 });
export { job, wrong, ApiError };
`,
    );
    for (const [module, moduleResolution] of [
      ['nodenext', 'nodenext'],
      ['node16', 'node16'],
      ['esnext', 'bundler'],
    ] as const) {
      const config = `tsconfig.${moduleResolution}.json`;
      writeFileSync(
        join(serverProject, config),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            module,
            moduleResolution,
            strict: true,
            noEmit: true,
            // The declarations (and the types they import) are checked once; the other two check resolution.
            skipLibCheck: moduleResolution !== 'nodenext',
          },
          files: ['check.ts'],
        }),
      );
      run(
        process.execPath,
        [join(serverProject, 'node_modules/typescript/bin/tsc'), '-p', config],
        serverProject,
      );
    }
  });

  it('TypeScript (5.8 and later, nodenext) imports both packages from a CommonJS file', () => {
    writeFileSync(
      join(serverProject, 'check-commonjs.cts'),
      `import { createKjobs } from 'kjobs';
import { KieJobsClient } from '@kjobs/client';
export const started: Promise<unknown> = createKjobs({ store: ':memory:' });
export const client = new KieJobsClient({ baseUrl: 'http://127.0.0.1:8080' });
`,
    );
    writeFileSync(
      join(serverProject, 'tsconfig.commonjs.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        files: ['check-commonjs.cts'],
      }),
    );
    run(
      process.execPath,
      [join(serverProject, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.commonjs.json'],
      serverProject,
    );
  });

  it('@kjobs/client bundles for the browser from the installed package', async () => {
    writeFileSync(
      join(clientProject, 'page.js'),
      `import { KieJobsClient } from '@kjobs/client';\nwindow.client = new KieJobsClient({ baseUrl: '/kie-server/services/rest' });\n`,
    );
    const result = await build({
      absWorkingDir: clientProject,
      entryPoints: ['page.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    assert.match(result.outputFiles[0]!.text, /KieJobsClient/);
  });

  it("@kjobs/client's dependency tree holds no native module, install script or database driver", () => {
    const packages: string[] = [];
    const offences: string[] = [];
    const visit = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory() && entry.name !== '.bin' && !entry.name.startsWith('.')) {
          if (entry.name.startsWith('@') || entry.name === 'node_modules') visit(path);
          else if (existsSync(join(path, 'package.json'))) inspect(path);
        }
      }
    };
    const inspect = (folder: string) => {
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
        name: string;
        gypfile?: boolean;
        scripts?: Record<string, string>;
      };
      packages.push(manifest.name);
      const scripts = Object.keys(manifest.scripts ?? {}).filter((name) =>
        ['preinstall', 'install', 'postinstall'].includes(name),
      );
      if (scripts.length > 0) offences.push(`${manifest.name}: install scripts ${scripts.join(', ')}`);
      if (manifest.gypfile || existsSync(join(folder, 'binding.gyp')))
        offences.push(`${manifest.name}: binding.gyp`);
      const nativeFiles = (readdirSync(folder, { recursive: true }) as string[]).filter((file) =>
        file.endsWith('.node'),
      );
      if (nativeFiles.length > 0) offences.push(`${manifest.name}: ${nativeFiles.join(', ')}`);
      if (existsSync(join(folder, 'node_modules'))) visit(join(folder, 'node_modules'));
    };
    visit(join(clientProject, 'node_modules'));
    assert.ok(packages.includes('@kjobs/client') && packages.includes('fast-xml-parser'), packages.join(' '));
    assert.deepEqual(offences, []);
    const server = ['kjobs', 'better-sqlite3', 'pg', 'fastify', 'pino', 'prom-client', 'commander'];
    assert.deepEqual(
      packages.filter((name) => server.includes(name)),
      [],
    );
  });
});
