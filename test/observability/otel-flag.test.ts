// `kjobs serve --otel`: the SDK in one flag. A real OTLP/HTTP receiver on loopback gets the schedule's and the
// run's spans, in one trace with the caller's traceparent.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, tempFolder } from '../helpers.js';
import { startService, USER } from '../cli/service.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { OTEL_INSTALL_LINE, OTEL_SDK_PACKAGES, reportingExporter } from '../../src/observability/otel-sdk.js';

const ROOT = new URL('../../', import.meta.url);

describe('the OpenTelemetry SDK packages', () => {
  it('are optional peers of kjobs, not installed with it, and the docs name the versions --otel names', () => {
    const manifest = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    assert.deepEqual(manifest.peerDependencies, OTEL_SDK_PACKAGES);
    for (const [name, range] of Object.entries(OTEL_SDK_PACKAGES)) {
      assert.deepEqual(manifest.peerDependenciesMeta?.[name], { optional: true }, name);
      assert.equal(manifest.devDependencies?.[name], range, `${name}: the tests use the same versions`);
      assert.equal(manifest.dependencies?.[name], undefined, name);
      assert.equal(
        manifest.optionalDependencies?.[name],
        undefined,
        `${name}: npm installs optional dependencies`,
      );
    }
    assert.ok(readFileSync(new URL('docs/extensions.md', ROOT), 'utf8').includes(`\n${OTEL_INSTALL_LINE}\n`));
  });
});

interface OtlpSpan {
  traceId: string;
  name: string;
  parentSpanId?: string;
}

describe('the exporter of --otel', () => {
  it('counts what it sends and drops, logging failures at most once a minute and the recovery', async () => {
    const lines: { msg: string; dropped?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let up = false;
    let now = 0;
    const inner = {
      export: (spans: unknown[], done: (result: { code: number; error?: Error }) => void) =>
        done(up ? { code: 0 } : { code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') }),
      shutdown: async () => undefined,
    };
    const { exporter, counts } = reportingExporter(
      inner as unknown as SpanExporter,
      'http://127.0.0.1:4318',
      logger,
      () => now,
    );
    const send = (count: number) =>
      new Promise((resolve) => exporter.export(new Array(count).fill({}) as never, resolve));
    await send(3);
    now += 30_000;
    await send(2);
    now += 31_000;
    await send(4);
    up = true;
    await send(5);
    assert.deepEqual(counts, { exported: 5, dropped: 9 });
    assert.deepEqual(
      lines.map((line) => [line.msg.split(':')[0], line.dropped]),
      [
        ['OpenTelemetry', 3],
        ['OpenTelemetry', 6],
        ['OpenTelemetry', 0],
      ],
    );
    assert.match(
      lines[0]!.msg,
      /^OpenTelemetry: 3 spans not exported to http:\/\/127\.0\.0\.1:4318, dropped: connect ECONNREFUSED/,
    );
    assert.match(lines[2]!.msg, /spans exported to http:\/\/127\.0\.0\.1:4318 again$/);
  });
});

describe('kjobs serve --otel without a collector', () => {
  it('says that spans are dropped, in a log line and in /metrics', async () => {
    // A port nothing listens on: taken, then given back.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const service = await startService(['--otel', '--db', join(tempFolder('kjobs-otel-'), 'jobs.db')], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    });
    const scheduled = await service.call('POST', '/jobs', {
      'job-command': 'org.jbpm.executor.commands.PrintOutCommand',
      'request-data': {},
    });
    assert.equal(scheduled.status, 201, scheduled.text);
    const warning = await eventually(
      () => service.lines.find((line) => line.includes('spans not exported')),
      (line) => line !== undefined,
      60_000,
    );
    const entry = JSON.parse(warning!) as { msg: string; endpoint: string; dropped: number };
    assert.equal(entry.endpoint, `http://127.0.0.1:${port}`);
    assert.ok(entry.dropped > 0);
    assert.match(entry.msg, new RegExp(`spans not exported to http://127\\.0\\.0\\.1:${port}, dropped: `));
    const metrics = await fetch(`${service.address}/metrics`, {
      headers: { authorization: `Basic ${Buffer.from(USER).toString('base64')}` },
    });
    const dropped = /^kjobs_otel_spans_dropped_total (\d+)$/m.exec(await metrics.text());
    assert.ok(
      dropped && Number(dropped[1]) >= entry.dropped,
      `kjobs_otel_spans_dropped_total: ${dropped?.[0]}`,
    );
    service.child.kill('SIGTERM');
    await service.exited;
  });
});

describe('kjobs serve --otel', () => {
  const received: { path: string; spans: OtlpSpan[] }[] = [];
  let receiver: Server;
  after(() => receiver?.close());

  it('exports the spans of a schedule and its run over OTLP/HTTP', async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const spans: OtlpSpan[] = [];
        try {
          const payload = JSON.parse(body) as {
            resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
          };
          for (const resource of payload.resourceSpans)
            for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        } catch {
          // not JSON: counted with no spans
        }
        received.push({ path: request.url ?? '', spans });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as { port: number }).port;
    const service = await startService(['--otel', '--db', join(tempFolder('kjobs-otel-'), 'jobs.db')], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const answer = await fetch(`${service.address}/kie-server/services/rest/server/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}`,
        'content-type': 'application/json',
        accept: 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        'job-command': 'org.jbpm.executor.commands.PrintOutCommand',
        'request-data': {},
      }),
    });
    assert.equal(answer.status, 201);
    const spans = await eventually(
      () => received.flatMap((batch) => batch.spans),
      (list) => list.some((span) => span.name.startsWith('kjobs run')),
      30_000,
    );
    assert.ok(received.every((batch) => batch.path === '/v1/traces'));
    const names = spans.filter((span) => span.traceId === traceId).map((span) => span.name);
    assert.ok(names.includes('kjobs schedule'), names.join());
    assert.ok(names.includes('kjobs run org.jbpm.executor.commands.PrintOutCommand'), names.join());
    assert.ok(service.lines.some((line) => line.includes('OpenTelemetry tracing on')));
    service.child.kill('SIGTERM');
    await service.exited;
  });
});
