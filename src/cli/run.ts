/** Starting and stopping kjobs as a service (`kjobs serve`) or as a worker without HTTP (`kjobs worker`). */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { fetchWithCa } from '../client-node/index.js';
import { DEFAULT_CONFIG, maskDatabase, type Config } from '../config/config.js';
import { RemoteWorker, RemoteWorkerSetupError } from '../remote/remote-worker.js';
import { isClusterWorker, leaveCluster, reportReady } from './cluster.js';
import { DatabaseStartError, isDatabaseFailure } from './start-failure.js';
import { KJOBS_VERSION } from '../version.js';
import { assertSafeBinding, isLoopbackHost, type User } from '../http/auth.js';
import { createServer, reloadServer } from '../http/server.js';
import { readTlsFiles, type TlsFiles } from '../http/tls.js';
import { loadUsers } from '../http/user-files.js';
import { createKjobs, type Kjobs } from '../kjobs.js';
import { createMetrics } from '../observability/metrics.js';
import { startOtelSdk, type OtelSdk } from '../observability/otel-sdk.js';
import type { JobStore } from '../store/job-store.js';
import { openStore } from '../store/open-store.js';

/** A running kjobs process: close() stops it gracefully. */
export interface Stoppable {
  close(): Promise<void>;
  /** Reads the certificate and the users files again (SIGHUP); keeps the old ones when they cannot be used. */
  reload?(): void;
}

/** A running kjobs instance (serve, or a worker on the database). */
export interface Running extends Stoppable {
  kjobs: Kjobs;
  /** The HTTP address (`http://127.0.0.1:8080`, `https://...` with TLS), for `serve`. */
  address?: string;
}

async function startKjobs(
  config: Config,
  logger: Logger,
  executor: boolean,
): Promise<{ kjobs: Kjobs; store: JobStore; stopTracing: () => Promise<void>; otel?: OtelSdk }> {
  // First, so that the SDK is registered before anything makes a span.
  const otel = config.otel ? await startOtelSdk({ serviceName: config.serverId, logger }) : undefined;
  const stopTracing = async () => otel?.stop();
  let store: JobStore;
  try {
    // Any failure here is the file or URL of --db: a folder, a path this user cannot write, a bad URL.
    store = openStore(config.database, { logger });
  } catch (error) {
    await stopTracing();
    throw new DatabaseStartError(config.database, error);
  }
  try {
    const kjobs = await createKjobs({
      store,
      containers: config.containers,
      maxPageSize: config.maxPageSize,
      maxBulkJobs: config.bulkLimit,
      maxDataBytes: config.maxDataSize,
      dependencyLimits: {
        parents: config.maxParents,
        depth: config.maxDependencyDepth,
        linksPerCall: config.maxDependencyLinks,
      },
      retentionMs: config.retentionMs,
      remoteContainers: config.remoteContainers,
      limits: { ...config.limits, rates: config.rateLimits, keys: config.keyLimits },
      heartbeatMs: config.leaseMs === undefined ? config.heartbeatMs : Math.round(config.leaseMs / 1.5),
      executor: executor
        ? {
            concurrency: config.concurrency,
            stopDeadlineMs: config.stopTimeoutMs,
            // --lease-ms (the older setting) given: the heartbeat follows from it.
            heartbeatMs: config.leaseMs === undefined ? config.heartbeatMs : undefined,
            leaseMs: config.leaseMs,
            nodeId: config.nodeId,
            defaultTimeoutMs: config.defaultTimeoutMs,
            limits: { ...config.limits, rates: config.rateLimits, keys: config.keyLimits },
          }
        : false,
      logger,
    });
    return { kjobs, store, stopTracing, otel };
  } catch (error) {
    await store.close();
    await stopTracing();
    // The store is prepared (migrated) first: SQLite's and PostgreSQL's errors are about --db.
    throw isDatabaseFailure(config.database, error) ? new DatabaseStartError(config.database, error) : error;
  }
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * What an operator wants to see once the process is up, as fields and as one sentence: the store (a database URL
 * without its password), the containers with their command counts, the executor's concurrency and the auth mode.
 */
function startupSummary(config: Config, kjobs: Kjobs, executor: boolean, userCount: number) {
  const containers = kjobs.registry.commandCounts();
  const store = maskDatabase(config.database);
  const auth =
    userCount > 0
      ? `basic (${plural(userCount, 'user')})`
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

/** The certificate and key files, when HTTPS is configured; both or neither. */
function tlsFilesOf(config: Config): TlsFiles | undefined {
  if (!config.tlsCert && !config.tlsKey) return undefined;
  if (!config.tlsCert || !config.tlsKey)
    throw new Error('HTTPS needs both --tls-cert FILE and --tls-key FILE (KJOBS_TLS_CERT, KJOBS_TLS_KEY)');
  return { cert: config.tlsCert, key: config.tlsKey };
}

/** Every user: `--user`, `--users-file`, `--kie-users` with `--kie-roles`. */
function usersOf(config: Config): User[] {
  return loadUsers({
    users: config.users,
    usersFile: config.usersFile,
    kieUsers: config.kieUsers,
    kieRoles: config.kieRoles,
  });
}

/** Start-up warnings about where credentials and jobs are exposed. */
function warnAboutExposure(config: Config, users: readonly User[], tls: boolean, logger: Logger): void {
  if (isLoopbackHost(config.host)) return;
  if (users.length === 0) {
    logger.warn(
      { host: config.host },
      'authentication is off (--insecure): anyone who reaches this address can use the API',
    );
  } else if (!tls && !config.trustProxy) {
    logger.warn(
      { host: config.host },
      'credentials travel in clear: this is plain HTTP beyond loopback, and basic authentication sends the ' +
        'password with every request; serve HTTPS with --tls-cert and --tls-key, or put kjobs behind a ' +
        'TLS-terminating proxy (--trust-proxy)',
    );
  }
  for (const user of users) {
    if (user.kieDigest && user.roles.length === 0)
      logger.warn(
        { user: user.name },
        `KIE user ${user.name} has no role in --kie-roles: every request gets 403`,
      );
  }
}

/**
 * Failed logins each process allows. The processes of --workers count apart (a client's connections are spread
 * among them), so each allows its share of --login-failures: together, about the allowance of one process.
 */
export function loginAllowance(config: Pick<Config, 'loginFailures' | 'workers'>): number {
  if (config.loginFailures === 0 || !isClusterWorker() || config.workers <= 1) return config.loginFailures;
  return Math.max(1, Math.floor(config.loginFailures / config.workers));
}

/** `kjobs serve`: the REST API, and the executor unless disabled. */
export async function serve(config: Config, logger: Logger): Promise<Running> {
  const users = usersOf(config);
  assertSafeBinding({ host: config.host, users, insecure: config.insecure });
  const tlsFiles = tlsFilesOf(config);
  const tls = tlsFiles ? readTlsFiles(tlsFiles) : undefined;
  warnAboutExposure(config, users, tls !== undefined, logger);
  const { kjobs, store, stopTracing, otel } = await startKjobs(config, logger, config.executor);
  let app: FastifyInstance | undefined;
  try {
    app = await createServer(kjobs, {
      users,
      ...(tls ? { tls } : {}),
      jsonDates: config.jsonDates,
      bodyLimit: config.bodyLimit,
      maxConnections: config.maxConnections,
      workerGrants: config.workerGrants,
      serverId: config.serverId,
      serverVersion: KJOBS_VERSION,
      ...(config.location ? { location: config.location } : {}),
      metrics: createMetrics(kjobs, undefined, { cluster: isClusterWorker(), otel: otel?.counts }),
      loginLimit: { maxFailures: loginAllowance(config) },
      allowedHosts: config.allowedHosts,
      trustProxy: config.trustProxy,
      logger,
    });
    // Listening first: the node answers at once (its probes say it is not ready until kjobs has started).
    const address = await app.listen({ port: config.port, host: config.host });
    await kjobs.start();
    const summary = startupSummary(config, kjobs, config.executor, users.length);
    logger.info(
      {
        address,
        tls: tls !== undefined,
        api: `${address}/kie-server/services/rest/server`,
        console: `${address}/console`,
        executor: config.executor,
        ...summary.fields,
      },
      `kjobs listening on ${address}: ${summary.text}; auth ${summary.auth}`,
    );
    reportReady(address);
    const server = app;
    const reloadParts = (): void => {
      // Each part on its own: a broken users file does not keep a renewed certificate out, nor the other way.
      if (tlsFiles) {
        try {
          reloadServer(server, { tls: readTlsFiles(tlsFiles) });
          logger.info({ cert: tlsFiles.cert }, 'TLS certificate reloaded: new connections use it');
        } catch (error) {
          logger.error(`TLS certificate not reloaded, the previous one stays: ${(error as Error).message}`);
        }
      }
      if (config.usersFile || config.kieUsers) {
        try {
          const next = usersOf(config);
          reloadServer(server, { users: next });
          logger.info({ users: next.length }, `users reloaded: ${plural(next.length, 'user')}`);
        } catch (error) {
          logger.error(`users not reloaded, the previous ones stay: ${(error as Error).message}`);
        }
      }
    };
    return {
      kjobs,
      address,
      close: async () => {
        await server.close();
        await kjobs.stop(config.stopTimeoutMs);
        await store.close();
        await stopTracing();
      },
      ...(tlsFiles || config.usersFile || config.kieUsers ? { reload: reloadParts } : {}),
    };
  } catch (error) {
    await app?.close();
    await kjobs.stop(0);
    await store.close();
    await stopTracing();
    throw error;
  }
}

/**
 * `kjobs worker`: the executor alone, sharing the store with other processes; with --url, the executor of a kjobs
 * server's remote containers, over the worker protocol.
 */
export async function worker(config: Config, logger: Logger): Promise<Stoppable> {
  if (config.url !== undefined) return remoteWorker(config, logger);
  const { kjobs, store, stopTracing } = await startKjobs(config, logger, true);
  try {
    await kjobs.start();
  } catch (error) {
    await kjobs.stop(0);
    await store.close();
    await stopTracing();
    throw error;
  }
  const summary = startupSummary(config, kjobs, true, 0);
  logger.info(
    { workerId: kjobs.executor?.workerId, ...summary.fields, auth: undefined },
    `kjobs worker started: ${summary.text}`,
  );
  reportReady();
  return {
    close: async () => {
      await kjobs.stop(config.stopTimeoutMs);
      await store.close();
      await stopTracing();
    },
  };
}

/** `kjobs worker --url`: the containers' jobs claimed from a kjobs server over HTTP; no database. */
async function remoteWorker(config: Config, logger: Logger): Promise<Stoppable> {
  const url = config.url!;
  if (config.database !== DEFAULT_CONFIG.database) {
    throw new RemoteWorkerSetupError(
      `--url and --db both given: a worker either opens the database (--db) or asks a kjobs server (--url), not both`,
    );
  }
  if (Object.keys(config.containers).length === 0) {
    throw new RemoteWorkerSetupError(
      'kjobs worker --url needs the containers it serves: --container ID=MODULE, ID a remote container of the server',
    );
  }
  let ca: Buffer | undefined;
  if (config.caFile) {
    try {
      ca = readFileSync(config.caFile);
    } catch (error) {
      throw new RemoteWorkerSetupError(`--ca-file ${config.caFile}: ${(error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new RemoteWorkerSetupError(`--ca-file ${config.caFile} holds no PEM certificate`);
  }
  if (config.user !== undefined && config.password === undefined) {
    logger.warn(`--user ${config.user} without a password: set KJOBS_PASSWORD`);
  }
  const remote = new RemoteWorker({
    url,
    ...(config.user !== undefined ? { user: config.user, password: config.password ?? '' } : {}),
    ...(ca ? { fetch: fetchWithCa({ ca }) } : {}),
    containers: config.containers,
    ...(config.nodeId !== undefined ? { name: `${config.nodeId}-${process.pid}` } : {}),
    executor: {
      concurrency: config.concurrency,
      stopDeadlineMs: config.stopTimeoutMs,
      defaultTimeoutMs: config.defaultTimeoutMs,
      maxResponseBytes: config.maxDataSize,
    },
    logger,
  });
  await remote.start();
  reportReady();
  return { close: () => remote.stop(config.stopTimeoutMs) };
}

/** Time past the stop timeout for closing the server and the store before the process exits anyway. */
const STOP_GRACE_MS = 5_000;

/**
 * Stops gracefully on SIGTERM or SIGINT (server first, then running jobs get their deadline); a second signal
 * exits at once.
 */
export function stopOnSignals(running: Stoppable, logger: Logger, stopTimeoutMs = 10_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping kjobs');
    // However the stop goes (a store that does not answer, a job that ignores its signal), the process ends: the
    // running jobs' deadline, and a few seconds to give back what is left.
    setTimeout(() => {
      logger.error(
        { stopTimeoutMs },
        `kjobs did not stop within the stop timeout and ${STOP_GRACE_MS} ms more: exiting; jobs still RUNNING ` +
          'are rescued after their lease',
      );
      process.exit(1);
    }, stopTimeoutMs + STOP_GRACE_MS).unref();
    running.close().then(
      () => {
        logger.info('kjobs stopped');
        process.exitCode = 0;
        process.removeListener('SIGTERM', onSignal);
        process.removeListener('SIGINT', onSignal);
        leaveCluster();
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
  // A worker of --workers leaves Ctrl-C to its primary, which relays it as SIGTERM: one Ctrl-C, one graceful stop.
  process.on('SIGINT', isClusterWorker() ? () => undefined : onSignal);
  // SIGHUP reloads what can be reloaded (certificate, users files); without a handler it would end the process.
  const reload = running.reload;
  if (reload) {
    process.on('SIGHUP', () => {
      if (stopping) return;
      logger.info({ signal: 'SIGHUP' }, 'reloading the TLS certificate and the users files');
      reload();
    });
  }
}
