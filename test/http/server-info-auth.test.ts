// GET /server (KieServerInfo), health endpoints, and basic authentication.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { assertSafeBinding, BasicAuthenticator, isLoopbackHost } from '../../src/http/auth.js';
import { assertGolden, PRINT_OUT, startServer, type TestServer } from './helpers.js';

describe('GET /server', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ server: { serverId: 'kjobs-test', serverVersion: '1.2.3' } });
  });

  it('answers a ServiceResponse with KieServerInfo in JSON, capabilities KieServer and BPM', async () => {
    const answer = await server.call('GET', '/kie-server/services/rest/server', {
      accept: 'application/json',
    });
    assert.equal(answer.status, 200);
    const body = JSON.parse(answer.text);
    assert.equal(body.type, 'SUCCESS');
    assert.equal(body.msg, 'Kie Server info');
    const info = body.result['kie-server-info'];
    assert.deepEqual(Object.keys(info), [
      'id',
      'version',
      'name',
      'location',
      'capabilities',
      'messages',
      'mode',
    ]);
    assert.equal(info.id, 'kjobs-test');
    assert.equal(info.version, '1.2.3');
    assert.ok(info.capabilities.includes('KieServer') && info.capabilities.includes('BPM'));
    assert.equal(info.location, `${server.origin}/kie-server/services/rest/server`);
    assert.equal(info.messages[0].severity, 'INFO');
    assert.equal(typeof info.messages[0].timestamp['java.util.Date'], 'number');
    assertGolden('server-info.json', answer.text);
  });

  it('answers the same in XML (the default), with JAXB property order', async () => {
    const answer = await server.call('GET', '/kie-server/services/rest/server/');
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/xml');
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(answer.text);
    assert.equal(parsed.response.type, 'SUCCESS');
    assert.equal(parsed.response.msg, 'Kie Server info');
    assert.deepEqual(parsed.response['kie-server-info'].capabilities, ['KieServer', 'BPM']);
    assertGolden('server-info.xml', answer.text);
  });
});

describe('health', () => {
  it('/healthz and /readyz answer 200 without credentials, even when the API needs them', async () => {
    const server = await startServer({
      server: { users: [{ name: 'a', password: 'b', roles: ['kie-server'] }] },
    });
    const health = await server.call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.text), { status: 'UP' });
    const ready = await server.call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'READY' });
  });

  it('/readyz answers 503 when the store does not answer', async () => {
    const server = await startServer();
    const store = server.kjobs.store as { get: (id: number) => Promise<unknown> };
    const original = store.get;
    store.get = () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432'));
    try {
      const ready = await server.call('GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.text), {
        status: 'NOT_READY',
        reason: 'the job store does not answer',
      });
      assert.doesNotMatch(
        ready.text,
        /10\.1\.2\.3/,
        'an unauthenticated endpoint told where the database is',
      );
    } finally {
      store.get = original;
    }
  });
});

describe('basic authentication', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      server: {
        users: [
          { name: 'admin', password: 's3cret:with:colons', roles: ['kie-server'] },
          { name: 'clerk', password: 'pw', roles: ['user'] },
          { name: 'guest', password: 'pw', roles: ['auditor'] },
        ],
      },
    });
  });

  it('401 with WWW-Authenticate without credentials, or with wrong ones', async () => {
    for (const auth of [undefined, 'admin:wrong', 'nobody:pw', 'admin:']) {
      const answer = await server.call('GET', '/jobs', auth ? { auth } : {});
      assert.equal(answer.status, 401, `${auth}: ${answer.text}`);
      assert.equal(answer.headers.get('www-authenticate'), 'Basic realm="KIE Server"');
      assert.equal(answer.type?.split(';')[0], 'text/plain');
      assert.match(answer.text, /^".*"$/);
    }
    const garbage = await server.call('GET', '/kie-server/services/rest/server', {
      headers: { authorization: 'Bearer abc' },
    });
    assert.equal(garbage.status, 401);
  });

  it('403 for a user without the kie-server or user role', async () => {
    const answer = await server.call('GET', '/jobs', { auth: 'guest:pw' });
    assert.equal(answer.status, 403);
    assert.match(answer.text, /does not have the role kie-server or user/);
  });

  it('200 for kie-server and user roles, on the jobs API and /server', async () => {
    assert.equal((await server.call('GET', '/jobs', { auth: 'admin:s3cret:with:colons' })).status, 200);
    assert.equal((await server.call('GET', '/jobs', { auth: 'clerk:pw' })).status, 200);
    assert.equal(
      (await server.call('GET', '/kie-server/services/rest/server', { auth: 'clerk:pw' })).status,
      200,
    );
  });

  it('refuses before reading the body: nothing is scheduled without credentials', async () => {
    const body = JSON.stringify({ 'job-command': PRINT_OUT });
    const answer = await server.call('POST', '/jobs', { contentType: 'application/json', body });
    assert.equal(answer.status, 401);
    assert.equal((await server.kjobs.countByStatus()).QUEUED, 0);
  });

  it('compares credentials by value (unit)', async () => {
    const auth = new BasicAuthenticator([{ name: 'u', password: 'p', roles: ['user'] }]);
    const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    assert.equal((await auth.authenticate(header('u:p'))).name, 'u');
    await assert.rejects(auth.authenticate(header('u:P')), { statusCode: 401 });
    await assert.rejects(auth.authenticate(header('u:pp')), { statusCode: 401 });
    await assert.rejects(auth.authenticate(header('u')), { statusCode: 401 });
    assert.equal(new BasicAuthenticator([]).enabled, false);
  });
});

describe('binding without users', () => {
  it('allows loopback hosts, refuses others unless insecure', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.ok(!isLoopbackHost(host), host);
    assert.doesNotThrow(() => assertSafeBinding({ host: '127.0.0.1', users: [], insecure: false }));
    assert.throws(
      () => assertSafeBinding({ host: '0.0.0.0', users: [], insecure: false }),
      /Refusing to listen on 0\.0\.0\.0/,
    );
    assert.doesNotThrow(() => assertSafeBinding({ host: '0.0.0.0', users: [], insecure: true }));
    assert.doesNotThrow(() =>
      assertSafeBinding({
        host: '0.0.0.0',
        users: [{ name: 'a', password: 'b', roles: ['kie-server'] }],
        insecure: false,
      }),
    );
  });
});
