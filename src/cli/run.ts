/** Starting and stopping kjobs as a service (`kjobs serve`) or as a worker without HTTP (`kjobs worker`). */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { maskDatabase, type Config } from '../config/config.js';
import { KJOBS_VERSION } from '../version.js';
import { assertSafeBinding, isLoopbackHost } from '../http/auth.js';
import { createServer } from '../http/server.js';
import { createKjobs, type Kjobs } from '../kjobs.js';
import { createMetrics } from '../observability/metrics.js';
import type { JobStore } from '../store/job-store.js';
import { openStore } from '../store/open-store.js';

/** A running kjobs process: close() stops it gracefully. */
export interface Running {
  kjobs: Kjobs;
  /** The HTTP address (`http://127.0.0.1:8080`), for `serve`. */
  address?: string;
  close(): Promise<void>;
}

async function startKjobs(
  config: Config,
  logger: Logger,
  executor: boolean,
): Promise<{ kjobs: Kjobs; store: JobStore }> {
  const store = openStore(config.database, { logger });
  try {
    const kjobs = await createKjobs({
      store,
      containers: config.containers,
      maxPageSize: config.maxPageSize,
      maxDataBytes: config.maxDataSize,
      retentionMs: config.retentionMs,
      executor: executor
        ? {
            concurrency: config.concurrency,
            stopDeadlineMs: config.stopTimeoutMs,
            // --lease-ms (the older setting) given: the heartbeat follows from it.
            heartbeatMs: config.leaseMs === undefined ? config.heartbeatMs : undefined,
            leaseMs: config.leaseMs,
            defaultTimeoutMs: config.defaultTimeoutMs,
            limits: config.limits,
          }
        : false,
      logger,
    });
    return { kjobs, store };
  } catch (error) {
    await store.close();
    throw error;
  }
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * What an operator wants to see once the process is up, as fields and as one sentence: the store (a database URL
 * without its password), the containers with their command counts, the executor's concurrency and the auth mode.
 */
function startupSummary(config: Config, kjobs: Kjobs, executor: boolean) {
  const containers = kjobs.registry.commandCounts();
  const store = maskDatabase(config.database);
  const auth =
    config.users.length > 0
      ? `basic (${plural(config.users.length, 'user')})`
      : isLoopbackHost(config.host)
        ? 'off (loopback only)'
        : 'off (--insecure)';
  const containerText =
    Object.entries(containers)
      .map(([id, count]) => `${id} (${plural(count, 'command')})`)
      .join(', ') || 'none';
  const executorText = executor ? `executor ${plural(config.concurrency, 'job')} at once` : 'no executor';
  return {
    fields: { store, containers, concurrency: executor ? config.concurrency : 0, auth },
    text: `store ${store}; containers ${containerText}; ${executorText}`,
    auth,
  };
}

/** `kjobs serve`: the REST API, and the executor unless disabled. */
export async function serve(config: Config, logger: Logger): Promise<Running> {
  assertSafeBinding(config);
  if (config.users.length === 0 && !isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host },
      'authentication is off (--insecure): anyone who reaches this address can use the API',
    );
  }
  const { kjobs, store } = await startKjobs(config, logger, config.executor);
  let app: FastifyInstance | undefined;
  try {
    app = await createServer(kjobs, {
      users: config.users,
      jsonDates: config.jsonDates,
      bodyLimit: config.bodyLimit,
      serverId: config.serverId,
      serverVersion: KJOBS_VERSION,
      ...(config.location ? { location: config.location } : {}),
      metrics: createMetrics(kjobs),
      loginLimit: { maxFailures: config.loginFailures },
      allowedHosts: config.allowedHosts,
      trustProxy: config.trustProxy,
      logger,
    });
    await kjobs.start();
    const address = await app.listen({ port: config.port, host: config.host });
    const summary = startupSummary(config, kjobs, config.executor);
    logger.info(
      {
        address,
        api: `${address}/kie-server/services/rest/server`,
        console: `${address}/console`,
        executor: config.executor,
        ...summary.fields,
      },
      `kjobs listening on ${address}: ${summary.text}; auth ${summary.auth}`,
    );
    const server = app;
    return {
      kjobs,
      address,
      close: async () => {
        await server.close();
        await kjobs.stop(config.stopTimeoutMs);
        await store.close();
      },
    };
  } catch (error) {
    await app?.close();
    await kjobs.stop(0);
    await store.close();
    throw error;
  }
}

/** `kjobs worker`: the executor alone, sharing the store with other processes. */
export async function worker(config: Config, logger: Logger): Promise<Running> {
  const { kjobs, store } = await startKjobs(config, logger, true);
  try {
    await kjobs.start();
  } catch (error) {
    await kjobs.stop(0);
    await store.close();
    throw error;
  }
  const summary = startupSummary(config, kjobs, true);
  logger.info(
    { workerId: kjobs.executor?.workerId, ...summary.fields, auth: undefined },
    `kjobs worker started: ${summary.text}`,
  );
  return {
    kjobs,
    close: async () => {
      await kjobs.stop(config.stopTimeoutMs);
      await store.close();
    },
  };
}

/**
 * Stops gracefully on SIGTERM or SIGINT (server first, then running jobs get their deadline); a second signal
 * exits at once.
 */
export function stopOnSignals(running: Running, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping kjobs');
    running.close().then(
      () => {
        logger.info('kjobs stopped');
        process.exitCode = 0;
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('SIGINT', onSignal);
        // Everything is closed, so the process ends by itself; should a stray handle keep it alive, end it anyway.
        setTimeout(() => process.exit(0), 2000).unref();
      },
      (error: unknown) => {
        logger.error({ err: error }, 'kjobs did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
