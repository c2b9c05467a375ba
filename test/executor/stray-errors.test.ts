// Stray errors of commands (a throw in a timer they set, a rejected promise nobody handles) fail their run instead
// of ending the process; outside commands, Node's default stays: such errors, and process.exit(), end the process.
// Each case runs in its own process: the test runner handles uncaught errors itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const SCRIPT = fileURLToPath(new URL('../fixtures/stray-node.ts', import.meta.url));

function run(mode: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, mode], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('stray errors of commands', () => {
  it('fail the run of the command that caused them; other runs are untouched', () => {
    const { code, stdout, stderr } = run('inside');
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), ['stray throw of job 2', 'stray rejection of job 3', 'fine']);
  });

  it('belong to the run that caused them: two kjobs in one process, each with a job 1', () => {
    const { code, stdout, stderr } = run('two-instances');
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { ids: [1, 1], a: 'DONE', b: 'DONE', bErrors: [] });
  });

  it('outside commands, an uncaught exception still ends the process with code 1', () => {
    const { code, stdout, stderr } = run('throw-outside');
    assert.equal(code, 1);
    assert.match(stderr, /thrown outside any command/);
    assert.doesNotMatch(stdout, /still alive/);
  });

  it('outside commands, an unhandled rejection still ends the process with code 1', () => {
    const { code, stdout, stderr } = run('reject-outside');
    assert.equal(code, 1);
    assert.match(stderr, /rejected outside any command/);
    assert.doesNotMatch(stdout, /still alive/);
  });

  it('outside commands, process.exit() still exits', () => {
    assert.equal(run('exit-outside').code, 5);
  });
});
