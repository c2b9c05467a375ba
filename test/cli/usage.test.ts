// The command line's help and usage errors, as a user meets them: the real CLI as a child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

/** Runs the CLI to its end: exit code and everything it wrote. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The help of one flag, from its line to the next flag's. */
function flagHelp(help: string, flag: string): string {
  const start = help.indexOf(`  ${flag} `);
  assert.ok(start >= 0, `${flag} is not in:\n${help}`);
  const next = help.indexOf('\n  -', start + 1);
  return help.slice(start, next < 0 ? undefined : next).replace(/\s+/g, ' ');
}

describe('kjobs --help', () => {
  it('--workers: processes that serve HTTP with kjobs serve, that only run jobs with kjobs worker', async () => {
    const serve = await runCli(['serve', '--help']);
    assert.equal(serve.code, 0, serve.stderr);
    assert.match(flagHelp(serve.stdout, '--workers'), /each serving HTTP and running jobs/);
    const worker = await runCli(['worker', '--help']);
    assert.equal(worker.code, 0, worker.stderr);
    const help = flagHelp(worker.stdout, '--workers');
    assert.doesNotMatch(help, /serving HTTP/);
    assert.match(help, /running jobs/);
  });
});

describe('usage errors', () => {
  it('exit with 2 on every command, as documented: unknown flags and commands, bad flag values', async () => {
    for (const args of [
      ['serve', '--nope'],
      ['worker', '--nope'],
      ['jobs', 'list', '--nope'],
      ['containers', '--nope'],
      ['pause', '--nope'],
      ['hash-password', '--nope'],
      ['serve', '--log-level', 'loud'],
      ['nothing'],
    ]) {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, 2, `kjobs ${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '', `kjobs ${args.join(' ')}`);
      assert.match(stderr, /error: (unknown (option|command)|option .* argument)/, `kjobs ${args.join(' ')}`);
    }
    for (const args of [['--help'], ['serve', '--help'], ['--version']]) {
      assert.equal((await runCli(args)).code, 0, `kjobs ${args.join(' ')}`);
    }
  });
});
