/**
 * `--otel`: the OpenTelemetry SDK in one flag, for users who want kjobs' traces without writing a setup file. A
 * Node tracer provider (W3C trace context, async context), exporting over OTLP/HTTP in batches. The exporter reads
 * the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY... The SDK packages are not installed with kjobs (they are optional
 * peer dependencies, a quarter of an install's size): the user installs them with OTEL_INSTALL_LINE, and only this
 * module loads them.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

/** The SDK packages `--otel` loads, with the versions kjobs works with (its package.json's peerDependencies). */
export const OTEL_SDK_PACKAGES: Readonly<Record<string, string>> = {
  '@opentelemetry/sdk-trace-node': '^2.12.1',
  '@opentelemetry/sdk-trace-base': '^2.12.1',
  '@opentelemetry/exporter-trace-otlp-http': '^0.223.1',
  '@opentelemetry/resources': '^2.12.1',
};

/** What installs them beside kjobs (the versions matter: the exporter's newest release needs another SDK). */
export const OTEL_INSTALL_LINE = `npm install ${Object.entries(OTEL_SDK_PACKAGES)
  .map(([name, range]) => `${name}@${range}`)
  .join(' ')}`;

/** Spans the exporter sent to the collector, and spans it could not send (dropped: the SDK does not keep them). */
export interface OtelExportCounts {
  exported: number;
  dropped: number;
}

/** The SDK that `--otel` registered. */
export interface OtelSdk {
  /** Flushes the spans left and shuts the SDK down. */
  stop(): Promise<void>;
  /** Counted as the exporter answers (`kjobs_otel_spans_exported_total`, `kjobs_otel_spans_dropped_total`). */
  readonly counts: OtelExportCounts;
}

/** How often, at most, failed exports are logged while they go on. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The exporter, counting what it sends and drops, and logging failures: the first at once, then while they go on
 * at most once a minute with the number dropped meanwhile, and when exports work again. Without this, spans a
 * collector never received (none listening, refused, timed out) would go unnoticed.
 */
export function reportingExporter(
  exporter: SpanExporter,
  endpoint: string,
  logger: Logger,
  now: () => number = Date.now,
): { exporter: SpanExporter; counts: OtelExportCounts } {
  const counts: OtelExportCounts = { exported: 0, dropped: 0 };
  let failing = false;
  let lastLoggedAt = -Infinity;
  let droppedSinceLog = 0;
  const reporting: SpanExporter = {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        if (result.code === 0) {
          counts.exported += spans.length;
          if (failing) {
            failing = false;
            logger.info(
              { endpoint, dropped: droppedSinceLog },
              `OpenTelemetry: spans exported to ${endpoint} again` +
                (droppedSinceLog > 0 ? ` (${droppedSinceLog} more dropped before)` : ''),
            );
            droppedSinceLog = 0;
          }
        } else {
          counts.dropped += spans.length;
          droppedSinceLog += spans.length;
          if (!failing || now() - lastLoggedAt >= FAILURE_LOG_INTERVAL_MS) {
            const reason = result.error?.message || 'the collector did not accept them';
            logger.warn(
              { endpoint, dropped: droppedSinceLog, droppedTotal: counts.dropped, err: result.error },
              `OpenTelemetry: ${droppedSinceLog} spans not exported to ${endpoint}, dropped: ${reason} ` +
                '(is a collector listening there? OTEL_EXPORTER_OTLP_ENDPOINT says where; ' +
                'kjobs_otel_spans_dropped_total counts them)',
            );
            lastLoggedAt = now();
            droppedSinceLog = 0;
          }
          failing = true;
        }
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
  };
  return { exporter: reporting, counts };
}

/** Registers the SDK globally; answers it, to stop it (flushing the spans left) and read its counts. */
export async function startOtelSdk(options: { serviceName: string; logger: Logger }): Promise<OtelSdk> {
  let modules;
  try {
    modules = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  } catch (error) {
    throw new Error(
      `--otel needs the OpenTelemetry SDK, which kjobs does not install: ${OTEL_INSTALL_LINE} ` +
        `(${(error as Error).message})`,
    );
  }
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    modules;
  const endpoint =
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    'http://localhost:4318';
  const { exporter, counts } = reportingExporter(new OTLPTraceExporter(), endpoint, options.logger);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME || options.serviceName,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  options.logger.info({ otel: true, endpoint }, 'OpenTelemetry tracing on: spans exported over OTLP/HTTP');
  return {
    counts,
    stop: async () => {
      try {
        await provider.shutdown();
      } catch (error) {
        options.logger.warn({ err: error }, 'OpenTelemetry: spans not exported at shutdown');
      }
    },
  };
}
