// KIE Server's probes, /server/readycheck and /server/healthcheck, as KieServerRestImpl answers them: no
// credentials, 200 when ready or healthy, 503 when starting, stopping or when the job store does not answer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createServer } from '../../src/http/server.js';
import { durationWords } from '../../src/http/routes/probes.js';
import { createKjobs } from '../../src/kjobs.js';
import { tempFolder } from '../helpers.js';
import { API, assertGolden, startServer, type TestServer } from './helpers.js';

const USERS = [{ name: 'ada', password: 'pw', roles: ['kie-server'] }];
/** The uptime and the time the check took vary from run to run. */
const steady = (text: string) =>
  text
    .replace(/Server is up for [\w ]+?(?=["<])/g, 'Server is up for <uptime>')
    .replace(/done in \d+ ms/g, 'done in <n> ms');

describe('KIE probes', () => {
  let server: TestServer;
  const folder = tempFolder('kjobs-probes-');
  before(async () => {
    server = await startServer({ server: { users: USERS, serverId: 'kie-1' } });
  });

  it('readycheck: 200 with an empty body once started, without credentials', async () => {
    const answer = await server.call('GET', `${API}/readycheck`);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '');
    assert.equal(answer.type, 'text/plain; charset=utf-8');
    // The API itself still needs them.
    assert.equal((await server.call('GET', API)).status, 401);
  });

  it('healthcheck: 200 and an empty body; with report=true the messages, JSON and XML', async () => {
    const plain = await server.call('GET', `${API}/healthcheck`);
    assert.equal(plain.status, 200);
    assert.equal(plain.text, '');
    const json = await server.call('GET', `${API}/healthcheck?report=true`, { accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.type, 'application/json; charset=utf-8');
    const messages = JSON.parse(json.text) as { severity: string; content: string[] }[];
    assert.deepEqual(
      messages.map((message) => message.severity),
      ['INFO', 'INFO', 'INFO'],
    );
    assert.equal(messages[0]?.content[0], "KIE Server 'kie-1' is ready to serve requests true");
    assert.match(
      messages[0]?.content[1] ?? '',
      /^Server is up for 0 days 0 hours \d+ minutes? \d+ seconds?$/,
    );
    assertGolden('healthcheck-report.json', steady(json.text));
    const xml = await server.call('GET', `${API}/healthcheck?report=TRUE`, { accept: 'application/xml' });
    assert.equal(xml.status, 200);
    assertGolden('healthcheck-report.xml', steady(xml.text));
    // XML when nothing is said, as every KIE answer.
    assert.equal((await server.call('GET', `${API}/healthcheck?report=true`)).type, 'application/xml');
  });

  it('503 while kjobs is not started, and once it stops', async () => {
    const kjobs = await createKjobs({ store: join(folder, 'not-started.db'), executor: false });
    const app = await createServer(kjobs, { serverId: 'kie-2' });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const get = (path: string, accept = 'application/json') =>
        fetch(origin + API + path, { headers: { accept } });
      assert.equal(kjobs.state, 'created');
      const ready = await get('/readycheck');
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), '');
      assert.equal((await get('/healthcheck')).status, 503);
      const report = await get('/healthcheck?report=true');
      assert.equal(report.status, 503);
      const messages = (await report.json()) as { severity: string; content: string[] }[];
      assert.deepEqual(messages[0], {
        ...messages[0],
        severity: 'ERROR',
        content: ["KIE Server 'kie-2' is not ready to serve requests"],
      });
      assert.equal(messages[1]?.content[0], "KIE Server 'kie-2' is ready to serve requests false");

      await kjobs.start();
      assert.equal(kjobs.state, 'started');
      assert.equal((await get('/readycheck')).status, 200);
      assert.equal((await get('/healthcheck')).status, 200);

      await kjobs.stop(0);
      assert.equal(kjobs.state, 'stopped');
      assert.equal((await get('/readycheck')).status, 503);
      assert.equal((await get('/healthcheck')).status, 503);
    } finally {
      await app.close();
    }
  });

  it('503 when the job store does not answer, without its details', async () => {
    const kjobs = await createKjobs({ store: join(folder, 'closing.db'), executor: false });
    await kjobs.start();
    const app = await createServer(kjobs);
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await kjobs.store.close(); // the store is gone, kjobs still thinks it runs
      assert.equal((await fetch(`${origin}${API}/readycheck`)).status, 503);
      const report = await fetch(`${origin}${API}/healthcheck?report=true`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(report.status, 503);
      const text = await report.text();
      assert.match(
        text,
        /"severity" : "ERROR",[^]*"content" : \[ "jBPM failed due to the job store does not answer" \]/,
      );
      assert.doesNotMatch(text, /database|sqlite|\.db/i);
    } finally {
      await app.close();
    }
  });

  it("durationWords writes KIE's uptime words", () => {
    assert.equal(durationWords(0), '0 days 0 hours 0 minutes 0 seconds');
    assert.equal(durationWords(((24 + 1) * 3600 + 61) * 1000 + 999), '1 day 1 hour 1 minute 1 second');
    assert.equal(
      durationWords((2 * 86_400 + 11 * 3600 + 21 * 60 + 11) * 1000),
      '2 days 11 hours 21 minutes 11 seconds',
    );
  });
});
