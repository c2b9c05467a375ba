// Security of the HTTP layer: headers on every answer, rate limiting of failed logins, no stack traces in error
// bodies, and container modules that no request can make the server load.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LoginLimiter } from '../../src/http/login-limiter.js';
import { SECURITY_HEADERS } from '../../src/http/security-headers.js';
import { API, FAR_FUTURE, jobJson, NS, PRINT_OUT, startServer, type TestServer } from './helpers.js';

const USER = { name: 'ops', password: 'right', roles: ['kie-server'] };
const OTHER = { name: 'ana', password: 'pw', roles: ['user'] };
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** A GET from a chosen loopback source address (127.0.0.2 is a different client than 127.0.0.1). */
function getFrom(
  origin: string,
  path: string,
  localAddress: string,
  authorization?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      origin + path,
      { localAddress, headers: authorization ? { authorization } : {}, timeout: 5000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('security headers', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ server: { users: [USER], bodyLimit: 1024 } });
  });

  it('are on every answer: success, errors, health (metrics: test/cli/service.test.ts)', async () => {
    const auth = 'ops:right';
    const answers = {
      'GET /server': await server.call('GET', API, { auth, accept: 'application/json' }),
      'POST /jobs 201': await server.call('POST', '/jobs', {
        auth,
        contentType: 'application/json',
        accept: 'application/json',
        body: jobJson(PRINT_OUT),
      }),
      'GET /jobs': await server.call('GET', '/jobs', { auth }),
      '401': await server.call('GET', '/jobs'),
      '404': await server.call('GET', '/nowhere', { auth }),
      '400': await server.call('GET', '/jobs/x', { auth }),
      '413': await server.call('POST', '/jobs', {
        auth,
        contentType: 'application/json',
        body: 'x'.repeat(5000),
      }),
      '415': await server.call('POST', '/jobs', { auth, contentType: 'text/html', body: '<p>' }),
      healthz: await server.call('GET', '/healthz'),
      readyz: await server.call('GET', '/readyz'),
    };
    for (const [what, answer] of Object.entries(answers)) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        assert.equal(answer.headers.get(name), value, `${what} (${answer.status}): ${name}`);
      }
      assert.equal(answer.headers.get('cache-control'), 'no-store', `${what}: cache-control`);
    }
    assert.equal(answers['POST /jobs 201'].status, 201);
    assert.equal(answers['413'].status, 413);
  });
});

describe('rate limiting of failed logins', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      server: { users: [USER, OTHER], loginLimit: { maxFailures: 3, windowMs: 1500 } },
    });
  });

  it('answers 429 with Retry-After after too many wrong passwords, only to that address, and forgets', async () => {
    const path = `${API}/jobs`;
    // Requests without credentials (a browser's first try) and successful logins never count.
    for (let i = 0; i < 10; i++) {
      assert.equal((await getFrom(server.origin, path, '127.0.0.1')).status, 401);
      assert.equal((await getFrom(server.origin, path, '127.0.0.1', basic('ops:right'))).status, 200);
    }
    for (let i = 0; i < 3; i++) {
      const wrong = await getFrom(server.origin, path, '127.0.0.1', basic(`ops:wrong${i}`));
      assert.equal(wrong.status, 401, wrong.text);
    }
    const limited = await getFrom(server.origin, path, '127.0.0.1', basic('ops:wrong'));
    assert.equal(limited.status, 429);
    assert.match(limited.text, /^"Too many failed logins: try again in \d s"$/);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    // While limited, even the right password is not checked (else guessing would go on, told by 200 vs 429)...
    assert.equal((await getFrom(server.origin, path, '127.0.0.1', basic('ops:right'))).status, 429);
    assert.equal((await getFrom(server.origin, '/healthz', '127.0.0.1')).status, 200);
    // ...another user of the same address (behind one proxy, say) is not limited...
    assert.equal((await getFrom(server.origin, path, '127.0.0.1', basic('ana:pw'))).status, 200);
    // ...another address is not limited...
    assert.equal((await getFrom(server.origin, path, '127.0.0.2', basic('ops:right'))).status, 200);
    assert.equal((await getFrom(server.origin, path, '127.0.0.2', basic('ops:wrong'))).status, 401);
    // ...and once the failures leave the window, the right password works again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    assert.equal((await getFrom(server.origin, path, '127.0.0.1', basic('ops:right'))).status, 200);
  });

  it('behind a trusted proxy, counts each client of X-Forwarded-For apart', async () => {
    const proxied = await startServer({
      server: { users: [USER], loginLimit: { maxFailures: 2 }, trustProxy: true },
    });
    const from = (client: string, credentials: string) =>
      proxied.call('GET', '/jobs', {
        headers: { 'x-forwarded-for': client, authorization: basic(credentials) },
      });
    for (let i = 0; i < 2; i++) assert.equal((await from('203.0.113.7', 'ops:wrong')).status, 401);
    assert.equal((await from('203.0.113.7', 'ops:right')).status, 429);
    assert.equal((await from('203.0.113.8', 'ops:right')).status, 200);
  });

  it('behind a proxy, a client cannot choose the address it is counted by (issue 27, finding 2)', async () => {
    // The proxy in front appends the address it saw (nginx's $proxy_add_x_forwarded_for); the client writes the rest.
    const oneHop = await startServer({
      server: { users: [USER], loginLimit: { maxFailures: 2 }, trustProxy: true },
    });
    const spoofed = (proxied: TestServer, chain: string, credentials: string) =>
      proxied.call('GET', '/jobs', {
        headers: { 'x-forwarded-for': chain, authorization: basic(credentials) },
      });
    for (let i = 0; i < 2; i++) {
      assert.equal((await spoofed(oneHop, `198.51.100.${i}, 203.0.113.7`, 'ops:wrong')).status, 401);
    }
    assert.equal(
      (await spoofed(oneHop, '198.51.100.99, 203.0.113.7', 'ops:right')).status,
      429,
      'the address the proxy appended is counted, whatever the client wrote before it',
    );
    // Two proxies in front: the second from the right is the client.
    const twoHops = await startServer({
      server: { users: [USER], loginLimit: { maxFailures: 2 }, trustProxy: 2 },
    });
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await spoofed(twoHops, `198.51.100.${i}, 203.0.113.8, 10.0.0.5`, 'ops:wrong')).status,
        401,
      );
    }
    assert.equal((await spoofed(twoHops, '198.51.100.9, 203.0.113.8, 10.0.0.5', 'ops:right')).status, 429);
    // The proxies' addresses: the right-most address that is not one of them.
    const byAddress = await startServer({
      server: { users: [USER], loginLimit: { maxFailures: 2 }, trustProxy: ['127.0.0.1', '10.0.0.0/8'] },
    });
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await spoofed(byAddress, `198.51.100.${i}, 203.0.113.9, 10.1.2.3`, 'ops:wrong')).status,
        401,
      );
    }
    assert.equal((await spoofed(byAddress, '203.0.113.9', 'ops:right')).status, 429);
    assert.equal((await spoofed(byAddress, '203.0.113.10', 'ops:right')).status, 200);
  });

  it('is off with maxFailures 0', async () => {
    const open = await startServer({ server: { users: [USER], loginLimit: { maxFailures: 0 } } });
    for (let i = 0; i < 20; i++) {
      assert.equal((await open.call('GET', '/jobs', { auth: 'ops:bad' })).status, 401);
    }
  });
});

describe('the viewer role (kjobs extension)', () => {
  it('reads jobs, the server and the console, and changes nothing (403 naming the role)', async () => {
    const server = await startServer({
      server: { users: [USER, { name: 'watch', password: 'pw', roles: ['viewer'] }] },
    });
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    const auth = 'watch:pw';
    for (const path of [`/jobs/${id}`, '/jobs', API, '/console/']) {
      const answer = await server.call('GET', path, { auth });
      assert.equal(answer.status, 200, `${path}: ${answer.text}`);
    }
    const refusals = [
      await server.call('POST', '/jobs', { auth, contentType: 'application/json', body: jobJson(PRINT_OUT) }),
      await server.call('POST', `/jobs/${id}/data`, {
        auth,
        contentType: 'application/json',
        body: '{"a":1}',
      }),
      await server.call('PUT', `/jobs/${id}`, { auth }),
      await server.call('DELETE', `/jobs/${id}`, { auth }),
    ];
    for (const answer of refusals) {
      assert.equal(answer.status, 403, answer.text);
      assert.equal(answer.text, '"User watch has the role viewer: it may read jobs but not change them"');
    }
    const job = await server.kjobs.get(id, { withData: true });
    assert.equal(job.status, 'QUEUED');
    assert.deepEqual(job.requestData, {});
    assert.equal((await server.kjobs.countByStatus()).QUEUED, 1);
  });
});

describe('error bodies', () => {
  it('an unexpected failure answers 500 with its message only, never a stack trace', async () => {
    const server = await startServer();
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    const store = server.kjobs.store as { get: unknown };
    const original = store.get;
    store.get = async () => {
      throw new Error('disk on fire');
    };
    try {
      for (const accept of ['application/json', 'application/xml']) {
        const answer = await server.call('GET', `/jobs/${id}`, { accept });
        assert.equal(answer.status, 500);
        assert.equal(answer.text, '"Unexpected error during processing: disk on fire\n"');
        assert.doesNotMatch(answer.text, /\bat .*:\d+:\d+|\.ts\b|node_modules/);
      }
    } finally {
      store.get = original;
    }
  });
});

describe('container modules', () => {
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-evil-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  const marker = join(folder, 'loaded');
  const evil = join(folder, 'evil.mjs');
  // Importing this module leaves a file behind: proof that something loaded it.
  writeFileSync(
    evil,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'loaded');\n` +
      `export default { 'com.evil.Run': () => ({ pwned: true }) };\n`,
  );

  it('come only from the configuration: no request can make the server load one', async () => {
    const server = await startServer({ kjobs: { executor: {} } });
    const id = await server.kjobs.schedule({ command: PRINT_OUT, scheduledAt: FAR_FUTURE });
    const names = [evil, pathToFileURL(evil).href, './evil.mjs', `data:text/javascript,export default {}`];
    const json = { contentType: 'application/json', accept: 'application/json' };
    for (const name of names) {
      const tries = [
        await server.call('POST', `/jobs?containerId=${encodeURIComponent(name)}`, {
          ...json,
          body: jobJson('com.evil.Run'),
        }),
        await server.call('POST', `/jobs?containerId=${encodeURIComponent(name)}`, {
          ...json,
          body: jobJson(PRINT_OUT),
        }),
        await server.call('POST', '/jobs', { ...json, body: jobJson(PRINT_OUT, { deploymentId: name }) }),
        await server.call('POST', '/jobs', { ...json, body: jobJson(name) }),
        await server.call('POST', '/jobs', {
          ...json,
          body: jobJson(PRINT_OUT, { callbacks: name }),
        }),
        await server.call('POST', '/jobs', {
          contentType: 'application/xml',
          body: `<job-request-instance><job-command>${PRINT_OUT}</job-command><request-data><entry><key>deploymentId</key><value xsi:type="xs:string" ${NS}>${name}</value></entry></request-data></job-request-instance>`,
        }),
        await server.call('POST', `/jobs/${id}/data?containerId=${encodeURIComponent(name)}`, {
          ...json,
          body: '{"x": 1}',
        }),
        await server.call('GET', `/jobs/containers/${encodeURIComponent(name)}`, json),
      ];
      for (const answer of tries) {
        assert.ok(answer.status === 400 || answer.status === 200, `${answer.status} ${answer.text}`);
        if (answer.status === 400) assert.match(answer.text, /container|command|callback/i);
      }
    }
    assert.equal(existsSync(marker), false, 'a request made the server load a module');
    assert.deepEqual(server.kjobs.registry.containerIds(), []);
    assert.equal((await server.kjobs.countByStatus()).QUEUED, 1, 'nothing was scheduled');
  });
});

describe('errors Fastify and Node decide themselves', () => {
  /** Sends raw bytes, answers everything the server writes until it closes. */
  function rawSend(port: number, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      const timer = setTimeout(() => socket.destroy(), 3000);
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.on('error', reject);
      socket.end(text);
    });
  }

  it('answer in KIE error format, with the security headers', async () => {
    const server = await startServer();
    const port = Number(new URL(server.origin).port);
    const cases: [string, number, RegExp][] = [
      [
        `GET ${API}/jobs/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
        400,
        /^"The URL is not valid: .*%E0%A4%A has a malformed percent-encoding"$/,
      ],
      [
        `GET ${API}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        /^"The request headers are larger than the limit of 16 KiB"$/,
      ],
      [`GET ${API}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n`, 400, /^"Malformed HTTP request/],
    ];
    for (const [request, status, message] of cases) {
      const answer = await rawSend(port, request);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), answer.slice(0, 200));
      assert.match(head, /content-type: text\/plain; charset=utf-8/i);
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        assert.ok(
          head.toLowerCase().includes(`${name}: ${value}`.toLowerCase()),
          `${status}: ${name} in ${head}`,
        );
      assert.match(body, message);
    }
    assert.equal((await server.call('GET', '/healthz')).status, 200);
  });
});

describe('slow clients', () => {
  /** Writes `text` and then nothing more; answers what the server sends before it closes, and when. */
  function stall(port: number, text: string): Promise<{ answer: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept a stalled request open for 10 s'));
      }, 10_000);
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ answer, ms: Date.now() - started });
      });
      socket.on('error', () => undefined);
      socket.write(text);
    });
  }

  it('a request not sent whole within the request timeout gets 408 and is disconnected', async () => {
    const server = await startServer({ server: { requestTimeoutMs: 600 } });
    const port = Number(new URL(server.origin).port);
    const [body, headers] = await Promise.all([
      stall(
        port,
        `POST ${API}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"job-`,
      ),
      stall(port, `GET ${API}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `),
    ]);
    for (const { answer, ms } of [body, headers]) {
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.ok(ms >= 500 && ms < 3000, `closed after ${ms} ms`);
    }
    assert.equal((await server.call('GET', '/healthz')).status, 200);
  });
});

describe('connections and XML bodies (issue 27, the lows)', () => {
  it('closes connections past --max-connections as they come; those open are served', async () => {
    const server = await startServer({ server: { maxConnections: 2 } });
    const port = Number(new URL(server.origin).port);
    const idle = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    const third = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', () => undefined);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    assert.equal(third, '', 'the third connection was closed unanswered');
    const served = await new Promise<string>((resolve) => {
      let answer = '';
      idle[0]!.on('data', (chunk: Buffer) => {
        answer += chunk.toString();
        if (answer.includes('UP')) resolve(answer);
      });
      idle[0]!.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    assert.match(served, /^HTTP\/1\.1 200/);
    for (const socket of idle) socket.destroy();
  });

  it('refuses an XML body of more elements than the limit before parsing it', async () => {
    const server = await startServer();
    const items = '<entry><key>k</key></entry>'.repeat(10_001);
    const answer = await server.call('POST', '/jobs', {
      contentType: 'application/xml',
      body:
        `<job-request-instance ${NS}><job-command>${PRINT_OUT}</job-command>` +
        `<request-data>${items}</request-data></job-request-instance>`,
    });
    assert.equal(answer.status, 400, answer.text.slice(0, 200));
    assert.match(answer.text, /more than 20000 elements/);
    assert.equal((await server.call('GET', '/healthz')).status, 200);
  });
});

describe('LoginLimiter', () => {
  it('slides its window, and remembers a bounded number of addresses', () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowMs: 1000, maxAddresses: 3 });
    limiter.fail('a', 0);
    assert.equal(limiter.retryAfter('a', 10), 0);
    limiter.fail('a', 500);
    assert.equal(limiter.retryAfter('a', 600), 1); // the failure at 0 leaves the window at 1000
    assert.equal(limiter.retryAfter('a', 1000), 0);
    limiter.fail('a', 1000);
    assert.equal(limiter.retryAfter('a', 1001), 1); // failures at 500 and 1000
    assert.equal(limiter.retryAfter('a', 1500), 0);
    // Many addresses: the least recently failing ones are forgotten first.
    for (const address of ['b', 'c', 'd', 'e']) {
      limiter.fail(address, 2000);
      limiter.fail(address, 2001);
    }
    assert.equal(limiter.retryAfter('b', 2002), 0, 'b was forgotten');
    for (const address of ['c', 'd', 'e']) assert.equal(limiter.retryAfter(address, 2002), 1);
    assert.equal(new LoginLimiter({ maxFailures: 0 }).enabled, false);
  });
});
