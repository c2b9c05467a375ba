// Concurrency limits in the configuration (--limit, --container-limit, KJOBS_LIMITS, KJOBS_CONTAINER_LIMITS),
// and kjobs serve holding them on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildProgram } from '../../src/cli/program.js';
import { serve } from '../../src/cli/run.js';
import { ConfigError, describeConfig, loadConfig, parseLimit } from '../../src/config/config.js';
import { tempFolder } from '../helpers.js';
import { dropSchema, freshSchema, POSTGRES_SKIP, POSTGRES_URL } from '../store/postgres-helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/container-limits.mjs', import.meta.url));
const API = '/kie-server/services/rest/server';

interface Probe {
  running: Record<string, number>;
  peak: Record<string, number>;
}
const probe = () => (globalThis as { limitProbe?: Probe }).limitProbe;

describe('concurrency limits in the configuration', () => {
  it('reads --limit and --container-limit (repeatable) and KJOBS_LIMITS / KJOBS_CONTAINER_LIMITS', () => {
    assert.deepEqual(loadConfig({}, {}).limits, { commands: {}, containers: {} });
    const env = { KJOBS_LIMITS: 'com.acme.SendMail=2, com.acme.Report=1', KJOBS_CONTAINER_LIMITS: 'acme=4' };
    assert.deepEqual(loadConfig(env, {}).limits, {
      commands: { 'com.acme.SendMail': 2, 'com.acme.Report': 1 },
      containers: { acme: 4 },
    });
    // Flags win for the names they give; the environment's other names stay.
    const config = loadConfig(env, {
      limit: ['com.acme.SendMail=5', 'x=y=3'],
      containerLimit: ['billing=1'],
    });
    assert.deepEqual(config.limits, {
      commands: { 'com.acme.SendMail': 5, 'com.acme.Report': 1, 'x=y': 3 },
      containers: { acme: 4, billing: 1 },
    });
    assert.deepEqual(describeConfig(config).limits, config.limits, 'printed at start-up');
  });

  it('refuses limits that are not NAME=N with N a whole number >= 1, naming the flag or variable', () => {
    for (const text of ['com.acme.SendMail=0', 'a=-1', 'a=1.5', 'a=two', 'a=', '=2', 'a']) {
      assert.throws(() => parseLimit('--limit', text), ConfigError, text);
    }
    assert.deepEqual(parseLimit('--limit', ' a = 2 '), ['a', 2]);
    assert.throws(() => loadConfig({}, { limit: ['a=0'] }), /--limit must be NAME=N .*"a=0"/);
    assert.throws(() => loadConfig({ KJOBS_LIMITS: 'a=0' }, {}), /KJOBS_LIMITS must be NAME=N/);
    assert.throws(() => loadConfig({}, { containerLimit: ['acme'] }), /--container-limit must be NAME=N/);
    assert.throws(
      () => loadConfig({ KJOBS_CONTAINER_LIMITS: 'acme=x' }, {}),
      /KJOBS_CONTAINER_LIMITS must be NAME=N/,
    );
  });

  it('reads rate limits and key limits from flags, variables and the config file (issue 17)', () => {
    const env = { KJOBS_RATE_LIMITS: 'mail=20/1s, report=100/1m', KJOBS_KEY_LIMITS: '3,sync=1' };
    const config = loadConfig(env, { containerRateLimit: ['acme=5/500ms'], keyLimit: ['2'] });
    assert.deepEqual(config.rateLimits, {
      commands: { mail: { starts: 20, periodMs: 1000 }, report: { starts: 100, periodMs: 60_000 } },
      containers: { acme: { starts: 5, periodMs: 500 } },
    });
    assert.deepEqual(config.keyLimits, { all: 2, commands: { sync: 1 } }, 'the flag wins for every key');
    for (const text of ['mail=20', 'mail=0/1s', 'mail=2/', 'mail=2/soon', '=2/1s', 'mail=2/0']) {
      assert.throws(() => loadConfig({}, { rateLimit: [text] }), /--rate-limit must be NAME=N\/PERIOD/, text);
    }
    assert.throws(() => loadConfig({}, { keyLimit: ['0'] }), /--key-limit must be N or COMMAND=N/);
    assert.throws(() => loadConfig({}, { keyLimit: ['x'] }), /--key-limit must be N or COMMAND=N/);
  });

  it('kjobs serve and kjobs worker take the flags', () => {
    for (const name of ['serve', 'worker']) {
      const command = buildProgram({}).commands.find((candidate) => candidate.name() === name)!;
      const flags = command.options.map((option) => option.long);
      assert.ok(flags.includes('--limit'), name);
      assert.ok(flags.includes('--container-limit'), name);
    }
  });
});

async function holdsLimits(database: string): Promise<void> {
  const config = loadConfig(
    {},
    {
      db: database,
      port: '0',
      concurrency: '10',
      container: [`a=${FIXTURE}`, `b=${FIXTURE}`],
      limit: ['com.acme.Slow=2'],
      containerLimit: ['b=1'],
    },
  );
  const running = await serve(config, pino({ level: 'silent' }));
  try {
    const batch = async (container: string, command: string, count: number) => {
      const response = await fetch(`${running.address}${API}/jobs/batch?containerId=${container}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(Array.from({ length: count }, () => ({ 'job-command': command }))),
      });
      assert.equal(response.status, 201);
      return (await response.json()) as number[];
    };
    const ids = [...(await batch('a', 'com.acme.Slow', 6)), ...(await batch('b', 'com.acme.Other', 4))];
    for (const id of ids)
      assert.equal((await running.kjobs.waitFor(id, { timeoutMs: 20_000 })).status, 'DONE');
    assert.equal(probe()?.peak['a:com.acme.Slow'], 2, 'at most 2 com.acme.Slow at once');
    assert.equal(probe()?.peak['b:com.acme.Other'], 1, 'at most 1 job of container b at once');
  } finally {
    await running.close();
  }
}

describe('kjobs serve with concurrency limits', () => {
  it('holds command and container limits on SQLite', async () => {
    delete (globalThis as { limitProbe?: Probe }).limitProbe;
    await holdsLimits(join(tempFolder('kjobs-limits-'), 'jobs.db'));
  });

  it('holds command and container limits on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
    delete (globalThis as { limitProbe?: Probe }).limitProbe;
    const schema = freshSchema('limits');
    try {
      await holdsLimits(`${POSTGRES_URL}?schema=${schema}`);
    } finally {
      await dropSchema(schema);
    }
  });
});
