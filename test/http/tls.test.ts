// HTTPS: a real TLS handshake with a certificate of a private CA made in the test (openssl), HTTP/1.1 over it,
// the typed client and its Node fetch trusting that CA, and bad certificate files at start-up.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ApiError, ConnectionError, KieJobsClient } from '../../src/client/index.js';
import { fetchWithCa } from '../../src/client-node/index.js';
import { reloadServer } from '../../src/http/server.js';
import { readTlsFiles } from '../../src/http/tls.js';
import { eventually, tempFolder } from '../helpers.js';
import { makeCa, makeServerCertificate, OPENSSL_SKIP } from './certificates.js';
import { API, PRINT_OUT, startServer } from './helpers.js';

interface HttpsAnswer {
  status: number;
  httpVersion: string;
  text: string;
  protocol: string | null;
  alpn: string | false | null;
  peer: string;
}

/** One HTTPS request with node:https, trusting `ca`. */
function get(url: string, options: RequestOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const call = request(url, options, (answer) => {
      const socket = answer.socket as TLSSocket;
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () =>
        resolve({
          status: answer.statusCode ?? 0,
          httpVersion: answer.httpVersion,
          text: Buffer.concat(chunks).toString('utf8'),
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol,
          peer: String(socket.getPeerCertificate().subject?.CN),
        }),
      );
    });
    call.on('error', reject);
    call.end();
  });
}

describe('HTTPS', { skip: OPENSSL_SKIP }, () => {
  const folder = tempFolder('kjobs-tls-');
  const ca = OPENSSL_SKIP ? undefined : makeCa(folder);
  const users = [{ name: 'ops', password: 'pw', roles: ['kie-server'] }];

  it('lets go of a connection that never sends its ClientHello as soon as plain HTTP would (issue 27)', async () => {
    const server = await startServer({
      server: { users, tls: makeServerCertificate(ca!, 'kjobs-silent'), requestTimeoutMs: 500 },
    });
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(new URL(server.origin).port), '127.0.0.1');
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 10_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.on('error', () => undefined);
    });
    assert.ok(closed, 'the server closed the silent connection (it used to wait 120 s)');
  });

  it('serves HTTP/1.1 over TLS with the given certificate; clients trusting the CA get in', async () => {
    const identity = makeServerCertificate(ca!, 'kjobs-one');
    const logLines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    const server = await startServer({ server: { users, tls: identity, logger } });
    assert.match(server.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    const auth = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
    const answer = await get(`${server.origin}${API}/jobs`, {
      ca: ca!.pem,
      headers: { authorization: auth, accept: 'application/json' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.httpVersion, '1.1');
    assert.match(answer.protocol ?? '', /^TLSv1\.[23]$/);
    assert.equal(answer.alpn, false, 'no HTTP/2');
    assert.equal(answer.peer, 'kjobs-one');
    assert.match(answer.text, /request-info-instance/);
    // Without the CA the handshake fails: the certificate is not trusted.
    await assert.rejects(get(`${server.origin}/healthz`, {}), /unable to verify|self[- ]signed/i);
    // Plain HTTP to the HTTPS port: no answer, and a debug line with the address.
    await assert.rejects(fetch(server.origin.replace('https:', 'http:') + '/healthz'));
    await eventually(
      () => logLines.filter((line) => line.includes('TLS handshake failed')),
      (lines) =>
        lines.some((line) => line.includes('"ip":"127.0.0.1","reason":"plain HTTP sent to the HTTPS port"')),
    );
    // GET /server tells where it is, with https.
    const info = await get(`${server.origin}${API}`, {
      ca: ca!.pem,
      headers: { authorization: auth, accept: 'application/json' },
    });
    assert.match(info.text, /"location" : "https:\/\/127\.0\.0\.1:\d+\/kie-server\/services\/rest\/server"/);
  });

  it('the typed client works with fetchWithCa, in JSON and XML, and fails clearly without it', async () => {
    const identity = makeServerCertificate(ca!, 'kjobs-two');
    const server = await startServer({ server: { users, tls: identity } });
    const baseUrl = `${server.origin}/kie-server/services/rest`;
    for (const format of ['json', 'xml'] as const) {
      const client = new KieJobsClient({
        baseUrl,
        format,
        user: 'ops',
        password: 'pw',
        fetch: fetchWithCa({ ca: ca!.pem }),
      });
      const id = await client.scheduleRequest({
        jobCommand: PRINT_OUT,
        scheduledDate: new Date(4102444800000),
        requestData: { businessKey: `tls-${format}` },
      });
      const job = await client.getRequestById(id, { withData: true });
      assert.equal(job.requestBusinessKey, `tls-${format}`);
      assert.equal(job.requestStatus, 'QUEUED');
      await client.cancelRequest(id);
      assert.equal((await client.getRequestById(id)).requestStatus, 'CANCELLED');
      const wrong = new KieJobsClient({
        baseUrl,
        format,
        user: 'ops',
        password: 'no',
        fetch: fetchWithCa({ ca: ca!.pem }),
      });
      await assert.rejects(
        wrong.getRequestsByStatus('QUEUED'),
        (error: unknown) => error instanceof ApiError && error.status === 401,
      );
    }
    const untrusting = new KieJobsClient({ baseUrl, user: 'ops', password: 'pw' });
    await assert.rejects(
      untrusting.getRequestsByStatus('QUEUED'),
      (error: unknown) => error instanceof ConnectionError && /certificate/.test(error.message),
    );
    // Another CA's trust is no trust.
    const otherCa = makeCa(tempFolder('kjobs-other-ca-'), 'another CA');
    const stranger = new KieJobsClient({
      baseUrl,
      user: 'ops',
      password: 'pw',
      fetch: fetchWithCa({ ca: otherCa.pem }),
    });
    await assert.rejects(stranger.getRequestsByStatus('QUEUED'), ConnectionError);
  });

  it('reloadServer gives new connections the new certificate; an open connection goes on', async () => {
    const first = makeServerCertificate(ca!, 'before-reload');
    const second = makeServerCertificate(ca!, 'after-reload');
    const server = await startServer({ server: { users, tls: first } });
    const { Agent } = await import('node:https');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca!.pem });
    const options = {
      agent,
      headers: { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` },
    };
    const before = await get(`${server.origin}${API}/jobs`, options);
    assert.equal(before.peer, 'before-reload');
    reloadServer(server.app, { tls: readTlsFiles({ cert: second.certFile, key: second.keyFile }) });
    // The kept-alive connection is the same one, still with the old certificate, and still answers.
    const kept = await get(`${server.origin}${API}/jobs`, options);
    assert.equal(kept.status, 200);
    assert.equal(kept.peer, 'before-reload');
    agent.destroy();
    const fresh = await get(`${server.origin}${API}/jobs`, { ...options, agent: false, ca: ca!.pem });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.peer, 'after-reload');
  });

  it('bad certificate files are errors naming them', () => {
    const one = makeServerCertificate(ca!, 'files-one');
    const two = makeServerCertificate(ca!, 'files-two');
    assert.throws(
      () => readTlsFiles({ cert: join(folder, 'missing.pem'), key: one.keyFile }),
      /Cannot read the TLS certificate .*missing\.pem \(--tls-cert\): no such file/,
    );
    assert.throws(
      () => readTlsFiles({ cert: one.keyFile, key: one.keyFile }),
      /files-one\.key \(--tls-cert\) holds no PEM certificate/,
    );
    assert.throws(
      () => readTlsFiles({ cert: one.certFile, key: one.certFile }),
      /files-one\.pem \(--tls-key\) holds no PEM private key/,
    );
    assert.throws(
      () => readTlsFiles({ cert: one.certFile, key: two.keyFile }),
      /files-one\.pem and key .*files-two\.key cannot be used: the key does not belong to the certificate/,
    );
    const broken = join(folder, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    assert.throws(
      () => readTlsFiles({ cert: broken, key: one.keyFile }),
      /broken\.pem and key .* cannot be used/,
    );
  });
});
