// A wrong method on a path that exists answers 405 with an Allow header, in KIE's error format; an unknown path
// stays 404.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { API, startServer, type TestServer } from './helpers.js';

describe('wrong methods', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      server: { users: [{ name: 'ada', password: 'pw', roles: ['kie-server'] }] },
    });
  });

  const cases: [string, string, string][] = [
    ['PATCH', '/jobs', 'GET, HEAD, POST'],
    ['DELETE', '/jobs', 'GET, HEAD, POST'],
    ['POST', '/jobs/12', 'DELETE, GET, HEAD, PUT'],
    ['PATCH', '/jobs/12/', 'DELETE, GET, HEAD, PUT'],
    ['GET', '/jobs/12/data', 'POST'],
    ['PUT', '/jobs/keys/order-1', 'GET, HEAD'],
    ['DELETE', '/jobs/processes/instances/4', 'GET, HEAD'],
    ['POST', API, 'GET, HEAD'],
    ['DELETE', '/readyz', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    it(`${method} ${path}: 405, Allow: ${allow}`, async () => {
      const answer = await server.call(method, path, { auth: 'ada:pw' });
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), allow);
      assert.equal(answer.type, 'text/plain; charset=utf-8');
      const shown = path.startsWith('/jobs') ? API + path : path;
      assert.equal(answer.text, `"Method ${method} is not allowed on ${shown}: use ${allow}"`);
    });
  }

  it('an unknown path is still 404, whatever the method', async () => {
    for (const method of ['GET', 'PATCH']) {
      const answer = await server.call(method, `${API}/nothing/here`, { auth: 'ada:pw' });
      assert.equal(answer.status, 404);
      assert.equal(answer.headers.get('allow'), null);
      assert.equal(answer.text, `"Not found: ${method} ${API}/nothing/here"`);
    }
  });

  it('the right method still works, and a wrong one changes nothing', async () => {
    const answer = await server.call('PATCH', '/jobs', {
      auth: 'ada:pw',
      contentType: 'application/json',
      body: '{}',
    });
    assert.equal(answer.status, 405);
    const list = await server.call('GET', '/jobs?status=QUEUED', {
      auth: 'ada:pw',
      accept: 'application/json',
    });
    assert.equal(list.status, 200);
    assert.deepEqual(JSON.parse(list.text), { 'request-info-instance': [] });
  });
});
