/**
 * kjobs' configuration: one typed object, filled from the defaults, then a config file (`--config`,
 * KJOBS_CONFIG), then `KJOBS_*` environment variables, then command-line flags (flags win). Every setting is one
 * row of SETTINGS (settings.ts). Printed at start-up with secrets masked (describeConfig).
 */
import type { TrustedProxies } from '../http/proxies.js';
import { readFileSync } from 'node:fs';
import type { User } from '../http/auth.js';
import type { JsonDatesSetting } from '../http/formats/dates.js';
import { flagName, flagProperty, SETTINGS, type CommandName, type Setting } from './settings.js';
import { ConfigError, parseBoolean, splitList, type LogFormat, type LogLevel } from './values.js';

export {
  ConfigError,
  LOG_FORMATS,
  LOG_LEVELS,
  parseContainer,
  parseLimit,
  parseSize,
  parseUser,
} from './values.js';
export type { LogFormat, LogLevel } from './values.js';

export interface Config {
  /** HTTP port (`--port`, KJOBS_PORT). Default 8080; 0 picks a free one. */
  port: number;
  /** Address to listen on (`--host`, KJOBS_HOST). Default 127.0.0.1. */
  host: string;
  /** SQLite file path (or `sqlite:PATH`), or a `postgres://` URL (`--db`, KJOBS_DATABASE_URL). */
  database: string;
  /** Container modules by id (`--container ID=MODULE`, KJOBS_CONTAINERS="id=module,id2=module2"). */
  containers: Record<string, string>;
  /** API users (`--user NAME:PASSWORD[:ROLE,ROLE]`, KJOBS_USERS="name:pw:roles;name2:pw2"). None: auth off. */
  users: User[];
  /** API users with scrypt-hashed passwords, a line `NAME:HASH[:ROLES]` each (`--users-file`, KJOBS_USERS_FILE). */
  usersFile: string | undefined;
  /** KIE Server's `application-users.properties` (`--kie-users`, KJOBS_KIE_USERS), with `kieRoles`. */
  kieUsers: string | undefined;
  /** KIE Server's `application-roles.properties` (`--kie-roles`, KJOBS_KIE_ROLES), with `kieUsers`. */
  kieRoles: string | undefined;
  /** HTTPS: the PEM certificate (chain) file (`--tls-cert`, KJOBS_TLS_CERT), with `tlsKey`. */
  tlsCert: string | undefined;
  /** HTTPS: the PEM private key file (`--tls-key`, KJOBS_TLS_KEY), with `tlsCert`. */
  tlsKey: string | undefined;
  /** Allow an unauthenticated API on a non-loopback address (`--insecure`, KJOBS_INSECURE). */
  insecure: boolean;
  /**
   * JSON dates (`--json-dates`, KJOBS_JSON_DATES): `auto` (default) ISO-8601 for clients generated from the swagger
   * document and KIE's `{"java.util.Date": ms}` wrapper for the others; `kie` or `iso` one form for all.
   */
  jsonDates: JsonDatesSetting;
  /** OpenTelemetry SDK with an OTLP/HTTP exporter (`--otel`, KJOBS_OTEL); without it, spans go to no SDK. */
  otel: boolean;
  /** Run jobs in this process (`--no-executor`, KJOBS_EXECUTOR=false). */
  executor: boolean;
  /** Jobs run at once (`--concurrency`, KJOBS_CONCURRENCY), per process. Default 10. */
  concurrency: number;
  /**
   * Processes sharing the port, each serving HTTP and running jobs (`--workers`, KJOBS_WORKERS; `auto`: one per
   * core). Default 1.
   */
  workers: number;
  /** Log level (`--log-level`, KJOBS_LOG_LEVEL). Default info. */
  logLevel: LogLevel;
  /** Log lines (`--log-format`, KJOBS_LOG_FORMAT): `pretty` or `json`; default pretty on a terminal, else json. */
  logFormat: LogFormat | undefined;
  /** Largest request body in bytes (`--body-limit`, KJOBS_BODY_LIMIT: bytes, or 512kb, 1mb). Default 1 MiB. */
  bodyLimit: number;
  /** KieServerInfo id and name (`--server-id`, KJOBS_SERVER_ID). Default kjobs. */
  serverId: string;
  /** KieServerInfo location: the public URL of `.../kie-server/services/rest/server` (KJOBS_LOCATION). */
  location: string | undefined;
  /** How long running jobs get to finish on shutdown, ms (`--stop-timeout`, KJOBS_STOP_TIMEOUT). Default 10000. */
  stopTimeoutMs: number;
  /**
   * The heartbeat, ms (`--heartbeat 5s`, KJOBS_HEARTBEAT): leases are renewed every half heartbeat and last 1.5;
   * a dead worker's jobs run again within 2 heartbeats. Default 5000.
   */
  heartbeatMs: number;
  /**
   * This node's name (`--node-id`, KJOBS_NODE_ID), kept across its restarts: the first part of its worker ids, so that
   * a restarted node rescues what its earlier run held at once. Default: the host name.
   */
  nodeId: string | undefined;
  /** `kjobs worker`: a kjobs server's REST root, to run jobs over the worker protocol (`--url`, KJOBS_URL). */
  url: string | undefined;
  /** With `url`: the user to sign in as (`--user`, KJOBS_USER). */
  user: string | undefined;
  /** With `url`: the user's password (`--password`, KJOBS_PASSWORD). */
  password: string | undefined;
  /** With `url` over https: a PEM CA to trust (`--ca-file`, KJOBS_CA_FILE). */
  caFile: string | undefined;
  /** A claimed job's lease, ms (`--lease-ms`, KJOBS_LEASE_MS). Default: 1.5 heartbeats. */
  leaseMs: number | undefined;
  /** Timeout of a run whose data names no `timeout`, ms; 0 for none (`--default-timeout`, KJOBS_DEFAULT_TIMEOUT). */
  defaultTimeoutMs: number;
  /** Finished jobs older than this are deleted, ms (`--retention 7d`, KJOBS_RETENTION); 0 keeps them forever. */
  retentionMs: number;
  /**
   * Host names answered besides loopback names, IP addresses and this machine's name when no users are configured
   * (`--allowed-hosts a,b`, KJOBS_ALLOWED_HOSTS; `*.example.com` for subdomains, `*` for any): DNS rebinding guard.
   */
  allowedHosts: string[];
  /** Largest `pageSize` a list may ask for (`--max-page-size`, KJOBS_MAX_PAGE_SIZE). Default 10000. */
  maxPageSize: number;
  /** Most jobs one bulk cancel or requeue may change (`--bulk-limit`, KJOBS_BULK_LIMIT). Default 1000. */
  bulkLimit: number;
  /** Largest request data of a job in bytes (`--max-data-size`, KJOBS_MAX_DATA_SIZE: bytes, 512kb, 1mb). */
  maxDataSize: number;
  /** Most HTTP connections open at once, per process (`--max-connections`, KJOBS_MAX_CONNECTIONS). Default 10000. */
  maxConnections: number;
  /** Most parents one job may name in `dependsOn` (`--max-parents`, KJOBS_MAX_PARENTS). Default 100. */
  maxParents: number;
  /** Longest chain of parents above a job (`--max-dependency-depth`, KJOBS_MAX_DEPENDENCY_DEPTH). Default 1000. */
  maxDependencyDepth: number;
  /** Most `dependsOn` links in one request (`--max-dependency-links`, KJOBS_MAX_DEPENDENCY_LINKS). Default 10000. */
  maxDependencyLinks: number;
  /**
   * Behind reverse proxies (`--trust-proxy [hops|addresses]`, KJOBS_TRUST_PROXY): the proxy hops to trust in
   * X-Forwarded-For and X-Forwarded-Host (the flag alone: 1), or the proxies' addresses; false: neither is trusted.
   */
  trustProxy: TrustedProxies;
  /** Failed logins a client address may make per minute before it gets 429 (`--login-failures`); 0: no limit. */
  loginFailures: number;
  /** Remote containers: id → the patterns of the commands workers elsewhere run (`--remote-container`). */
  remoteContainers: Record<string, string[]>;
  /** The remote containers each user with the role `worker` may serve (`--worker-grant USER=ID,ID`). */
  workerGrants: Record<string, string[]>;
  /**
   * Concurrency limits across all nodes sharing the store: at most N jobs of a command (`--limit COMMAND=N`,
   * KJOBS_LIMITS="cmd=2,cmd2=1") or of a container (`--container-limit ID=N`, KJOBS_CONTAINER_LIMITS) at once.
   */
  limits: { commands: Record<string, number>; containers: Record<string, number> };
  /**
   * Rate limits across all nodes: at most N job starts per period of a command (`--rate-limit COMMAND=N/PERIOD`,
   * KJOBS_RATE_LIMITS) or of a container (`--container-rate-limit ID=N/PERIOD`, KJOBS_CONTAINER_RATE_LIMITS).
   */
  rateLimits: {
    commands: Record<string, { starts: number; periodMs: number }>;
    containers: Record<string, { starts: number; periodMs: number }>;
  };
  /**
   * Fair concurrency: at most N RUNNING jobs per value of the request-data key `concurrencyKey`, for every command
   * (`--key-limit N`) or for one (`--key-limit COMMAND=N`), KJOBS_KEY_LIMITS.
   */
  keyLimits: { all?: number; commands: Record<string, number> };
}

/** A configuration without any setting: the lists empty, the rest filled from the settings' defaults. */
function emptyConfig(): Config {
  return {
    containers: {},
    remoteContainers: {},
    workerGrants: {},
    users: [],
    allowedHosts: [],
    limits: { commands: {}, containers: {} },
    rateLimits: { commands: {}, containers: {} },
    keyLimits: { commands: {} },
    location: undefined,
    logFormat: undefined,
    usersFile: undefined,
    kieUsers: undefined,
    kieRoles: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    url: undefined,
    user: undefined,
    password: undefined,
    caFile: undefined,
  } as Partial<Config> as Config;
}

function defaults(): Config {
  const config = emptyConfig();
  for (const setting of SETTINGS) {
    if (setting.kind === 'switch') setting.read(config, setting.default);
    else if (setting.kind === 'value' && setting.default !== undefined)
      setting.read(config, setting.default, `the default of ${flagName(setting)}`);
  }
  return config;
}

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(defaults());

/** Flags as the CLI hands them over (commander's property names), only those given on the command line. */
export type ConfigFlags = Readonly<Record<string, string | readonly string[] | boolean | undefined>> & {
  /** The config file (`--config`). */
  config?: string;
};

type Env = Record<string, string | undefined>;

/**
 * Defaults, then the config file (`flags.config`, else KJOBS_CONFIG), then the environment, then the flags.
 * Throws ConfigError on an unusable value, naming the flag, the variable, or the file and key. `flags` are those of
 * `command` (two commands may give one flag different meanings: `--user` of serve and of worker).
 */
export function loadConfig(
  env: Env = process.env,
  flags: ConfigFlags = {},
  command: CommandName = 'serve',
): Config {
  const config = defaults();
  const file = flags.config ?? env.KJOBS_CONFIG;
  if (file) readConfigFile(config, file);
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    if (text === undefined) continue;
    if (setting.kind === 'list') {
      for (const item of splitList(text, setting.envSeparator)) setting.add(config, item, setting.env);
    } else if (setting.kind === 'switch') {
      setting.read(config, parseBoolean(setting.env, text));
    } else setting.read(config, text, setting.env);
  }
  for (const setting of SETTINGS) {
    if (!setting.commands.includes(command)) continue;
    const value = flags[flagProperty(setting)];
    if (value === undefined) continue;
    const name = flagName(setting);
    if (setting.kind === 'list') {
      for (const item of [value].flat()) setting.add(config, String(item), name);
    } else if (setting.kind === 'switch') {
      setting.read(config, typeof value === 'boolean' ? value : parseBoolean(name, String(value)));
    } else setting.read(config, String(value), name);
  }
  return config;
}

/**
 * Reads a JSON config file into `config`: an object whose keys are the settings' keys (`port`, `database`,
 * `containers`, ...). Values are written as the flags take them; numbers and booleans may be JSON's own;
 * repeatable settings are lists, and containers and limits may also be objects (`{"acme": "./acme.mjs"}`).
 */
function readConfigFile(config: Config, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(values)) {
    throw new ConfigError(`The config file ${path} must hold a JSON object of settings, like {"port": 8080}`);
  }
  for (const [key, value] of Object.entries(values)) {
    const setting = SETTINGS.find((candidate) => candidate.key === key);
    if (!setting) {
      throw new ConfigError(
        `${path}: unknown setting "${key}"; the settings are ${SETTINGS.map((known) => known.key).join(', ')}`,
      );
    }
    readFileValue(setting, config, value, `${path}: "${key}"`);
  }
}

function readFileValue(setting: Setting, config: Config, value: unknown, name: string): void {
  const scalar =
    typeof value === 'string' ||
    typeof value === 'number' ||
    (setting.kind === 'value' && setting.fileBoolean && typeof value === 'boolean')
      ? String(value)
      : undefined;
  if (setting.kind === 'value') {
    const joined =
      setting.fileList && Array.isArray(value) && value.every((item) => typeof item === 'string')
        ? value.join(',')
        : scalar;
    if (joined === undefined) {
      const shape = setting.fileList ? 'a string or a list of strings' : 'a string or a number';
      throw new ConfigError(`${name} must be ${shape}, got ${json(value)}`);
    }
    setting.read(config, joined, name);
  } else if (setting.kind === 'switch') {
    if (typeof value === 'boolean') setting.read(config, value);
    else if (typeof value === 'string') setting.read(config, parseBoolean(name, value));
    else throw new ConfigError(`${name} must be true or false, got ${json(value)}`);
  } else {
    const items = Array.isArray(value)
      ? value
      : setting.fileObject && isObject(value)
        ? Object.entries(value).map(([key, item]) =>
            typeof item === 'string' || typeof item === 'number'
              ? `${key}=${item}`
              : Array.isArray(item) && item.every((each) => typeof each === 'string')
                ? `${key}=${item.join(',')}`
                : item,
          )
        : undefined;
    const shape = setting.fileObject ? 'a list of strings or an object' : 'a list of strings';
    if (items === undefined) throw new ConfigError(`${name} must be ${shape}, got ${json(value)}`);
    for (const item of items) {
      if (typeof item !== 'string')
        throw new ConfigError(`${name} must be ${shape}, got ${json(item)} in it`);
      setting.add(config, item, name);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const json = (value: unknown) => JSON.stringify(value) ?? String(value);

/** A database URL with its password masked. */
export function maskDatabase(database: string): string {
  return database.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** The configuration as printed at start-up: passwords masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    database: maskDatabase(config.database),
    users: config.users.map((user) => `${user.name}:***:${user.roles.join(',')}`),
    ...(config.password !== undefined ? { password: '***' } : {}),
  };
}
