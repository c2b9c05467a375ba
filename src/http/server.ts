/**
 * The HTTP server: KIE Server's jobs API and `GET /server` under `/kie-server/services/rest/server`, health
 * endpoints beside it. Formats are negotiated per request (see negotiation.ts); every error goes through
 * errors.ts.
 */
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { KJOBS_VERSION } from '../version.js';
import type { Kjobs } from '../kjobs.js';
import { KIE_METRICS_CONTENT_TYPE } from '../observability/kie-metrics.js';
import type { Metrics } from '../observability/metrics.js';
import { AllowedMethods } from './allowed-methods.js';
import { BasicAuthenticator, type User } from './auth.js';
import { consoleRoutes } from './console.js';
import { HttpError, makeErrorHandler, rawErrorAnswer, sendError } from './errors.js';
import type { JsonDatesSetting } from './formats/dates.js';
import { conversationIdHook, negotiationHook } from './hooks.js';
import { LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';
import { parseQueryString } from './params.js';
import { OpenApiCollector, openApiRoute } from './openapi/document.js';
import { ROUTE_SCHEMAS } from './openapi/schemas.js';
import { RequestGuard } from './request-guard.js';
import { SECURITY_HEADERS, securityHeadersHook } from './security-headers.js';
import { replaceCertificate, type TlsIdentity } from './tls.js';
import { healthRoutes } from './routes/health.js';
import { consoleExtensionRoutes } from './routes/console-extensions.js';
import { containerRoutes } from './routes/containers.js';
import { flowControlRoutes } from './routes/flow-control.js';
import { jobRoutes } from './routes/jobs.js';
import { fastifyTrustProxy, type TrustedProxies } from './proxies.js';
import { probeRoutes } from './routes/probes.js';
import { workerRoutes } from './routes/workers.js';
import { serverInfoRoutes } from './routes/server-info.js';

/** Where KIE Server's REST API lives. */
export const KIE_SERVER_PATH = '/kie-server/services/rest/server';
/** Where KIE Server serves its Prometheus metrics. */
export const KIE_METRICS_PATH = '/kie-server/services/rest/metrics';
/** Default limit of request bodies: 1 MiB. */
const DEFAULT_BODY_LIMIT = 1024 * 1024;
/**
 * A body refused before it was read (413, 401, 415...) is read and thrown away after the answer, up to this many
 * bytes, so that the client, still sending, gets to read its answer instead of a reset connection (EPIPE,
 * ECONNRESET); beyond it, the connection is closed. Node's server drains an unread body by itself; this bounds it.
 */
const MAX_DRAINED_BODY = 64 * 1024 * 1024;
/** Default time a client has to send a whole request: 30 s. */
const DEFAULT_REQUEST_TIMEOUT = 30_000;
/** Default most connections open at once; more are closed as they come. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Options of the HTTP server; all have defaults. */
export interface ServerOptions {
  /** Users of the API; none: authentication is off (listen on loopback only, see assertSafeBinding). */
  users?: readonly User[];
  /**
   * JSON dates: `auto` (default) writes ISO-8601 strings to clients generated from the swagger document (User-Agent
   * `Swagger-Codegen/...` or `OpenAPI-Generator/...`) and KIE's `{"java.util.Date": ms}` wrapper to the others;
   * `kie` or `iso` write one form to every client. Dates are read in every form whatever the setting.
   */
  jsonDates?: JsonDatesSetting;
  /** Largest accepted request body in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** KieServerInfo id and name. Default `kjobs`. */
  serverId?: string;
  serverName?: string;
  /** KieServerInfo version. Default the kjobs version. */
  serverVersion?: string;
  /** KieServerInfo location: the public URL of `/kie-server/services/rest/server`. Default: from the request. */
  location?: string;
  /** Prometheus metrics: HTTP requests are observed, and `GET /metrics` serves them (behind the API's auth). */
  metrics?: Metrics;
  /**
   * Longest time a client may take to send a whole request, headers and body; slower ones get 408 and are
   * disconnected, so slow clients cannot hold connections open (slowloris). Default 30 s.
   */
  requestTimeoutMs?: number;
  /**
   * Host names answered besides loopback names, IP addresses and this machine's name when no users are configured
   * (DNS rebinding protection); `*.example.com` matches subdomains, `*` answers any host.
   */
  allowedHosts?: readonly string[];
  /**
   * Behind reverse proxies: the hops to trust (a number; `true` is one) or the proxies' addresses, for
   * `X-Forwarded-For` (the client's address: the right-most entry no trusted proxy wrote) and `X-Forwarded-Host`
   * (the public host, for the cross-site checks). Default: neither is trusted. See proxies.ts.
   */
  trustProxy?: TrustedProxies | boolean;
  /** Failed logins allowed per client address, user name and window before 429 (default 10 a minute; 0: no limit). */
  loginLimit?: LoginLimiterOptions;
  /** Serve HTTPS (HTTP/1.1 over TLS) with this certificate and key; none: plain HTTP. */
  tls?: TlsIdentity;
  /**
   * Most connections open at once (default 10,000): more are closed as they come, so that idle or slow
   * connections cannot take every file descriptor.
   */
  maxConnections?: number;
  /** The remote containers each user with the role `worker` may serve (--worker-grant). */
  workerGrants?: Readonly<Record<string, readonly string[]>>;
  logger?: Logger;
}

/** What reloadServer can change while the server runs. */
export interface ServerReload {
  /** A new certificate and key, for new connections (the server must have been built with `tls`). */
  tls?: TlsIdentity;
  /** New users: verifications remembered for the old ones are dropped. */
  users?: readonly User[];
}

const authenticators = new WeakMap<FastifyInstance, BasicAuthenticator>();

/**
 * Changes the certificate and the users of a running server (SIGHUP): open connections keep going. Throws,
 * changing nothing, when the new users are unusable or when users would be added to or removed from a server
 * built without them (or with them).
 */
export function reloadServer(app: FastifyInstance, reload: ServerReload): void {
  const authenticator = authenticators.get(app);
  if (reload.users && authenticator) {
    if (reload.users.length > 0 !== authenticator.enabled)
      throw new Error('users cannot be turned on or off by a reload: restart kjobs');
    authenticator.setUsers(reload.users);
  }
  if (reload.tls) replaceCertificate(app.server, reload.tls);
}

/** Builds the server (not listening yet): `await app.listen({ port, host })`, `await app.close()`. */
export async function createServer(kjobs: Kjobs, options: ServerOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const jsonDates = options.jsonDates ?? 'auto';
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT;
  const serverId = options.serverId ?? 'kjobs';
  const serverName = options.serverName ?? serverId;
  const serverVersion = options.serverVersion ?? KJOBS_VERSION;
  const headersTimeout = Math.min(requestTimeout, 60_000);
  const serverOptions = {
    requestTimeout,
    headersTimeout,
    // A TLS client that never finishes its handshake is let go as soon as a plain one sending no headers.
    handshakeTimeout: headersTimeout,
    // How often Node looks for requests over their time (its default, 30 s, would double the limit).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(requestTimeout / 4))),
  };
  const app = Fastify({
    requestTimeout,
    // HTTPS: Fastify gives these options to https.createServer (HTTP/1.1 over TLS), the timeouts included.
    ...(options.tls
      ? { https: { ...serverOptions, cert: options.tls.cert, key: options.tls.key } }
      : { http: serverOptions }),
    loggerInstance: (options.logger ?? pino({ level: 'silent' })) as FastifyBaseLogger,
    // Requests are logged once, at debug level, by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // request.ip (failed-login limiting, logs) comes from X-Forwarded-For only when the operator says so.
    trustProxy: fastifyTrustProxy(options.trustProxy),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096, querystringParser: parseQueryString },
    // Errors Fastify and Node decide before any hook runs answer in KIE's format with the security headers too.
    frameworkErrors: (error, _request, reply) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
      reply.header('cache-control', 'no-store');
      const message =
        error.code === 'FST_ERR_BAD_URL'
          ? `The URL is not valid: ${error.message.replace(/^'(.*)' is not a valid url component$/, '$1')}` +
            ' has a malformed percent-encoding'
          : error.message;
      return sendError(reply, { status: 400, message });
    },
    clientErrorHandler: (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, message] =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, `The request was not sent whole within ${requestTimeout} ms`]
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'The request headers are larger than the limit of 16 KiB']
            : [400, `Malformed HTTP request (${error.code ?? error.message})`];
      if (socket.writable) socket.write(rawErrorAnswer(status, message));
      socket.destroy();
    },
  });

  app.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  // A failed TLS handshake never reaches a hook: log it (at debug: clients that do not trust the certificate, plain
  // HTTP sent to the HTTPS port, scanners), so that an operator can see why a client gets no answer.
  if (options.tls) {
    app.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: { remoteAddress?: string }) => {
      const reason =
        error.code === 'ERR_SSL_HTTP_REQUEST'
          ? 'plain HTTP sent to the HTTPS port'
          : (error.code ?? error.message.split('\n')[0]);
      app.log.debug({ ip: socket.remoteAddress, reason }, 'TLS handshake failed');
    });
  }

  // CONNECT never reaches the routes, and without a listener Node drops the connection unanswered: refuse it.
  app.server.on('connect', (_request: unknown, socket: Duplex) => {
    socket.end(rawErrorAnswer(405, 'CONNECT is not supported'));
  });

  // Bodies are read as text and parsed by the negotiated format; which media types are allowed is decided by
  // negotiation (415 for the others), before the body is read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler(makeErrorHandler(bodyLimit));
  // Route schemas document the API (the OpenAPI document is built from them) but do not validate or serialize:
  // params.ts and the format readers validate with KIE's messages and status codes.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const allowedMethods = new AllowedMethods();
  app.addHook('onRoute', allowedMethods.onRoute);
  const openApi = new OpenApiCollector();
  app.addHook('onRoute', openApi.onRoute);
  openApiRoute(app, openApi);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = allowedMethods.of(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendError(reply, {
        status: 405,
        message: `Method ${request.method} is not allowed on ${path}: use ${allowed.join(', ')}`,
        headers: { allow: allowed.join(', ') },
      });
    }
    return sendError(reply, { status: 404, message: `Not found: ${request.method} ${path}` });
  });
  // First of all: refuse other hosts (DNS rebinding) and other sites' pages (CSRF) before anything is read.
  const guard = new RequestGuard({
    authenticated: (options.users ?? []).length > 0,
    allowedHosts: options.allowedHosts,
    trustProxy: options.trustProxy,
  });
  app.addHook('onRequest', securityHeadersHook);
  app.addHook('onRequest', guard.hook);
  app.addHook('onRequest', conversationIdHook);
  // Fastify answers a body over the limit with `Connection: close`: the socket then closes while the client is
  // still sending, and the client's kernel may get a reset before its fetch reads the 413 (EPIPE, ECONNRESET).
  // Kept open instead, the rest of the body is read and thrown away (drainThenClose), as for 401 and 415.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete && reply.statusCode >= 400 && reply.getHeader('connection') === 'close') {
      reply.removeHeader('connection');
    }
    done(null, payload);
  });
  const metrics = options.metrics;
  const logRequests = options.logger?.isLevelEnabled('debug') ?? false;
  app.addHook('onResponse', (request, reply, done) => {
    if (!request.raw.complete) drainThenClose(request.raw);
    metrics?.observeHttp(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    if (logRequests) {
      request.log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        'request',
      );
    }
    done();
  });

  await app.register(healthRoutes, { kjobs });
  const startedAt = Date.now();
  let serving = false;
  app.addHook('onListen', async () => {
    serving = true;
  });
  app.addHook('preClose', async () => {
    serving = false;
  });
  await app.register(probeRoutes, {
    prefix: KIE_SERVER_PATH,
    kjobs,
    serverId,
    startedAt,
    jsonDates,
    serving: () => serving,
  });

  const authenticator = new BasicAuthenticator(
    options.users ?? [],
    undefined,
    new LoginLimiter(options.loginLimit),
  );
  authenticators.set(app as FastifyInstance, authenticator);
  await app.register(
    async (api) => {
      api.addHook('onRequest', authenticator.hook());
      api.addHook('onRequest', negotiationHook);
      const info = {
        id: serverId,
        name: serverName,
        version: serverVersion,
        location: options.location,
        startedAt,
        jsonDates,
        basePath: KIE_SERVER_PATH,
      };
      await api.register(serverInfoRoutes, info);
      await api.register(jobRoutes, { kjobs, jsonDates });
      await api.register(containerRoutes, { kjobs, jsonDates });
      await api.register(consoleExtensionRoutes, { kjobs });
      await api.register(flowControlRoutes, { kjobs });
      await api.register(workerRoutes, { kjobs, workerGrants: options.workerGrants ?? {} });
    },
    { prefix: KIE_SERVER_PATH },
  );
  await app.register(consoleRoutes, { kjobs, auth: authenticator.hook() });
  if (metrics) {
    await app.register(async (scope) => {
      scope.addHook('onRequest', authenticator.hook());
      scope.get('/metrics', { schema: ROUTE_SCHEMAS.metrics }, async (_request, reply) =>
        reply.header('content-type', metrics.registry.contentType).send(await metrics.prometheusText()),
      );
      // KIE's address and text, for Prometheus jobs and dashboards set up for KIE Server.
      scope.get(KIE_METRICS_PATH, { schema: ROUTE_SCHEMAS.kieMetrics }, async (_request, reply) =>
        reply.header('content-type', KIE_METRICS_CONTENT_TYPE).send(await metrics.kieText()),
      );
    });
    app.addHook('onListen', async () => {
      metrics.kie.serverStarted({
        name: serverName,
        serverId,
        location: options.location ?? listeningLocation(app),
        version: serverVersion,
      });
    });
  }
  return app;
}

/** The KIE base URL of a listening server, from its address (when no `location` is configured). */
function listeningLocation(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return KIE_SERVER_PATH;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = app.initialConfig.https ? 'https' : 'http';
  return `${scheme}://${host}:${address.port}${KIE_SERVER_PATH}`;
}

export { HttpError };

/**
 * The rest of a refused request's body is read and thrown away by Node (a dumped request); past MAX_DRAINED_BODY
 * bytes the connection is closed. Node's parser swallows a dumped body without events: the socket's byte count
 * tells how much came.
 */
function drainThenClose(request: IncomingMessage): void {
  const socket = request.socket;
  const start = socket.bytesRead;
  const timer = setInterval(() => {
    if (request.complete || socket.destroyed) clearInterval(timer);
    else if (socket.bytesRead - start > MAX_DRAINED_BODY) {
      clearInterval(timer);
      socket.destroy();
    }
  }, 50);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}
