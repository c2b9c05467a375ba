// OpenTelemetry (issue 18) with an in-memory exporter, on SQLite and on PostgreSQL: one trace links the HTTP
// schedule (a child of the request's traceparent), every attempt of the job (errors recorded) and its callbacks.
// Before an SDK is registered, kjobs stores no trace context (the API is a no-op).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createServer } from '../../src/http/server.js';
import { createKjobs } from '../../src/kjobs.js';
import type { CommandContext } from '../../src/commands/command.js';
import { openStore } from '../../src/store/open-store.js';
import type { JobStore } from '../../src/store/job-store.js';
import { eventually, tempFolder } from '../helpers.js';
import { openTestStore, POSTGRES_SKIP } from '../store/postgres-helpers.js';
import { API } from '../http/helpers.js';

const folder = tempFolder('kjobs-tracing-');
let files = 0;
const STORES: [string, () => Promise<JobStore>, string | false][] = [
  ['SQLite', async () => openStore(join(folder, `tracing-${files++}.db`)), false],
  ['PostgreSQL', () => openTestStore(), POSTGRES_SKIP],
];

const exporter = new InMemorySpanExporter();
let provider: NodeTracerProvider | undefined;

async function startKjobs(store: JobStore) {
  let calls = 0;
  const kjobs = await createKjobs({
    store,
    commands: {
      'acme.Flaky': ({ attempt }: CommandContext) => {
        calls++;
        if (attempt === 1) throw new Error('first attempt fails');
        return { attempt };
      },
    },
    callbacks: { 'acme.Notify': { onCommandDone: () => undefined } },
    executor: { pollIntervalMs: 50 },
  });
  await kjobs.start();
  const app = await createServer(kjobs);
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    kjobs,
    origin,
    calls: () => calls,
    close: async () => {
      await app.close();
      await kjobs.stop(100);
    },
  };
}

async function schedule(origin: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${origin}${API}/jobs`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      'job-command': 'acme.Flaky',
      'scheduled-date': null,
      'request-data': { retries: 1, retryDelay: '1ms', callbacks: 'acme.Notify' },
    }),
  });
  assert.equal(response.status, 201);
  return Number(await response.text());
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('tracing', () => {
  after(async () => {
    await provider?.shutdown();
  });

  it('without an SDK, nothing is stored with the job and jobs run as before', async () => {
    const store = await STORES[0]![1]();
    const server = await startKjobs(store);
    try {
      const id = await schedule(server.origin, { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` });
      const job = await server.kjobs.waitFor(id, { timeoutMs: 30_000 });
      assert.equal(job.status, 'DONE');
      assert.equal(job.traceParent, null);
    } finally {
      await server.close();
      await store.close();
    }
  });

  for (const [storeName, open, skip] of STORES) {
    describe(`with an SDK (${storeName})`, { skip }, () => {
      let store: JobStore;
      before(async () => {
        if (!provider) {
          provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
          provider.register();
        }
        store = await open();
      });
      after(async () => {
        await store.close();
      });

      it('one trace: the HTTP schedule, every attempt (the failed one with its error), the callback', async () => {
        exporter.reset();
        const server = await startKjobs(store);
        try {
          const traceId = '0af7651916cd43dd8448eb211c80319c';
          const caller = 'b7ad6b7169203331';
          const id = await schedule(server.origin, { traceparent: `00-${traceId}-${caller}-01` });
          const job = await server.kjobs.waitFor(id, { timeoutMs: 30_000 });
          assert.equal(job.status, 'DONE');
          assert.match(job.traceParent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
          const spans = await eventually(
            () => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
            // The callback ends inside the second run, which ends after it.
            (list) => list.filter((span) => span.name === 'kjobs run acme.Flaky').length === 2,
            30_000,
          );
          const scheduleSpan = spans.find((span) => span.name === 'kjobs schedule');
          assert.ok(scheduleSpan, 'a span for the schedule request');
          assert.equal(parentOf(scheduleSpan), caller, "a child of the request's traceparent");
          assert.equal(scheduleSpan.attributes['kjobs.job.id'], id);
          assert.equal(scheduleSpan.attributes['kjobs.job.command'], 'acme.Flaky');
          const runs = spans
            .filter((span) => span.name === 'kjobs run acme.Flaky')
            .sort(
              (a, b) => Number(a.attributes['kjobs.job.attempt']) - Number(b.attributes['kjobs.job.attempt']),
            );
          assert.equal(runs.length, 2, 'one span per attempt');
          for (const run of runs) {
            assert.equal(
              parentOf(run),
              scheduleSpan.spanContext().spanId,
              "each run a child of the schedule's span",
            );
            assert.equal(run.attributes['kjobs.job.id'], id);
          }
          assert.deepEqual(
            runs.map((run) => [run.attributes['kjobs.job.attempt'], run.attributes['kjobs.job.outcome']]),
            [
              [1, 'RETRYING'],
              [2, 'DONE'],
            ],
          );
          assert.equal(runs[0]!.status.code, SpanStatusCode.ERROR);
          assert.equal(runs[0]!.events[0]?.name, 'exception');
          assert.equal(runs[0]!.events[0]?.attributes?.['exception.message'], 'first attempt fails');
          assert.equal(runs[1]!.status.code, SpanStatusCode.UNSET);
          const callback = spans.find((span) => span.name === 'kjobs callback acme.Notify')!;
          assert.equal(parentOf(callback), runs[1]!.spanContext().spanId, 'the callback inside the run');
          assert.equal(server.calls(), 2);
        } finally {
          await server.close();
        }
      });

      it('a refused schedule is recorded on its span', async () => {
        exporter.reset();
        const server = await startKjobs(store);
        try {
          const response = await fetch(`${server.origin}${API}/jobs`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: JSON.stringify({ 'job-command': 'acme.Flaky', 'request-data': { dependsOn: [999999] } }),
          });
          assert.equal(response.status, 400);
          const span = exporter.getFinishedSpans().find((s) => s.name === 'kjobs schedule');
          assert.equal(span?.status.code, SpanStatusCode.ERROR);
          assert.match(span?.status.message ?? '', /999999/);
        } finally {
          await server.close();
        }
      });
    });
  }
});
