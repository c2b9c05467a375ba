/**
 * `--otel`: the OpenTelemetry SDK in one flag, for users who want kjobs' traces without writing a setup file. A
 * Node tracer provider (W3C trace context, async context), exporting over OTLP/HTTP in batches. The exporter reads
 * the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY... The SDK packages are optional dependencies, loaded only here.
 */
import type { Logger } from 'pino';

const PACKAGES = [
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
];

/** Registers the SDK globally; answers a function that flushes the spans left and shuts it down. */
export async function startOtelSdk(options: {
  serviceName: string;
  logger: Logger;
}): Promise<() => Promise<void>> {
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
      `--otel needs the OpenTelemetry SDK (optional dependencies of kjobs): npm install ${PACKAGES.join(' ')} ` +
        `(${(error as Error).message})`,
    );
  }
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    modules;
  const exporter = new OTLPTraceExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME || options.serviceName,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  options.logger.info(
    {
      otel: true,
      endpoint:
        process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
        process.env.OTEL_EXPORTER_OTLP_ENDPOINT ||
        'http://localhost:4318',
    },
    'OpenTelemetry tracing on: spans exported over OTLP/HTTP',
  );
  return async () => {
    try {
      await provider.shutdown();
    } catch (error) {
      options.logger.warn({ err: error }, 'OpenTelemetry: spans not exported at shutdown');
    }
  };
}
