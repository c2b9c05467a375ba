/**
 * Operator mistakes end `kjobs serve` with one line that says what is wrong and which flag fixes it, without a
 * stack trace; the command line ends quietly when its reader goes away (`kjobs jobs list --json | head`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { PRINT_OUT, startServer } from '../http/helpers.js';

const folder = mkdtempSync(join(tmpdir(), 'kjobs-start-errors-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** Runs the CLI to its end: exit code and everything it wrote. */
function runCli(
  args: string[],
  closeStdout = false,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise) =>
    child.on('close', (code) => resolvePromise({ code, stdout, stderr })),
  );
}

const STACK = /\n\s+at /;

describe('kjobs serve: operator mistakes', () => {
  it('a port in use names the port and the way out', async () => {
    const holder = createNetServer().listen(0, '127.0.0.1');
    await new Promise((ready) => holder.once('listening', ready));
    after(() => holder.close());
    const port = (holder.address() as AddressInfo).port;
    const { code, stdout, stderr } = await runCli([
      'serve',
      '--port',
      String(port),
      '--db',
      join(folder, 'port.db'),
    ]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      new RegExp(
        `kjobs could not start: port ${port} on 127\\.0\\.0\\.1 is already in use: .*--port N or KJOBS_PORT=N`,
      ),
    );
    assert.doesNotMatch(stdout + stderr, STACK);
  });

  it('a --db that cannot be opened names the path and the flag', async () => {
    const notAFolder = join(folder, 'a-file');
    writeFileSync(notAFolder, '');
    const cases: [string, RegExp][] = [
      [folder, /is a folder, not a file/],
      [join(notAFolder, 'kjobs.db'), /EEXIST|ENOTDIR/],
      ['postgres://kjobs@127.0.0.1:1/kjobs', /ECONNREFUSED/],
    ];
    // A file system where no file can be made, whoever runs the test (root included).
    if (existsSync('/proc/self')) cases.push(['/proc/kjobs.db', /unable to open database file/]);
    for (const [database, reason] of cases) {
      const { code, stdout, stderr } = await runCli(['serve', '--port', '0', '--db', database]);
      assert.equal(code, 1, stdout);
      const kind = database.startsWith('postgres:') ? 'use the PostgreSQL' : 'open the SQLite';
      const line = stdout.split('\n').find((text) => text.includes('could not start')) ?? stdout;
      assert.ok(line.includes(`kjobs could not start: cannot ${kind} database ${database}: `), line);
      assert.match(line, reason);
      assert.match(line, /fix --db (PATH|URL) \(or KJOBS_DATABASE_URL\)/);
      assert.doesNotMatch(stdout + stderr, STACK);
    }
  });

  it('a missing container module names the container, the path and the flag', async () => {
    const { code, stdout, stderr } = await runCli([
      'serve',
      '--port',
      '0',
      '--db',
      join(folder, 'missing.db'),
      '--container',
      'acme=./no-such-commands.mjs',
    ]);
    assert.equal(code, 1);
    assert.ok(
      stdout.includes(
        `kjobs could not start: Container acme: cannot load ./no-such-commands.mjs: no such file (${resolve('no-such-commands.mjs')}); fix --container acme=MODULE (or KJOBS_CONTAINERS)`,
      ),
      stdout,
    );
    assert.doesNotMatch(stdout + stderr, STACK);
    assert.doesNotMatch(stdout, /registry\.js|imported from/);
  });

  it("a container module that does not parse or throws names the user's file and line", async () => {
    const unfinished = join(folder, 'unfinished.mjs');
    writeFileSync(unfinished, "export default {\n  'com.acme.X': async () => {\n");
    const throwing = join(folder, 'throwing.mjs');
    writeFileSync(
      throwing,
      "const ready = false;\nif (!ready) throw new Error('no API key');\nexport default {};\n",
    );
    for (const [module, reason] of [
      [unfinished, `SyntaxError: Unexpected end of input (at ${unfinished}:3`],
      [throwing, `Error: no API key (at ${throwing}:2:19)`],
    ] as const) {
      const args = [
        'serve',
        '--port',
        '0',
        '--db',
        join(folder, 'modules.db'),
        '--container',
        `acme=${module}`,
      ];
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, 1);
      assert.ok(stdout.includes(`Container acme: cannot load ${module}: ${reason}`), stdout);
      assert.doesNotMatch(stdout + stderr, STACK);
    }
    // At debug level, the module's own stack, under kjobs'.
    const debug = await runCli([
      'serve',
      '--port',
      '0',
      '--db',
      join(folder, 'modules.db'),
      '--container',
      `acme=${throwing}`,
      '--log-level',
      'debug',
      '--log-format',
      'pretty',
    ]);
    assert.match(debug.stdout, new RegExp(`caused by: Error: no API key\\n\\s+at file://${throwing}:2:19`));
  });

  it('a broken container module says what is broken', async () => {
    const broken = join(folder, 'broken.mjs');
    writeFileSync(broken, "export default { 'com.acme.X': async () => { oops( } };\n");
    const noDefault = join(folder, 'no-default.mjs');
    writeFileSync(noDefault, 'export const x = 1;\n');
    for (const [module, reason] of [
      [broken, /SyntaxError|Unexpected token/],
      [noDefault, /it has no default export mapping command names/],
    ] as const) {
      const { code, stdout, stderr } = await runCli([
        'serve',
        '--port',
        '0',
        '--db',
        join(folder, 'broken.db'),
        '--container',
        `acme=${module}`,
      ]);
      assert.equal(code, 1);
      assert.ok(stdout.includes(`Container acme: cannot load ${module}: `), stdout);
      assert.match(stdout, reason);
      assert.match(stdout, /fix --container acme=MODULE/);
      assert.doesNotMatch(stdout + stderr, STACK);
    }
  });
});

describe('kjobs jobs: a reader that goes away', () => {
  it('ends quietly with 0 when stdout is closed (kjobs jobs list --json | head)', async () => {
    const server = await startServer();
    await server.kjobs.schedule({ command: PRINT_OUT, data: {}, scheduledAt: Date.now() + 60_000 });
    const { code, stderr } = await runCli(
      ['jobs', 'list', '--json', '--url', `${server.origin}/kie-server/services/rest`],
      true,
    );
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
