/** Test helpers for the HTTP layer: a kjobs and its server on a temp SQLite file, over real HTTP on loopback. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import { createKjobs, type Kjobs, type KjobsOptions } from '../../src/kjobs.js';

export const API = '/kie-server/services/rest/server';
export const NS =
  'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
export const PRINT_OUT = 'org.jbpm.executor.commands.PrintOutCommand';
export const FAILING = 'org.jbpm.executor.commands.JobExecutionErrorCommand';
/** 2100-01-01T00:00:00Z: a due date far enough away that the job stays QUEUED. */
export const FAR_FUTURE = 4102444800000;

export interface TestServer {
  kjobs: Kjobs;
  app: FastifyInstance;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
}

export interface CallOptions {
  accept?: string;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
  /** `name:password` for basic auth. */
  auth?: string;
}

export interface Answer {
  status: number;
  type: string | null;
  headers: Headers;
  text: string;
}

let counter = 0;

// Servers are stopped when the test file ends; registered at import so the hook belongs to the file, not to a
// suite's before hook.
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Starts kjobs (without executor unless given) and its HTTP server on port 0; both stop when the file ends. */
export async function startServer(
  options: { kjobs?: KjobsOptions; server?: ServerOptions } = {},
): Promise<TestServer> {
  const folder = mkdtempSync(join(tmpdir(), 'kjobs-http-'));
  const kjobs = await createKjobs({
    executor: false,
    ...options.kjobs,
    store: join(folder, `jobs-${counter++}.db`),
  });
  await kjobs.start();
  const app = await createServer(kjobs, options.server);
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    await app.close();
    await kjobs.stop(100);
    rmSync(folder, { recursive: true, force: true });
  });
  return {
    kjobs,
    app,
    origin,
    async call(method, path, { accept, contentType, body, headers = {}, auth } = {}) {
      const all: Record<string, string> = { ...headers };
      if (accept) all.accept = accept;
      if (contentType) all['content-type'] = contentType;
      if (auth) all.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      const response = await fetch(origin + (path.startsWith('/jobs') ? API + path : path), {
        method,
        headers: all,
        ...(body !== undefined ? { body } : {}),
      });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        headers: response.headers,
        text: await response.text(),
      };
    },
  };
}

/** Calls with JSON both ways. */
export const JSON_HEADERS = { accept: 'application/json', contentType: 'application/json' };
/** Calls with XML both ways. */
export const XML_HEADERS = { accept: 'application/xml', contentType: 'application/xml' };

/** A JSON JobRequestInstance. */
export function jobJson(
  command: string,
  data: Record<string, unknown> = {},
  scheduledAt: number | null = FAR_FUTURE,
) {
  return JSON.stringify({
    'job-command': command,
    'scheduled-date': scheduledAt === null ? null : { 'java.util.Date': scheduledAt },
    'request-data': data,
  });
}

/** Polls a job over HTTP (JSON) until `predicate` holds. */
export async function pollJob(
  server: TestServer,
  id: number,
  predicate: (job: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await server.call('GET', `/jobs/${id}?withErrors=true&withData=true`, {
      accept: 'application/json',
    });
    assert.equal(answer.status, 200, answer.text);
    const job = JSON.parse(answer.text) as Record<string, unknown>;
    if (predicate(job)) return job;
    if (Date.now() > deadline) assert.fail(`job ${id} never reached the expected state: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Golden documents

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/**
 * What varies from run to run, replaced by placeholders: dates, stack traces, ports. Everything else (keys, their
 * order, nulls, element names, xsi:types, indentation) must match the golden document byte for byte.
 */
export function normalize(text: string): string {
  return text
    .replace(/("java\.util\.Date" : )\d+/g, '$1"<millis>"')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})/g, '<date>')
    .replace(/("error-stacktrace" : )"(?:[^"\\]|\\.)*"/g, '$1"<stacktrace>"')
    .replace(
      /<error-stacktrace>[^<]*<\/error-stacktrace>/g,
      '<error-stacktrace><stacktrace></error-stacktrace>',
    )
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
}

/** Compares a body with `golden/<name>`; UPDATE_GOLDEN=1 rewrites the file instead (review the diff!). */
export function assertGolden(name: string, body: string): void {
  const path = join(GOLDEN, name);
  const actual = normalize(body);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, 'utf8');
  } catch {
    assert.fail(`golden document ${name} is missing; run with UPDATE_GOLDEN=1 to create it, then review it`);
  }
  assert.equal(actual, expected, `body differs from golden/${name}`);
}
