import { availableParallelism } from 'node:os';
// The config file (--config kjobs.json, KJOBS_CONFIG): every setting the flags have, under flags and variables.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { tempFolder } from '../helpers.js';
import { startService } from './service.js';

const folder = tempFolder();
let files = 0;
/** Writes `content` (JSON of it, unless a string) to a fresh file; returns its path. */
function configFile(content: unknown): string {
  const path = join(folder, `kjobs-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('config file', () => {
  it('holds every setting the flags have, in the forms the flags take or as JSON values', () => {
    const file = configFile({
      port: 9100,
      host: '0.0.0.0',
      database: 'postgres://kjobs:secret@db/jobs',
      containers: { acme: './acme.mjs', billing: './billing.mjs' },
      remoteContainers: { java: 'com.acme.*,org.jbpm.*' },
      workerGrants: ['worker=java'],
      users: ['admin:pw', 'viewer:pw2:user'],
      insecure: true,
      jsonDates: 'iso',
      otel: true,
      executor: false,
      concurrency: '4',
      workers: 'auto',
      logLevel: 'warn',
      bodyLimit: '512kb',
      serverId: 'node-a',
      location: 'https://jobs.example.com/kie-server/services/rest/server',
      stopTimeout: 2000,
      heartbeat: '2s',
      leaseMs: 5000,
      defaultTimeout: '5m',
      loginFailures: 0,
      limits: { 'com.acme.SendMail': 2 },
      containerLimits: ['acme=3'],
      rateLimits: { 'com.acme.SendMail': '20/1s' },
      containerRateLimits: ['acme=5/1m'],
      keyLimits: ['2', 'com.acme.Sync=1'],
      allowedHosts: ['jobs.internal', '*.corp.example'],
      trustProxy: 'yes',
      maxPageSize: 500,
      bulkLimit: 250,
      maxDataSize: '64kb',
      maxConnections: 500,
      maxParents: 20,
      maxDependencyDepth: '50',
      maxDependencyLinks: 500,
      retention: '7d',
      logFormat: 'json',
      usersFile: '/etc/kjobs/users.txt',
      kieUsers: './application-users.properties',
      kieRoles: './application-roles.properties',
      tlsCert: '/etc/kjobs/tls/cert.pem',
      tlsKey: '/etc/kjobs/tls/key.pem',
      url: 'https://jobs.example.com',
      user: 'billing-worker',
      password: 'worker-pw',
      caFile: '/etc/kjobs/ca.pem',
    });
    assert.deepEqual(loadConfig({}, { config: file }), {
      port: 9100,
      host: '0.0.0.0',
      database: 'postgres://kjobs:secret@db/jobs',
      containers: { acme: './acme.mjs', billing: './billing.mjs' },
      remoteContainers: { java: ['com.acme.*', 'org.jbpm.*'] },
      workerGrants: { worker: ['java'] },
      users: [
        { name: 'admin', password: 'pw', roles: ['kie-server'] },
        { name: 'viewer', password: 'pw2', roles: ['user'] },
      ],
      insecure: true,
      jsonDates: 'iso',
      otel: true,
      executor: false,
      concurrency: 4,
      workers: availableParallelism(),
      logLevel: 'warn',
      bodyLimit: 512 * 1024,
      serverId: 'node-a',
      location: 'https://jobs.example.com/kie-server/services/rest/server',
      stopTimeoutMs: 2000,
      heartbeatMs: 2000,
      leaseMs: 5000,
      defaultTimeoutMs: 300_000,
      loginFailures: 0,
      limits: { commands: { 'com.acme.SendMail': 2 }, containers: { acme: 3 } },
      rateLimits: {
        commands: { 'com.acme.SendMail': { starts: 20, periodMs: 1000 } },
        containers: { acme: { starts: 5, periodMs: 60_000 } },
      },
      keyLimits: { all: 2, commands: { 'com.acme.Sync': 1 } },
      allowedHosts: ['jobs.internal', '*.corp.example'],
      trustProxy: 1,
      maxPageSize: 500,
      bulkLimit: 250,
      maxDataSize: 64 * 1024,
      maxConnections: 500,
      maxParents: 20,
      maxDependencyDepth: 50,
      maxDependencyLinks: 500,
      retentionMs: 7 * 86_400_000,
      logFormat: 'json',
      usersFile: '/etc/kjobs/users.txt',
      kieUsers: './application-users.properties',
      kieRoles: './application-roles.properties',
      tlsCert: '/etc/kjobs/tls/cert.pem',
      tlsKey: '/etc/kjobs/tls/key.pem',
      url: 'https://jobs.example.com/kie-server/services/rest',
      user: 'billing-worker',
      password: 'worker-pw',
      caFile: '/etc/kjobs/ca.pem',
    });
    // Every setting of the table has its key in the file above.
    for (const name of ['serve', 'worker'] as const) {
      const command = buildProgram({}).commands.find((candidate) => candidate.name() === name)!;
      assert.equal(
        command.options.length,
        SETTINGS.filter((setting) => setting.commands.includes(name)).length + 1,
        `${name} has a flag per setting of its own, and --config`,
      );
    }
  });

  it('takes flags over variables over the file over the defaults; lists merge by name in that order', () => {
    const file = configFile({
      port: 9100,
      host: '0.0.0.0',
      concurrency: 4,
      containers: { a: './file-a.mjs', b: './file-b.mjs' },
    });
    const env = {
      KJOBS_CONFIG: file,
      KJOBS_HOST: '10.0.0.1',
      KJOBS_CONCURRENCY: '6',
      KJOBS_CONTAINERS: 'b=./env-b.mjs',
    };
    const config = loadConfig(env, { concurrency: '8', container: ['c=./flag-c.mjs'] });
    assert.equal(config.port, 9100, 'the file over the default');
    assert.equal(config.host, '10.0.0.1', 'the variable over the file');
    assert.equal(config.concurrency, 8, 'the flag over the variable');
    assert.equal(config.leaseMs, DEFAULT_CONFIG.leaseMs, 'the default where nothing says otherwise');
    assert.deepEqual(config.containers, { a: './file-a.mjs', b: './env-b.mjs', c: './flag-c.mjs' });
    // --config names the file over KJOBS_CONFIG.
    const other = configFile({ port: 9200 });
    assert.equal(loadConfig(env, { config: other }).port, 9200);
  });

  it('refuses a bad file naming the file, the key and the reason', () => {
    const cases: [unknown, RegExp][] = [
      [{ port: 'http' }, /kjobs-\d+\.json: "port" must be a whole number from 0 to 65535, got "http"/],
      [{ port: 70000 }, /"port" must be a whole number from 0 to 65535, got "70000"/],
      [{ prot: 8080 }, /kjobs-\d+\.json: unknown setting "prot"; the settings are port, host, .*logLevel/],
      [{ insecure: 'maybe' }, /"insecure" must be true or false, got "maybe"/],
      [{ executor: 1 }, /"executor" must be true or false, got 1/],
      [{ host: ['a'] }, /"host" must be a string or a number, got \["a"\]/],
      [{ users: 'admin:pw' }, /"users" must be a list of strings, got "admin:pw"/],
      [{ containers: { acme: '' } }, /"containers" must be ID=MODULE .*got "acme="/],
      [{ limits: { 'com.acme.SendMail': 0 } }, /"limits" must be NAME=N .*got "com.acme.SendMail=0"/],
      [{ limits: [{ a: 1 }] }, /"limits" must be a list of strings or an object, got \{"a":1\} in it/],
      [{ jsonDates: 'unix' }, /"jsonDates" must be one of auto, kie, iso, got "unix"/],
      [[8080], /kjobs-\d+\.json must hold a JSON object of settings/],
      ['{"port": 80,}', /The config file .*kjobs-\d+\.json is not valid JSON/],
    ];
    for (const [content, message] of cases) {
      const file = configFile(content);
      assert.throws(
        () => loadConfig({}, { config: file }),
        (error: Error) => {
          assert.ok(error instanceof ConfigError, `${JSON.stringify(content)}: ${error.message}`);
          assert.match(error.message, message);
          assert.ok(error.message.includes(file), `names the file: ${error.message}`);
          return true;
        },
      );
    }
    const missing = join(folder, 'missing.json');
    assert.throws(
      () => loadConfig({ KJOBS_CONFIG: missing }, {}),
      new RegExp(`Cannot read the config file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`),
    );
  });

  it('kjobs serve --config starts with the settings of the file', async () => {
    const db = join(folder, 'from-file.db');
    const file = configFile({ database: db, serverId: 'from-file', concurrency: 3 });
    const service = await startService(['--config', file]);
    try {
      const configuration = service.lines
        .map(
          (line) => JSON.parse(line) as { msg?: string; config?: { database: string; concurrency: number } },
        )
        .find((entry) => entry.msg === 'kjobs configuration');
      assert.equal(configuration?.config?.database, db);
      assert.equal(configuration?.config?.concurrency, 3);
      const info = await service.call('GET', '/kie-server/services/rest/server');
      assert.equal(info.status, 200);
      assert.match(info.text, /"id"\s*:\s*"from-file"/);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});

describe('docs/configuration.md: the config file example', () => {
  it('loads as it is shown', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const example = /<!-- config-file-example -->\n```json\n([\s\S]*?)\n```/.exec(page)?.[1];
    assert.ok(example, 'docs/configuration.md has the example');
    const config = loadConfig({}, { config: configFile(example) });
    assert.deepEqual(config.containers, { acme: './examples/acme-commands.mjs' });
    assert.deepEqual(config.users, [{ name: 'admin', password: 'change-me', roles: ['kie-server'] }]);
    assert.equal(config.concurrency, 4);
    assert.equal(config.defaultTimeoutMs, 300_000);
    assert.deepEqual(config.limits, { commands: { 'com.acme.SendMail': 2 }, containers: { acme: 8 } });
  });
});
