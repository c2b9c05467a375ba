// Configuration: defaults, then KJOBS_* variables, then flags; secrets masked when printed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_CONFIG,
  describeConfig,
  loadConfig,
  maskDatabase,
  parseSize,
  parseUser,
} from '../../src/config/config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, {});
    assert.deepEqual(config, { ...DEFAULT_CONFIG, containers: {}, users: [], allowedHosts: [] });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.database, './data/kjobs.db');
    assert.equal(config.jsonDates, 'auto');
    assert.equal(config.bodyLimit, 1048576);
    assert.equal(config.executor, true);
  });

  it('reads allowed hosts and proxy trust from the environment and the flags', () => {
    const env = { KJOBS_ALLOWED_HOSTS: 'jobs.internal, *.corp.example', KJOBS_TRUST_PROXY: 'yes' };
    const fromEnv = loadConfig(env, {});
    assert.deepEqual(fromEnv.allowedHosts, ['jobs.internal', '*.corp.example']);
    assert.equal(fromEnv.trustProxy, 1, 'on is one hop');
    const withFlags = loadConfig(env, { allowedHosts: 'other.example', trustProxy: false });
    assert.deepEqual(withFlags.allowedHosts, ['other.example']);
    assert.equal(withFlags.trustProxy, false);
    // The flag alone (commander hands over true), a hop count, addresses and networks.
    assert.equal(loadConfig({}, { trustProxy: true }).trustProxy, 1);
    assert.equal(loadConfig({}, { trustProxy: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ KJOBS_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy, [
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    assert.throws(
      () => loadConfig({ KJOBS_TRUST_PROXY: 'maybe' }),
      /KJOBS_TRUST_PROXY takes a number of proxy hops to trust .*"maybe" is not an IP address or network/,
    );
    assert.throws(() => loadConfig({}, { trustProxy: '10.0.0.0/33' }), /--trust-proxy .* bad prefix length/);
  });

  it('reads the maximum page size and data size', () => {
    assert.equal(loadConfig({}, {}).maxPageSize, 10_000);
    assert.equal(loadConfig({}, {}).maxDataSize, 1024 * 1024);
    const config = loadConfig({ KJOBS_MAX_PAGE_SIZE: '500' }, { maxDataSize: '64kb' });
    assert.equal(config.maxPageSize, 500);
    assert.equal(config.maxDataSize, 64 * 1024);
    assert.throws(
      () => loadConfig({}, { maxPageSize: '0' }),
      /--max-page-size must be a whole number from 1/,
    );
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      KJOBS_PORT: '9000',
      KJOBS_HOST: '0.0.0.0',
      KJOBS_DATABASE_URL: '/var/lib/kjobs/jobs.db',
      KJOBS_CONTAINERS: 'a=./a.mjs, b=./b.mjs',
      KJOBS_USERS: 'admin:pw1;viewer:pw2:user,audit',
      KJOBS_INSECURE: 'true',
      KJOBS_JSON_DATES: 'iso',
      KJOBS_EXECUTOR: 'false',
      KJOBS_CONCURRENCY: '4',
      KJOBS_LOG_LEVEL: 'warn',
      KJOBS_BODY_LIMIT: '512kb',
    };
    const fromEnv = loadConfig(env, {});
    assert.equal(fromEnv.port, 9000);
    assert.equal(fromEnv.host, '0.0.0.0');
    assert.equal(fromEnv.database, '/var/lib/kjobs/jobs.db');
    assert.deepEqual(fromEnv.containers, { a: './a.mjs', b: './b.mjs' });
    assert.deepEqual(fromEnv.users, [
      { name: 'admin', password: 'pw1', roles: ['kie-server'] },
      { name: 'viewer', password: 'pw2', roles: ['user', 'audit'] },
    ]);
    assert.equal(fromEnv.insecure, true);
    assert.equal(fromEnv.jsonDates, 'iso');
    assert.equal(fromEnv.executor, false);
    assert.equal(fromEnv.concurrency, 4);
    assert.equal(fromEnv.logLevel, 'warn');
    assert.equal(fromEnv.bodyLimit, 512 * 1024);

    const withFlags = loadConfig(env, {
      port: '0',
      db: 'flag.db',
      container: ['b=./other.mjs', 'c=./c.mjs'],
      user: ['admin:new'],
      executor: true,
      jsonDates: 'kie',
      concurrency: '2',
    });
    assert.equal(withFlags.port, 0);
    assert.equal(withFlags.database, 'flag.db');
    assert.deepEqual(withFlags.containers, { a: './a.mjs', b: './other.mjs', c: './c.mjs' });
    assert.deepEqual(
      withFlags.users.map((user) => [user.name, user.password]),
      [
        ['viewer', 'pw2'],
        ['admin', 'new'],
      ],
    );
    assert.equal(withFlags.executor, true);
    assert.equal(withFlags.jsonDates, 'kie');
    assert.equal(withFlags.concurrency, 2);
    assert.equal(withFlags.host, '0.0.0.0', 'not given as a flag: the environment stays');
  });

  it('refuses unusable values, naming the flag or variable', () => {
    assert.throws(() => loadConfig({ KJOBS_PORT: 'http' }), /KJOBS_PORT must be a whole number/);
    assert.throws(() => loadConfig({}, { port: '70000' }), /--port must be a whole number from 0 to 65535/);
    assert.throws(() => loadConfig({}, { concurrency: '0' }), /--concurrency/);
    assert.throws(
      () => loadConfig({ KJOBS_JSON_DATES: 'unix' }),
      /KJOBS_JSON_DATES must be one of auto, kie, iso/,
    );
    assert.throws(() => loadConfig({}, { container: ['nomodule'] }), /--container must be ID=MODULE/);
    assert.throws(() => loadConfig({}, { user: ['alone'] }), /--user must be NAME:PASSWORD/);
    assert.throws(() => loadConfig({ KJOBS_INSECURE: 'maybe' }), /KJOBS_INSECURE must be true or false/);
    assert.throws(() => loadConfig({}, { bodyLimit: '1gb' }), /--body-limit must be a size/);
  });

  it('parses users: roles after the last colon, kie-server by default', () => {
    assert.deepEqual(parseUser('a:b'), { name: 'a', password: 'b', roles: ['kie-server'] });
    assert.deepEqual(parseUser('a:b:c:kie-server,user'), {
      name: 'a',
      password: 'b:c',
      roles: ['kie-server', 'user'],
    });
    assert.throws(() => parseUser('a:'), /empty password/);
    assert.equal(parseSize('s', '1mb'), 1048576);
    assert.equal(parseSize('s', '2048'), 2048);
  });

  it('masks passwords when printed', () => {
    const config = loadConfig({
      KJOBS_USERS: 'admin:topsecret',
      KJOBS_DATABASE_URL: 'postgres://kjobs:dbsecret@db:5432/jobs',
    });
    const printed = JSON.stringify(describeConfig(config));
    assert.doesNotMatch(printed, /topsecret|dbsecret/);
    assert.match(printed, /admin:\*\*\*:kie-server/);
    assert.match(printed, /postgres:\/\/kjobs:\*\*\*@db:5432\/jobs/);
    assert.equal(maskDatabase('./data/kjobs.db'), './data/kjobs.db');
  });
  it('reads lease, default timeout and failed-login limit (issue 8)', () => {
    const env = { KJOBS_LEASE_MS: '2000', KJOBS_DEFAULT_TIMEOUT: '1m', KJOBS_LOGIN_FAILURES: '5' };
    const fromEnv = loadConfig(env, {});
    assert.equal(fromEnv.leaseMs, 2000);
    assert.equal(fromEnv.defaultTimeoutMs, 60_000);
    assert.equal(fromEnv.loginFailures, 5);
    const withFlags = loadConfig(env, { leaseMs: '500', defaultTimeout: '1500', loginFailures: '0' });
    assert.equal(withFlags.leaseMs, 500);
    assert.equal(withFlags.defaultTimeoutMs, 1500);
    assert.equal(withFlags.loginFailures, 0);
    assert.equal(loadConfig({}, {}).defaultTimeoutMs, 0);
    assert.throws(() => loadConfig({}, { defaultTimeout: 'soon' }), /--default-timeout must be a duration/);
    assert.throws(() => loadConfig({ KJOBS_LEASE_MS: '10' }, {}), /KJOBS_LEASE_MS must be a whole number/);
  });
});
