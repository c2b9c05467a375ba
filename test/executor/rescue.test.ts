// Rescue of the jobs of a dead worker (issue 19): at once when it died on this host (its previous incarnation after
// a restart), within 2 heartbeats otherwise, and never while it lives, even when it is slow.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { createKjobs } from '../../src/kjobs.js';
import { SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import type { JobStore } from '../../src/store/job-store.js';
import type { DataMap, NewJob } from '../../src/core/index.js';
import {
  checkNodeId,
  isCertainlyDead,
  nodeOf,
  newWorkerId,
  ownIdentity,
  parseWorkerId,
} from '../../src/executor/worker-identity.js';
import { eventually, tempFolder } from '../helpers.js';
import { freshSchema, openTestStore, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';

const NODE = fileURLToPath(new URL('../fixtures/rescue-node.ts', import.meta.url));
const own = ownIdentity();
const NO_PROC = own ? false : 'no /proc here: worker ids cannot prove a process dead';

interface Node {
  child: ChildProcess;
  workerId: string;
  /** `jobId attempt` of each run started. */
  started: string[];
}

/** Runs a command in a pid namespace of its own, as a container does; killed with it (--kill-child). */
const OWN_PID_NAMESPACE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

function startNode(
  store: string,
  heartbeatMs: number,
  workerId = 'auto',
  options: { nodeId?: string; ownPidNamespace?: boolean } = {},
): Promise<Node> {
  const node = [process.execPath, '--import', 'tsx', NODE, store, String(heartbeatMs), workerId];
  if (options.nodeId) node.push(options.nodeId);
  const argv = options.ownPidNamespace ? [...OWN_PID_NAMESPACE, ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const started: Node = { child, workerId: '', started: [] };
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (;;) {
        const end = output.indexOf('\n');
        if (end < 0) break;
        const line = output.slice(0, end);
        output = output.slice(end + 1);
        if (line.startsWith('READY ')) {
          started.workerId = line.slice(6);
          resolve(started);
        } else if (line.startsWith('STARTED ')) started.started.push(line.slice(8));
      }
    });
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before it was ready`)));
  });
}

async function kill(node: Node): Promise<number> {
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  const at = Date.now();
  node.child.kill('SIGKILL');
  await exited;
  return at;
}

function newJob(command: string, requestData: DataMap = {}): NewJob {
  return {
    command,
    businessKey: null,
    containerId: null,
    processInstanceId: null,
    owner: null,
    priority: 5,
    retries: 3,
    scheduledAt: Date.now(),
    message: 'Ready to execute',
    requestData,
  };
}

/** Waits until the job is DONE; answers how long after `killedAt` its second run started (the store's time). */
async function rescued(store: JobStore, id: number, killedAt: number, timeoutMs: number): Promise<number> {
  const job = await eventually(
    () => store.get(id, { withErrors: true }),
    (job) => job?.status === 'DONE',
    timeoutMs,
  );
  assert.equal(job?.executions, 2, 'the lost run counts as an attempt, the job ran once more');
  assert.match(job?.errors?.[0]?.message ?? '', /was lost while running job/);
  return job!.startedAt! - killedAt;
}

describe('worker ids that prove a process dead', { skip: NO_PROC }, () => {
  it('carry node (the host name unless named), pid, boot id, pid namespace and start time', () => {
    const parsed = parseWorkerId(newWorkerId());
    assert.equal(parsed?.node, hostname());
    assert.deepEqual(parsed?.identity, own);
    assert.equal(parseWorkerId(newWorkerId(own, 'jobs-0'))?.node, 'jobs-0');
    assert.equal(nodeOf('jobs-0:8445:abcdef12'), 'jobs-0', 'without /proc: a node, no identity');
    assert.equal(parseWorkerId('jobs-0:8445:abcdef12'), undefined);
    assert.equal(nodeOf(newWorkerId()), hostname());
    assert.equal(nodeOf('node-a'), undefined, 'an id given by the user');
    assert.throws(() => checkNodeId('a b'), /node id "a b": use 1 to 100 letters/);
    assert.throws(() => checkNodeId(''), RangeError);
    assert.equal(checkNodeId('kjobs-1.example_2'), 'kjobs-1.example_2');
  });

  it('tell a dead process (gone, or its pid reused) from a live one, and leave what they cannot tell', async () => {
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    after(() => live.kill('SIGKILL'));
    await new Promise((resolve) => live.once('spawn', resolve));
    const idOf = (
      pid: number,
      ticks: string,
      ns = own!.pidNamespace,
      boot = own!.bootId,
      host = hostname(),
    ) => `${host}:${pid}:abcdef12@${boot}/${ns}/${ticks}`;
    const liveTicks = (await import('../../src/executor/worker-identity.js')).startTicksOf(live.pid!)!;
    assert.ok(liveTicks);
    assert.equal(isCertainlyDead(idOf(live.pid!, liveTicks), own), false, 'a live process');
    assert.equal(isCertainlyDead(newWorkerId(), own), false, 'this process');
    assert.equal(isCertainlyDead(idOf(live.pid!, '1'), own), true, 'its pid, another start time: reused');
    assert.equal(
      isCertainlyDead(idOf(live.pid!, '1', '1'), own),
      false,
      'another pid namespace: cannot tell',
    );
    assert.equal(
      isCertainlyDead(idOf(live.pid!, '1', undefined, 'f'.repeat(32)), own),
      false,
      'another boot',
    );
    assert.equal(
      isCertainlyDead(idOf(live.pid!, '1', undefined, undefined, 'named-node'), own),
      true,
      'another node name on this boot and pid namespace (--node-id): /proc still tells',
    );
    assert.equal(isCertainlyDead('node-a', own), false, 'an id given by the user');
    live.kill('SIGKILL');
    await new Promise((resolve) => live.once('exit', resolve));
    assert.equal(isCertainlyDead(idOf(live.pid!, liveTicks), own), true, 'a process that ended');
  });
});

describe('a restarted node rescues the jobs of its previous incarnation at once', { skip: NO_PROC }, () => {
  it('SQLite: killed with SIGKILL, started again, the hanging job runs again long before its lease ends', async (t) => {
    const db = join(tempFolder(), 'rescue.db');
    const heartbeatMs = 60_000; // a lease of 90 s: the rescue does not wait for it
    const first = await startNode(db, heartbeatMs);
    const store = new SqliteJobStore({ path: db });
    await store.migrate();
    after(() => store.close());
    const [id] = await store.schedule([newJob('test.Hang')]);
    await eventually(
      () => first.started,
      (started) => started.includes(`${id} 1`),
      20_000,
    );
    const killedAt = await kill(first);
    await startNode(db, heartbeatMs);
    const ms = await rescued(store, id!, killedAt, 20_000);
    t.diagnostic(`SQLite, one node: SIGKILL to the job running again (restart included): ${ms} ms`);
  });
});

// Containers: a restarted container has a pid namespace of its own, where /proc cannot tell whether the
// previous run's process is gone; the worker locks in the store can.
const UNSHARE =
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true']).status === 0
    ? false
    : 'unshare cannot make a pid namespace here (needs root or user namespaces)';

describe(
  'a node restarted in a new pid namespace (a container) rescues its earlier run at once',
  { skip: UNSHARE },
  () => {
    async function restartInNewNamespace(store: string, check: JobStore, nodeId?: string): Promise<number> {
      const heartbeatMs = 60_000; // a lease of 90 s: the rescue does not wait for it
      const first = await startNode(store, heartbeatMs, 'auto', { nodeId, ownPidNamespace: true });
      const [id] = await check.schedule([newJob('test.Hang')]);
      await eventually(
        () => first.started,
        (started) => started.includes(`${id} 1`),
        20_000,
      );
      // A second run of the same node while the first lives (its lock held): the first keeps its job.
      const sibling = await startNode(store, heartbeatMs, 'auto', { nodeId, ownPidNamespace: true });
      const held = await check.get(id!);
      assert.equal(held?.status, 'RUNNING');
      assert.equal(held?.executions, 1, 'a live worker of the node is not rescued');
      assert.equal(held?.workerId, first.workerId);
      await kill(sibling);
      const killedAt = await kill(first);
      await startNode(store, heartbeatMs, 'auto', { nodeId, ownPidNamespace: true });
      return rescued(check, id!, killedAt, 20_000);
    }

    it('SQLite, the host name as node', async (t) => {
      const db = join(tempFolder(), 'container.db');
      const store = new SqliteJobStore({ path: db });
      await store.migrate();
      after(() => store.close());
      const ms = await restartInNewNamespace(db, store);
      t.diagnostic(`SQLite, restarted in a new pid namespace: SIGKILL to the job running again: ${ms} ms`);
    });

    it('PostgreSQL, --node-id', { skip: POSTGRES_SKIP }, async (t) => {
      const store = await openTestStore({ schema: freshSchema('container') });
      after(() => store.close());
      const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${store.schema}`;
      const ms = await restartInNewNamespace(url, store, 'jobs-0');
      t.diagnostic(
        `PostgreSQL, restarted in a new pid namespace: SIGKILL to the job running again: ${ms} ms`,
      );
    });
  },
);

describe('PostgreSQL, 3 nodes', { skip: POSTGRES_SKIP }, () => {
  async function threeNodes(
    workerIds: readonly string[],
    heartbeatMs: number,
  ): Promise<{ store: JobStore; nodes: Node[]; url: string }> {
    const schema = freshSchema('rescue');
    const store = await openTestStore({ schema });
    after(() => store.close());
    const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`;
    const nodes = await Promise.all(workerIds.map((workerId) => startNode(url, heartbeatMs, workerId)));
    return { store, nodes, url };
  }

  async function hangOnOne(store: JobStore, nodes: Node[]): Promise<{ id: number; holder: Node }> {
    const [id] = await store.schedule([newJob('test.Hang')]);
    const holder = await eventually(
      () => nodes.find((node) => node.started.includes(`${id} 1`)),
      (node) => node !== undefined,
      20_000,
    );
    return { id: id!, holder: holder! };
  }

  it('another node rescues a dead node it cannot prove dead within 2 heartbeats (default 5 s)', async (t) => {
    // Ids given by the user prove nothing: as nodes on three hosts, the others wait for the lease.
    const { store, nodes } = await threeNodes(['node-a', 'node-b', 'node-c'], 5000);
    const { id, holder } = await hangOnOne(store, nodes);
    const held = await store.get(id);
    assert.equal(held!.leaseExpiresAt! - held!.startedAt!, 7500, 'a lease is 1.5 heartbeats');
    const killedAt = await kill(holder);
    const ms = await rescued(store, id, killedAt, 30_000);
    t.diagnostic(
      `PostgreSQL, 3 nodes (as on 3 hosts), heartbeat 5 s: SIGKILL to the job running again: ${ms} ms`,
    );
  });

  it('on one host, the other nodes rescue a dead node at once', { skip: NO_PROC }, async (t) => {
    // A lease of 30 s: the others look for dead workers every 5 s, and do not wait for it.
    const { store, nodes } = await threeNodes(['auto', 'auto', 'auto'], 20_000);
    const { id, holder } = await hangOnOne(store, nodes);
    const killedAt = await kill(holder);
    const ms = await rescued(store, id, killedAt, 20_000);
    t.diagnostic(
      `PostgreSQL, 3 nodes on one host, heartbeat 20 s: SIGKILL to the job running again: ${ms} ms`,
    );
  });
});

describe('a slow but alive worker keeps its jobs', () => {
  it('a worker whose event loop is blocked for most of its heartbeat, again and again, is not rescued', async () => {
    const db = join(tempFolder(), 'slow.db');
    // The slow worker, in its own process; this process is the other worker, looking for lost jobs.
    const slow = await startNode(db, 1000, 'slow-worker');
    const store = new SqliteJobStore({ path: db });
    await store.migrate();
    after(() => store.close());
    const [id] = await store.schedule([newJob('test.Busy', { blockMs: 700, times: 8 })]);
    await eventually(
      () => slow.started,
      (started) => started.includes(`${id} 1`),
      20_000,
    );
    // Started once the slow worker holds the job (it does not know test.Busy, and must not claim it).
    const watcher = await createKjobs({ store: db, executor: { heartbeatMs: 1000, workerId: 'watcher' } });
    await watcher.start();
    after(() => watcher.stop(100));
    const rescues: number[] = [];
    watcher.executor!.on('rescued', (job) => rescues.push(job.id));
    const job = await eventually(
      () => watcher.get(id!, { withErrors: true }),
      (job) => job?.status === 'DONE',
      30_000,
    );
    assert.equal(job?.executions, 1);
    assert.deepEqual(job?.errors, []);
    assert.deepEqual(rescues, []);
  });
});

describe('a dead node that held many jobs', () => {
  it('has all of them rescued at once, not 100 per heartbeat', async () => {
    const db = join(tempFolder(), 'many.db');
    const store = new SqliteJobStore({ path: db });
    await store.migrate();
    after(() => store.close());
    await store.schedule(Array.from({ length: 350 }, () => newJob('test.Hang')));
    // Claimed by a worker that is gone, with leases that ran out a second ago.
    const held = await store.claim({ workerId: 'ghost', limit: 350, now: Date.now(), leaseMs: -1000 });
    assert.equal(held.length, 350);
    const kjobs = await createKjobs({ store, executor: { heartbeatMs: 60_000, workerId: 'rescuer' } });
    const rescued = new Set<number>();
    kjobs.executor!.on('rescued', (job) => rescued.add(job.id));
    kjobs.registry.registerCommand('test.Hang', () => ({ ran: true }));
    await kjobs.start(); // rescues what is lost before it resolves
    after(() => kjobs.stop(100));
    assert.equal(rescued.size, 350);
  });
});
