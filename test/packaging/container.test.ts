/**
 * The container image (Dockerfile) and compose.yaml, tested without a container engine (none runs here):
 *
 * - The Dockerfile's stages are replayed in scratch folders, one per stage, each standing for the stage's root
 *   filesystem: COPY from the build context (minus .dockerignore) or from an earlier stage, WORKDIR, ENV, and every
 *   RUN in bash with the stage's absolute paths moved under its folder. Not replayed: the base image (this machine's
 *   Node.js stands for node:20-bookworm-slim) and `apt-get` (its python3, make and g++ would build better-sqlite3
 *   where no prebuilt binary is found); `chown node` is done for uid 1000, the node user of the official images.
 * - The image's command then runs from the final stage's folder as uid 1000 (as USER node), with the image's
 *   environment, and its HEALTHCHECK command answers 0 while it serves and 1 after it stopped.
 * - compose.yaml is parsed; its variables are kjobs' own (src/config/settings.ts), and its two kjobs nodes, run from
 *   the replayed image with its environment against the tests' PostgreSQL, share the jobs.
 *
 * better-sqlite3's install script runs, with the checkout's binary as its prebuild (install-env.ts).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KieJobsClient } from '../../src/client/index.js';
import { SETTINGS } from '../../src/config/settings.js';
import { eventually, freePort } from '../helpers.js';
import { localPrebuilds, userEnv } from './install-env.js';
import { POSTGRES_SKIP, POSTGRES_URL, dropSchema, freshSchema } from '../store/postgres-helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const VARIABLES = new Set(SETTINGS.map((setting) => setting.env));
/** The uid and gid of the user `node` in the official Node.js images. */
const NODE_USER = 1000;

const work = mkdtempSync(join(tmpdir(), 'kjobs-container-'));
chmodSync(work, 0o755); // the image's user reads its files
after(() => rmSync(work, { recursive: true, force: true }));

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
  /** The folder standing for the stage's root filesystem. */
  root: string;
  env: Record<string, string>;
  workdir: string;
  user?: string;
}

function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (keyword!.toUpperCase() === 'FROM') {
      const [base, , name] = args!.split(/\s+/);
      stages.push({
        name: name ?? `stage-${stages.length}`,
        base: base!,
        instructions: [],
        root: '',
        env: {},
        workdir: '/',
      });
    } else {
      stages.at(-1)!.instructions.push({ keyword: keyword!.toUpperCase(), args: args! });
    }
  }
  return stages;
}

/** .dockerignore's patterns as a test of a path relative to the build context. */
function dockerignored(): (path: string) => boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map(
      (pattern) =>
        new RegExp(
          '^' +
            pattern
              .replace(/[.+^${}()|[\]]/g, '\\$&')
              .replace(/\*\*\//g, '(.*/)?')
              .replace(/\*/g, '[^/]*') +
            '(/.*)?$',
        ),
    );
  return (path) => patterns.some((pattern) => pattern.test(path));
}

/** A path of the image, in the stage's folder. */
const inside = (stage: Stage, path: string) =>
  join(stage.root, path.startsWith('/') ? path : join(stage.workdir, path));

/** The image's environment as a process here sees it: its absolute paths moved into the stage's folder. */
const localEnv = (stage: Stage, env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, value.startsWith('/') ? inside(stage, value) : value]),
  );

/** What was not replayed, and why. */
const notReplayed: string[] = [];

function replay(stages: Stage[], prebuilds: Record<string, string>): void {
  const ignored = dockerignored();
  for (const stage of stages) {
    stage.root = join(work, 'stages', stage.name);
    const parent = stages.find((other) => other.name === stage.base && other !== stage);
    if (parent) {
      cpSync(parent.root, stage.root, { recursive: true, verbatimSymlinks: true });
      stage.env = { ...parent.env };
      stage.workdir = parent.workdir;
    } else {
      mkdirSync(stage.root, { recursive: true });
    }
    chmodSync(stage.root, 0o755);
    for (const { keyword, args } of stage.instructions) {
      if (keyword === 'WORKDIR') {
        stage.workdir = args;
        mkdirSync(inside(stage, '.'), { recursive: true });
      } else if (keyword === 'ENV') {
        for (const pair of args.split(/\s+/)) {
          const [name, ...value] = pair.split('=');
          stage.env[name!] = value.join('=');
        }
      } else if (keyword === 'COPY') {
        const words = args.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        while (words[0]?.startsWith('--')) words.shift();
        const destination = words.pop()!;
        const source = from ? stages.find((other) => other.name === from) : undefined;
        assert.ok(!from || source, `COPY --from=${from}: no such stage`);
        for (const path of words) {
          const origin = source ? inside(source, path) : join(ROOT, path);
          assert.ok(
            existsSync(origin),
            `COPY ${path}: not in ${source ? `stage ${from}` : 'the build context'}`,
          );
          assert.ok(source || !ignored(path), `COPY ${path}: excluded by .dockerignore`);
          const target = destination.endsWith('/')
            ? join(inside(stage, destination), statSync(origin).isDirectory() ? '' : path.split('/').pop()!)
            : inside(stage, destination);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(origin, target, {
            recursive: true,
            verbatimSymlinks: true,
            filter: (file) => Boolean(source) || !ignored(relative(ROOT, file)),
          });
        }
      } else if (keyword === 'RUN') {
        if (/\bapt-get\b/.test(args)) {
          // The tools it installs build better-sqlite3 only where no prebuilt binary is found; here one is.
          const tools = spawnSync('bash', ['-c', 'command -v python3 make g++'], { encoding: 'utf8' });
          notReplayed.push(
            `stage ${stage.name}: ${args} (python3, make and g++ ${tools.status === 0 ? 'are' : 'are not all'} on this machine)`,
          );
          continue;
        }
        const command = args.replace(/(^|\s)\/(?=\w)/g, `$1${stage.root}/`);
        const script = `chown() { command chown "\${1//node/${NODE_USER}}" "\${@:2}"; }\nset -e\n${command}`;
        const result = spawnSync('bash', ['-c', script], {
          cwd: inside(stage, '.'),
          env: { ...userEnv(), ...localEnv(stage, stage.env), ...prebuilds },
          encoding: 'utf8',
          timeout: 300_000,
        });
        assert.equal(
          result.status,
          0,
          `stage ${stage.name}: RUN ${args} failed:\n${result.stdout}\n${result.stderr}`,
        );
      } else if (keyword === 'USER') {
        stage.user = args;
      }
    }
  }
}

/** The exec form of an instruction (`CMD ["node", "-e", "..."]`). */
const execForm = (stage: Stage, keyword: string, prefix = '') => {
  const instruction = stage.instructions.find((each) => each.keyword === keyword);
  assert.ok(instruction, `no ${keyword} in the image`);
  const json = instruction.args.slice(instruction.args.indexOf('[', instruction.args.indexOf(prefix)));
  return JSON.parse(json) as string[];
};

/** Runs a command of the image from its folder, as its user when this process may switch to it. */
function spawnInImage(image: Stage, argv: string[], env: Record<string, string>): ChildProcess {
  const [program, ...args] = argv;
  const node = program === 'node' ? process.execPath : program!;
  const asUser =
    process.getuid?.() === 0
      ? ['setpriv', `--reuid=${NODE_USER}`, `--regid=${NODE_USER}`, '--clear-groups']
      : [];
  const [command, ...rest] = [...asUser, node, ...args];
  return spawn(command!, rest, {
    cwd: inside(image, '.'),
    env: { PATH: process.env.PATH!, ...localEnv(image, { ...image.env, ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

function collect(child: ChildProcess): () => string {
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return () => output;
}

/** The image's health check, run as Docker would run it inside the container: its exit code. */
async function healthCheck(image: Stage, env: Record<string, string>): Promise<number | null> {
  return exited(spawnInImage(image, execForm(image, 'HEALTHCHECK', 'CMD'), env));
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const image = stages.at(-1)!;

before(() => replay(stages, localPrebuilds(join(work, 'prebuilds'))), { timeout: 600_000 });

describe('the container image', () => {
  it('is built in stages: toolchain and build apart, production dependencies only, run as a non-root user', (t) => {
    t.diagnostic(`not replayed: ${notReplayed.join('; ')}`);
    assert.ok(stages.length >= 3, 'multi-stage');
    const runs = stages.flatMap((stage) =>
      stage.instructions.filter((each) => each.keyword === 'RUN').map((each) => each.args),
    );
    assert.ok(
      runs.some((run) => /npm ci\b.*--omit=dev/.test(run)),
      'npm ci --omit=dev',
    );
    assert.ok(image.user && !['root', '0'].includes(image.user), `USER ${image.user}`);
    const app = inside(image, '.');
    for (const path of [
      'bin/kjobs.js',
      'dist/cli/main.js',
      'dist/console/index.html',
      'node_modules/fastify/package.json',
    ]) {
      assert.ok(existsSync(join(app, path)), `${path} is missing from the image`);
    }
    // What only building and testing need stays out, and so does the repository's workspace package.
    for (const path of [
      'src',
      'test',
      'bench',
      'node_modules/typescript',
      'node_modules/eslint',
      'node_modules/tsx',
      'node_modules/@kjobs',
    ]) {
      assert.throws(() => lstatSync(join(app, path)), `${path} is in the image`); // a dangling link too
    }
    assert.ok(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')));
    for (const name of Object.keys(image.env).filter((name) => name.startsWith('KJOBS_'))) {
      assert.ok(VARIABLES.has(name), `ENV ${name} is no setting of src/config/settings.ts`);
    }
  });

  it('serves as its user, keeps its SQLite file in /data, and its health check answers on /healthz', async () => {
    assert.match(execForm(image, 'HEALTHCHECK', 'CMD').join(' '), /\/healthz\b/);
    const env = { KJOBS_PORT: String(await freePort()), KJOBS_USERS: 'kie:secret' };
    assert.notEqual(await healthCheck(image, env), 0, 'healthy before it started');
    const server = spawnInImage(image, [...execForm(image, 'ENTRYPOINT'), ...execForm(image, 'CMD')], env);
    const output = collect(server);
    try {
      await eventually(
        async () =>
          server.exitCode === null ? healthCheck(image, env) : Promise.reject(new Error(output())),
        (code) => code === 0,
        60_000,
      );
      const database = inside(image, image.env.KJOBS_DATABASE_URL!);
      assert.ok(existsSync(database), `no ${database}`);
      if (process.getuid?.() === 0) assert.equal(statSync(database).uid, NODE_USER);
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal(await exited(server), 0, output());
    assert.notEqual(await healthCheck(image, env), 0, 'healthy after it stopped');
  });
});

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = yaml.load(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const nodes = Object.entries(compose.services).filter(([, service]) => service.build);

/** Compose's interpolation: `${NAME:-default}` and `${NAME:?error}` from `values`. */
function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (_match, name: string, kind?: string, rest?: string) => {
      if (values[name]) return values[name];
      if (kind === '?') throw new Error(`${name} is required: ${rest}`);
      return rest ?? '';
    },
  );
}

describe('compose.yaml', () => {
  it("runs PostgreSQL and two kjobs nodes built from the Dockerfile, set with kjobs' own variables", () => {
    assert.equal(nodes.length, 2);
    const postgres = compose.services.postgres;
    assert.ok(
      postgres?.image?.startsWith('postgres:') && postgres.healthcheck,
      'a PostgreSQL service with a health check',
    );
    const ports = new Set<string>();
    const ids = new Set<string>();
    for (const [name, service] of nodes) {
      assert.equal(service.build, '.', name);
      assert.equal(service.depends_on?.postgres?.condition, 'service_healthy', name);
      const environment = service.environment ?? {};
      for (const variable of Object.keys(environment).filter((key) => key.startsWith('KJOBS_'))) {
        assert.ok(VARIABLES.has(variable), `${name}: ${variable} is no setting of src/config/settings.ts`);
      }
      assert.match(
        interpolate(environment.KJOBS_DATABASE_URL!, {}),
        /^postgres:\/\/kjobs:[^@]+@postgres:5432\/kjobs$/,
      );
      assert.throws(
        () => interpolate(environment.KJOBS_USERS!, {}),
        /KJOBS_USERS is required/,
        'no default password',
      );
      ids.add(environment.KJOBS_SERVER_ID!);
      for (const port of service.ports ?? []) ports.add(port.split(':').slice(0, -1).join(':'));
      for (const container of environment.KJOBS_CONTAINERS!.split(',')) {
        const module = container.split('=')[1]!;
        assert.ok(
          service.volumes?.some((volume) => volume.startsWith(`./${module.split('/')[1]}:/app/`)),
          module,
        );
        assert.ok(existsSync(join(ROOT, module)), module);
      }
    }
    assert.equal(ids.size, 2, 'each node its own server id');
    assert.equal(ports.size, 2, 'each node its own published port');
  });

  it('its two nodes, run from the image, share the jobs on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
    const schema = freshSchema('compose');
    const users = 'kie:compose-secret';
    const servers: { process: ChildProcess; output: () => string; port: number }[] = [];
    mkdirSync(inside(image, '/tmp'), { recursive: true, mode: 0o1777 }); // the image's /tmp (ACME_OUTBOX)
    chmodSync(inside(image, '/tmp'), 0o1777);
    try {
      for (const [, service] of nodes) {
        // The compose file's environment, with the tests' PostgreSQL for the service postgres.
        const environment = Object.fromEntries(
          Object.entries(service.environment ?? {}).map(([name, value]) => [
            name,
            interpolate(value, { KJOBS_USERS: users }),
          ]),
        );
        const database = new URL(POSTGRES_URL);
        database.searchParams.set('schema', schema);
        environment.KJOBS_DATABASE_URL = database.href;
        for (const volume of service.volumes ?? []) {
          const [from, to] = volume.split(':');
          cpSync(join(ROOT, from!), inside(image, to!), { recursive: true });
        }
        const port = await freePort();
        const child = spawnInImage(image, [...execForm(image, 'ENTRYPOINT'), ...execForm(image, 'CMD')], {
          ...environment,
          KJOBS_PORT: String(port),
        });
        servers.push({ process: child, output: collect(child), port });
      }
      const clients = servers.map(
        ({ port }) =>
          new KieJobsClient({
            baseUrl: `http://127.0.0.1:${port}/kie-server/services/rest`,
            user: 'kie',
            password: 'compose-secret',
          }),
      );
      for (const [index, server] of servers.entries()) {
        await eventually(
          () =>
            server.process.exitCode === null
              ? healthCheck(image, { KJOBS_PORT: String(server.port) })
              : Promise.reject(new Error(server.output())),
          (code) => code === 0,
          60_000,
        );
        assert.equal((await clients[index]!.listContainers()).length, 2);
      }
      const ids = await Promise.all(
        Array.from({ length: 6 }, (_, n) =>
          clients[n % 2]!.scheduleRequest(
            { jobCommand: 'com.acme.SendInvoice' },
            { containerId: 'billing-1.0' },
          ),
        ),
      );
      // Each node reads every job, whichever node took it in and whichever ran it.
      for (const client of clients) {
        for (const id of ids) {
          await eventually(
            () => client.getRequestById(id),
            (job) => job.requestStatus === 'DONE',
            30_000,
          );
        }
      }
    } finally {
      for (const server of servers) server.process.kill('SIGTERM');
      await Promise.all(servers.map((server) => exited(server.process)));
      await dropSchema(schema);
    }
  });
});
