/**
 * `--otel`: the OpenTelemetry SDK in one flag, for users who want kjobs' traces without writing a setup file. A
 * Node tracer provider (W3C trace context, async context), exporting over OTLP/HTTP in batches. The exporter reads
 * the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318), OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY... The SDK packages are not installed with kjobs (they are optional
 * peer dependencies, a quarter of an install's size): the user installs them with OTEL_INSTALL_LINE, and only this
 * module loads them.
 */
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
      `--otel needs the OpenTelemetry SDK, which kjobs does not install: ${OTEL_INSTALL_LINE} ` +
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
