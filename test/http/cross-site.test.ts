// What a web page can make a visitor's browser do to kjobs: nothing that changes jobs (CSRF), and nothing at all
// through a rebound DNS name when no users are configured (DNS rebinding). Raw HTTP for the header rules, and a
// real Chromium for the attack as a page really makes it.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { launchChromium, SKIP } from '../console/browser.js';
import { API, jobJson, PRINT_OUT, startServer, type TestServer } from './helpers.js';

const USER = { name: 'ops', password: 'right', roles: ['kie-server'] };
const AUTH = 'ops:right';

/** A request with exactly the headers given (fetch would not let a test set Host). */
function raw(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(origin + path, { method, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} in 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function jobCount(server: TestServer): Promise<number> {
  const counts = await server.kjobs.countByStatus();
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

describe('cross-site requests (CSRF)', () => {
  let server: TestServer;
  const authorization = `Basic ${Buffer.from(AUTH).toString('base64')}`;
  before(async () => {
    server = await startServer({ server: { users: [USER] } });
  });

  it('a body without Content-Type is refused with 415 and stores nothing', async () => {
    const before = await jobCount(server);
    for (const path of ['/jobs', '/jobs/batch', '/jobs/1/data']) {
      const answer = await raw(server.origin, 'POST', API + path, { authorization }, jobJson(PRINT_OUT));
      assert.equal(answer.status, 415, `${path}: ${answer.text}`);
      assert.match(answer.text, /no Content-Type: send Content-Type application\/json or application\/xml/);
    }
    assert.equal(await jobCount(server), before);
  });

  it('requests without a body need no Content-Type (requeue, cancel, GET)', async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: new Date(4102444800000) });
    const get = await raw(server.origin, 'GET', `${API}/jobs/${id}`, { authorization });
    assert.equal(get.status, 200, get.text);
    const cancel = await raw(server.origin, 'DELETE', `${API}/jobs/${id}`, { authorization });
    assert.equal(cancel.status, 204, cancel.text);
  });

  it('state changes sent by another site or origin are refused with 403; same origin and non-browsers pass', async () => {
    const post = (headers: Record<string, string>) =>
      raw(
        server.origin,
        'POST',
        `${API}/jobs`,
        { authorization, 'content-type': 'application/json', accept: 'application/json', ...headers },
        jobJson(PRINT_OUT),
      );
    const before = await jobCount(server);
    const otherPort = server.origin.replace(/:\d+$/, ':1');
    const refused: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'same-site', origin: otherPort },
      { origin: otherPort },
      { origin: 'https://attacker.example' },
      { origin: 'null' },
    ];
    for (const headers of refused) {
      const answer = await post(headers);
      assert.equal(answer.status, 403, `${JSON.stringify(headers)}: ${answer.text}`);
      assert.match(answer.text, /Refused: this request to change jobs was sent by .* through a browser/);
    }
    assert.equal(await jobCount(server), before, 'no refused request stored a job');
    const accepted: Record<string, string>[] = [
      {},
      { 'sec-fetch-site': 'same-origin', origin: server.origin },
      { 'sec-fetch-site': 'none' },
      { origin: server.origin },
    ];
    for (const headers of accepted) {
      const answer = await post(headers);
      assert.equal(answer.status, 201, `${JSON.stringify(headers)}: ${answer.text}`);
    }
    assert.equal(await jobCount(server), before + 4);
  });

  it('cancel, requeue and update-data from another site are refused; reads are not', async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: new Date(4102444800000) });
    const crossSite = { authorization, 'sec-fetch-site': 'cross-site' };
    const update = await raw(
      server.origin,
      'POST',
      `${API}/jobs/${id}/data`,
      { ...crossSite, 'content-type': 'application/json' },
      '{"x": 1}',
    );
    assert.equal(update.status, 403, update.text);
    assert.equal((await raw(server.origin, 'PUT', `${API}/jobs/${id}`, crossSite)).status, 403);
    assert.equal((await raw(server.origin, 'DELETE', `${API}/jobs/${id}`, crossSite)).status, 403);
    const job = await server.kjobs.get(id, { withData: true });
    assert.equal(job.status, 'QUEUED');
    assert.deepEqual(job.requestData, {});
    // A read cannot change anything, and the browser keeps its answer from the other page (no CORS headers).
    assert.equal((await raw(server.origin, 'GET', `${API}/jobs/${id}`, crossSite)).status, 200);
  });

  it('behind a trusted proxy, the forwarded host is the page origin kjobs compares with', async () => {
    const proxied = await startServer({ server: { users: [USER], trustProxy: true } });
    const headers = {
      authorization,
      'content-type': 'application/json',
      origin: 'https://jobs.example.com',
      'x-forwarded-host': 'jobs.example.com',
    };
    const answer = await raw(proxied.origin, 'POST', `${API}/jobs`, headers, jobJson(PRINT_OUT));
    assert.equal(answer.status, 201, answer.text);
    // Without --trust-proxy the same header proves nothing.
    const direct = await raw(server.origin, 'POST', `${API}/jobs`, headers, jobJson(PRINT_OUT));
    assert.equal(direct.status, 403, direct.text);
  });
});

describe('Host names without users (DNS rebinding)', () => {
  let open: TestServer;
  let allowing: TestServer;
  let withUsers: TestServer;
  before(async () => {
    open = await startServer();
    allowing = await startServer({ server: { allowedHosts: ['jobs.internal', '*.corp.example'] } });
    withUsers = await startServer({ server: { users: [USER] } });
  });

  const get = (server: TestServer, host: string, auth?: string) =>
    raw(server.origin, 'GET', `${API}/jobs`, {
      host,
      ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
    });

  it('answers loopback names, IP addresses and this machine name', async () => {
    const port = new URL(open.origin).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      'app.localhost',
      `[::1]:${port}`,
      '10.1.2.3:8080',
      hostname(),
    ]) {
      const answer = await get(open, host);
      assert.equal(answer.status, 200, `${host}: ${answer.text}`);
    }
  });

  it('refuses any other name with 403 saying how to allow it, on the API, the console and health', async () => {
    for (const path of [`${API}/jobs`, API, '/console/', '/healthz']) {
      const answer = await raw(open.origin, 'GET', path, { host: 'rebind.attacker.example' });
      assert.equal(answer.status, 403, `${path}: ${answer.text}`);
      assert.match(answer.text, /Host rebind\.attacker\.example is not allowed.*--allowed-hosts/);
    }
  });

  it('answers the names given in allowedHosts, with * for subdomains', async () => {
    assert.equal((await get(allowing, 'jobs.internal:8080')).status, 200);
    assert.equal((await get(allowing, 'a.corp.example')).status, 200);
    assert.equal((await get(allowing, 'corp.example.attacker.example')).status, 403);
    assert.equal((await get(allowing, 'attacker.example')).status, 403);
  });

  it('with users, any host is answered (a rebinding page has no credentials)', async () => {
    assert.equal((await get(withUsers, 'jobs.example.com', AUTH)).status, 200);
    assert.equal((await get(withUsers, 'jobs.example.com')).status, 401);
  });
});

describe('an attacking page in a real browser', { skip: SKIP }, () => {
  let server: TestServer;
  let attacker: Server;
  let attackerOrigin: string;
  before(async () => {
    // No users: the worst case, every request would be accepted if the browser could send it.
    server = await startServer();
    attacker = createHttpServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><title>a page</title>');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const address = attacker.address();
    assert.ok(address && typeof address === 'object');
    attackerOrigin = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await new Promise((resolve) => attacker.close(resolve));
  });

  it('cannot schedule, batch or update data with no-cors fetch (typed or not) or sendBeacon', async () => {
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: new Date(4102444800000) });
    const before = await jobCount(server);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${attackerOrigin}/`);
      const target = server.origin + API;
      // XML: what kjobs used to read a body without Content-Type as (KIE's default format).
      const body = `<job-request-instance><job-command>${PRINT_OUT}</job-command></job-request-instance>`;
      const data =
        '<map-type><entries><entry><key>hacked</key><value xsi:type="xs:boolean" ' +
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">true</value></entry></entries></map-type>';
      // A string, not a function: tsx would add helpers to a function's source that the page does not have.
      const script = `(async () => {
        const target = ${JSON.stringify(target)};
        const sent = [];
        for (const [path, text] of [
          ['/jobs', ${JSON.stringify(body)}],
          ['/jobs/batch', ${JSON.stringify(`<job-request-instance-list>${body}</job-request-instance-list>`)}],
          ['/jobs/${id}/data', ${JSON.stringify(data)}],
        ]) {
          await fetch(target + path, { method: 'POST', mode: 'no-cors', body: new Blob([text]) }).then(
            (response) => sent.push(path + ': ' + response.type),
            (error) => sent.push(path + ': ' + error.message),
          );
          sent.push('beacon ' + path + ': ' + navigator.sendBeacon(target + path, new Blob([text])));
          await fetch(target + path, {
            method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: text,
          }).catch(() => undefined);
        }
        return sent;
      })()`;
      const statuses = (await page.evaluate(script)) as string[];
      assert.ok(
        statuses.some((line) => line.startsWith('beacon /jobs: true')),
        statuses.join('\n'),
      );
      // Beacons are sent after the page asked; give them time to arrive before counting.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await page.close();
    } finally {
      await browser.close();
    }
    assert.equal(await jobCount(server), before, 'no job was created');
    assert.deepEqual((await server.kjobs.get(id, { withData: true })).requestData, {});
  });
});
