/**
 * `kjobs/client/node`: what the client needs on Node.js only. `fetchWithCa` is a `fetch` for `KieJobsClient` that
 * trusts a private certificate authority besides Node's own, for a kjobs (or KIE Server) serving HTTPS with a
 * certificate of its own CA. Node.js's global `fetch` offers no way to give it a CA without the `undici` package;
 * this one is built on `node:https`, with no dependency.
 *
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { KieJobsClient } from 'kjobs/client';
 * import { fetchWithCa } from 'kjobs/client/node';
 * const client = new KieJobsClient({
 *   baseUrl: 'https://jobs.example.com:8443/kie-server/services/rest',
 *   user: 'ops', password: process.env.KJOBS_PASSWORD,
 *   fetch: fetchWithCa({ ca: readFileSync('ca.pem') }),
 * });
 * ```
 *
 * (Setting `NODE_EXTRA_CA_CERTS=ca.pem` when starting Node.js makes the global `fetch` trust the CA too.)
 *
 * @packageDocumentation
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { FetchFunction } from '../client/index.js';

/** Options of fetchWithCa. */
export interface FetchWithCaOptions {
  /** The CA certificate(s) to trust besides Node's own, PEM (e.g. `readFileSync('ca.pem')`). */
  ca: string | Buffer | readonly (string | Buffer)[];
}

/** Statuses whose answers have no body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function headersOf(init: RequestInit): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init.headers ?? {}).forEach((value, name) => (headers[name] = value));
  return headers;
}

function responseOf(answer: IncomingMessage, body: Buffer, method: string): Response {
  const status = answer.statusCode ?? 500;
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const item of [value].flat()) headers.append(name, item);
  }
  const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
  return new Response(empty ? null : new Uint8Array(body), {
    status,
    statusText: answer.statusMessage ?? '',
    headers,
  });
}

/**
 * A `fetch` (enough of it for KieJobsClient: method, headers, a text body, signal) that trusts `ca` besides
 * Node's own CAs for `https:` URLs, keeping connections alive between calls. Errors are a TypeError
 * `fetch failed` with the cause (e.g. `self-signed certificate`), as the global fetch throws them.
 */
export function fetchWithCa(options: FetchWithCaOptions): FetchFunction {
  const ca = Array.isArray(options.ca) ? [...options.ca] : (options.ca as string | Buffer);
  const agent = new Agent({ ca, keepAlive: true });
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const method = (init.method ?? 'GET').toUpperCase();
      const headers = headersOf(init);
      const body = init.body === undefined || init.body === null ? undefined : String(init.body);
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const secure = url.protocol === 'https:';
      const send = secure ? httpsRequest : httpRequest;
      const request = send(
        url,
        { method, headers, ...(secure ? { agent } : {}), ...(init.signal ? { signal: init.signal } : {}) },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve(responseOf(answer, Buffer.concat(chunks), method)));
          answer.on('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
        },
      );
      request.on('error', (error) =>
        reject(error.name === 'AbortError' ? error : new TypeError('fetch failed', { cause: error })),
      );
      request.end(body);
    });
}
