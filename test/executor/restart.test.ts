import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { eventually, tempFolder } from '../helpers.js';

const NODE_SCRIPT = fileURLToPath(new URL('../fixtures/restart-node.ts', import.meta.url));

function startNode(mode: 'schedule' | 'recover', dbPath: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_SCRIPT, mode, dbPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

function readyLine(child: ChildProcess): Promise<number[]> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\[.*\])/.exec(output);
      if (match) resolve(JSON.parse(match[1]!) as number[]);
    });
    child.on('exit', (code) => reject(new Error(`node exited (${code}) before it was ready`)));
  });
}

describe('a job survives a crash', () => {
  it('after SIGKILL with jobs QUEUED, RUNNING and RETRYING, a restart loses none and recovers the RUNNING one', async () => {
    const dbPath = join(tempFolder(), 'crash.db');
    const first = startNode('schedule', dbPath);
    const ids = await readyLine(first);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    const store = new SqliteJobStore({ path: dbPath });
    await store.migrate();
    after(() => store.close());
    const before = await store.countByStatus();
    assert.deepEqual(before, { QUEUED: 20, RUNNING: 1, DONE: 0, ERROR: 0, RETRYING: 1, CANCELLED: 0 });

    startNode('recover', dbPath);
    const counts = await eventually(
      () => store.countByStatus(),
      (c) => c.DONE === ids.length,
      20_000,
    );
    assert.equal(counts.RUNNING, 0, 'nothing is left RUNNING');

    const [slow] = await store.list({
      filter: { by: 'businessKey', value: 'slow' },
      statuses: [],
      order: 'asc',
      offset: 0,
      limit: 10,
    });
    const recovered = await store.get(slow!.id, { withErrors: true, withData: true });
    assert.equal(recovered?.executions, 2, 'the lost run counts as an attempt');
    assert.deepEqual(recovered?.responseData, { recovered: true });
    assert.match(recovered?.errors?.[0]?.message ?? '', /lost while running job/);

    const [flaky] = await store.list({
      filter: { by: 'businessKey', value: 'flaky' },
      statuses: [],
      order: 'asc',
      offset: 0,
      limit: 10,
    });
    const retried = await store.get(flaky!.id, { withErrors: true });
    assert.equal(retried?.executions, 2);
    assert.equal(retried?.errors?.length, 1);
  });
});
