// KIE's container listing from the containers kjobs has loaded: GET /server/containers and
// /server/containers/{id}, a ServiceResponse in JSON and JAXB XML as KIE writes them, checked against golden
// documents; the commands each container offers in a kjobs extension field.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { API, assertGolden, startServer, type TestServer } from './helpers.js';

describe('containers', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      kjobs: {
        containers: {
          acme: { 'com.acme.Greet': () => ({}), 'com.acme.Fail': () => Promise.reject(new Error('no')) },
          'billing-1.0': { 'com.billing.Invoice': () => ({}) },
        },
      },
      server: { users: [{ name: 'ada', password: 'pw', roles: ['user'] }] },
    });
  });
  const get = (path: string, accept?: string) =>
    server.call('GET', `${API}${path}`, { auth: 'ada:pw', ...(accept ? { accept } : {}) });

  it('lists every loaded container, STARTED, with its commands (JSON)', async () => {
    const answer = await get('/containers', 'application/json');
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/json; charset=utf-8');
    const body = JSON.parse(answer.text);
    assert.equal(body.type, 'SUCCESS');
    assert.equal(body.msg, 'List of created containers');
    const containers = body.result['kie-containers']['kie-container'];
    assert.deepEqual(
      containers.map((c: Record<string, unknown>) => [c['container-id'], c.status, c.commands]),
      [
        ['acme', 'STARTED', ['com.acme.Greet', 'com.acme.Fail']],
        ['billing-1.0', 'STARTED', ['com.billing.Invoice']],
      ],
    );
    assertGolden('containers.json', answer.text);
  });

  it('lists them in JAXB XML, the default', async () => {
    const answer = await get('/containers');
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/xml');
    assertGolden('containers.xml', answer.text);
  });

  it('answers one container, JSON and XML', async () => {
    const json = await get('/containers/acme', 'application/json');
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.text).msg, 'Info for container acme');
    assertGolden('container.json', json.text);
    const xml = await get('/containers/billing-1.0', 'application/xml');
    assert.equal(xml.status, 200);
    assertGolden('container.xml', xml.text);
  });

  it('404 for a container kjobs has not loaded, in KIE words', async () => {
    const answer = await get('/containers/nope', 'application/json');
    assert.equal(answer.status, 404);
    assert.equal(answer.type, 'text/plain; charset=utf-8');
    assert.equal(answer.text, '"Container nope is not instantiated."');
  });

  it('needs the same credentials as the API', async () => {
    const answer = await server.call('GET', `${API}/containers`);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('www-authenticate'), 'Basic realm="KIE Server"');
  });

  it('an empty list when no container is loaded', async () => {
    const bare = await startServer();
    const answer = await bare.call('GET', `${API}/containers`, { accept: 'application/json' });
    assert.deepEqual(JSON.parse(answer.text).result, { 'kie-containers': { 'kie-container': [] } });
  });
});
