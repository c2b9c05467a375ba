// A request refused before its body is read (413 too large, 401 without credentials, 415 an unknown media type)
// still gets its answer (issue 19): the server reads and discards the body (up to a bound) before it closes, so
// the client is not cut off with EPIPE/ECONNRESET while it is still sending. Node's fetch, many times in a row.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { API, startServer } from './helpers.js';

const BIG = Buffer.alloc(12 * 1024 * 1024, 'a'); // 12 MiB: over the 1 MiB body limit
const JSON_TYPE = { 'content-type': 'application/json', accept: 'application/json' };
const AUTH = { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` };

/** Sends `count` requests, `parallel` at a time; answers each one's status, or the error that came instead. */
async function send(
  count: number,
  parallel: number,
  request: (n: number) => [url: string, init: RequestInit],
): Promise<(number | string)[]> {
  const results: (number | string)[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const [url, init] = request(next++);
        try {
          const response = await fetch(url, init);
          await response.arrayBuffer();
          results.push(response.status);
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          results.push(cause?.code ?? String(error));
        }
      }
    }),
  );
  return results;
}

/** The body as a stream of `size`-byte chunks: sent with Transfer-Encoding: chunked. */
function chunked(body: Buffer, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, offset + size));
      offset += size;
    },
  });
}

describe('early refusals reach the client', () => {
  it('413 for every oversized body, on scheduling and on update-data', async () => {
    const server = await startServer({
      server: { users: [{ name: 'admin', password: 'secret', roles: ['kie-server'] }] },
    });
    const results = await send(60, 4, (n) => [
      `${server.origin}${API}${n % 2 ? '/jobs' : '/jobs/-1/data'}`,
      { method: 'POST', headers: { ...JSON_TYPE, ...AUTH }, body: BIG },
    ]);
    assert.deepEqual(
      results.filter((status) => status !== 413),
      [],
      `every request answered 413: ${JSON.stringify(results)}`,
    );
  });

  it('413 for every oversized body sent in chunks, without a length', async () => {
    const server = await startServer({
      server: { users: [{ name: 'admin', password: 'secret', roles: ['kie-server'] }] },
    });
    const results = await send(40, 4, (n) => [
      `${server.origin}${API}${n % 2 ? '/jobs' : '/jobs/-1/data'}`,
      {
        method: 'POST',
        headers: { ...JSON_TYPE, ...AUTH },
        body: chunked(BIG, 64 * 1024),
        duplex: 'half',
      } as RequestInit,
    ]);
    assert.deepEqual(
      results.filter((status) => status !== 413),
      [],
      `every request answered 413: ${JSON.stringify(results)}`,
    );
  });

  it('401 without credentials and 415 for an unknown media type, with a large body', async () => {
    const server = await startServer({
      server: { users: [{ name: 'admin', password: 'secret', roles: ['kie-server'] }] },
    });
    const unauthenticated = await send(30, 3, () => [
      `${server.origin}${API}/jobs`,
      { method: 'POST', headers: JSON_TYPE, body: BIG.subarray(0, 900 * 1024) },
    ]);
    assert.deepEqual(
      unauthenticated.filter((status) => status !== 401),
      [],
      JSON.stringify(unauthenticated),
    );
    const untyped = await send(30, 3, () => [
      `${server.origin}${API}/jobs`,
      { method: 'POST', headers: { 'content-type': 'text/csv', ...AUTH }, body: BIG.subarray(0, 900 * 1024) },
    ]);
    assert.deepEqual(
      untyped.filter((status) => status !== 415),
      [],
      JSON.stringify(untyped),
    );
  });
});

describe('a refused body is drained up to a bound', () => {
  it('a client that goes on sending after its 413 reads the answer, then the server closes past 64 MiB', async () => {
    const server = await startServer();
    const { port } = new URL(server.origin);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined); // the reset at the end
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const length = 512 * 1024 * 1024;
    socket.write(
      `POST ${API}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${length}\r\n\r\n`,
    );
    let sent = 0;
    let open = true;
    void closed.then(() => (open = false));
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    while (open && sent < length) {
      if (!socket.write(chunk))
        await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      sent += chunk.length;
    }
    await closed;
    assert.ok(
      sent > 32 * 1024 * 1024,
      `the server read on after its answer (${sent} bytes), not closing at once`,
    );
    assert.match(answer, /^HTTP\/1.1 413 /, 'the answer came while the body was still being sent');
    assert.ok(
      sent < length,
      `the server closed the connection before the whole body (${sent} of ${length} bytes)`,
    );
  });
});
