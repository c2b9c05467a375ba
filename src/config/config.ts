/**
 * kjobs' configuration: one typed object with defaults, filled from `KJOBS_*` environment variables, then from
 * command-line flags (flags win). Printed at start-up with secrets masked (describeConfig).
 */
import { parseTimeExpression } from '../core/time-expression.js';
import type { User } from '../http/auth.js';
import { JSON_DATES_SETTINGS, type JsonDatesSetting } from '../http/formats/dates.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
  /** Allow an unauthenticated API on a non-loopback address (`--insecure`, KJOBS_INSECURE). */
  insecure: boolean;
  /**
   * JSON dates (`--json-dates`, KJOBS_JSON_DATES): `auto` (default) ISO-8601 for clients generated from the swagger
   * document and KIE's `{"java.util.Date": ms}` wrapper for the others; `kie` or `iso` one form for all.
   */
  jsonDates: JsonDatesSetting;
  /** Run jobs in this process (`--no-executor`, KJOBS_EXECUTOR=false). */
  executor: boolean;
  /** Jobs run at once (`--concurrency`, KJOBS_CONCURRENCY). Default 10. */
  concurrency: number;
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
  /** A claimed job's lease, ms (`--lease-ms`, KJOBS_LEASE_MS): a crashed worker's jobs run again after it. */
  leaseMs: number;
  /** Timeout of a run whose data names no `timeout`, ms; 0 for none (`--default-timeout`, KJOBS_DEFAULT_TIMEOUT). */
  defaultTimeoutMs: number;
  /**
   * Host names answered besides loopback names, IP addresses and this machine's name when no users are configured
   * (`--allowed-hosts a,b`, KJOBS_ALLOWED_HOSTS; `*.example.com` for subdomains, `*` for any): DNS rebinding guard.
   */
  allowedHosts: string[];
  /** Largest `pageSize` a list may ask for (`--max-page-size`, KJOBS_MAX_PAGE_SIZE). Default 10000. */
  maxPageSize: number;
  /** Largest request data of a job in bytes (`--max-data-size`, KJOBS_MAX_DATA_SIZE: bytes, 512kb, 1mb). */
  maxDataSize: number;
  /** Finished jobs older than this are deleted, ms (`--retention 7d`, KJOBS_RETENTION); 0 keeps them forever. */
  retentionMs: number;
  /** Behind a reverse proxy: trust X-Forwarded-For and X-Forwarded-Host (`--trust-proxy`, KJOBS_TRUST_PROXY). */
  trustProxy: boolean;
  /** Failed logins a client address may make per minute before it gets 429 (`--login-failures`); 0: no limit. */
  loginFailures: number;
  /**
   * Concurrency limits across all nodes sharing the store: at most N jobs of a command (`--limit COMMAND=N`,
   * KJOBS_LIMITS="cmd=2,cmd2=1") or of a container (`--container-limit ID=N`, KJOBS_CONTAINER_LIMITS) at once.
   */
  limits: { commands: Record<string, number>; containers: Record<string, number> };
}

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  database: './data/kjobs.db',
  containers: {},
  users: [],
  insecure: false,
  jsonDates: 'auto',
  executor: true,
  concurrency: 10,
  logLevel: 'info',
  logFormat: undefined,
  bodyLimit: 1024 * 1024,
  serverId: 'kjobs',
  location: undefined,
  stopTimeoutMs: 10_000,
  leaseMs: 30_000,
  defaultTimeoutMs: 0,
  loginFailures: 10,
  allowedHosts: [],
  trustProxy: false,
  maxPageSize: 10_000,
  maxDataSize: 1024 * 1024,
  retentionMs: 0,
  limits: Object.freeze({ commands: {}, containers: {} }),
});

/** Flags as the CLI hands them over: only those given on the command line. */
export interface ConfigFlags {
  port?: string;
  host?: string;
  db?: string;
  container?: string[];
  user?: string[];
  insecure?: boolean;
  jsonDates?: string;
  executor?: boolean;
  concurrency?: string;
  logLevel?: string;
  logFormat?: string;
  bodyLimit?: string;
  serverId?: string;
  location?: string;
  stopTimeout?: string;
  leaseMs?: string;
  defaultTimeout?: string;
  loginFailures?: string;
  allowedHosts?: string;
  trustProxy?: boolean;
  maxPageSize?: string;
  maxDataSize?: string;
  retention?: string;
  limit?: string[];
  containerLimit?: string[];
}

/** A configuration value that cannot be used; the message names the flag and the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function boolean(name: string, text: string): boolean {
  const normalized = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(text)}`);
}

/** Milliseconds as a time expression (`30s`, `1m`, `500ms`) or a bare number; 0 allowed. */
function duration(name: string, text: string): number {
  let value: number;
  try {
    value = parseTimeExpression(text);
  } catch {
    value = NaN;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a duration like 30s, 1m or 500 (ms), got ${JSON.stringify(text)}`);
  }
  return value;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** Bytes: `1048576`, `512kb`, `1mb` (units of 1024). */
export function parseSize(name: string, text: string): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(match?.[2] ?? 'x').toLowerCase()];
  const value = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `${name} must be a size in bytes like 1048576, 512kb or 1mb, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** `ID=MODULE`: a container id and the path (or URL) of its ES module. */
export function parseContainer(text: string): [string, string] {
  const eq = text.indexOf('=');
  const id = text.slice(0, eq).trim();
  const module = text.slice(eq + 1).trim();
  if (eq < 1 || !id || !module || /\s/.test(id)) {
    throw new ConfigError(
      `--container must be ID=MODULE (e.g. acme=./containers/acme.js), got ${JSON.stringify(text)}`,
    );
  }
  return [id, module];
}

/**
 * `NAME:PASSWORD[:ROLE,ROLE...]`; without roles the user gets `kie-server`. The name cannot hold a colon; a
 * password can only when roles follow (the text after the last colon is read as the roles).
 */
export function parseUser(text: string): User {
  const first = text.indexOf(':');
  if (first < 1)
    throw new ConfigError(`--user must be NAME:PASSWORD[:ROLE,ROLE], got a value without a password`);
  const name = text.slice(0, first);
  const rest = text.slice(first + 1);
  const last = rest.lastIndexOf(':');
  const password = last < 0 ? rest : rest.slice(0, last);
  const roles =
    last < 0
      ? ['kie-server']
      : rest
          .slice(last + 1)
          .split(',')
          .map((role) => role.trim())
          .filter(Boolean);
  if (!password) throw new ConfigError(`User ${name} has an empty password`);
  if (roles.length === 0) throw new ConfigError(`User ${name}: give at least one role after the last colon`);
  return { name, password, roles };
}

/** `NAME=N`: a command name (or container id) and its concurrency limit, a whole number >= 1. */
export function parseLimit(name: string, text: string): [string, number] {
  const eq = text.lastIndexOf('=');
  const key = text.slice(0, eq).trim();
  const limit = text.slice(eq + 1).trim();
  const value = /^\d+$/.test(limit) ? Number(limit) : NaN;
  if (eq < 1 || !key || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `${name} must be NAME=N with N a whole number >= 1 (e.g. com.acme.SendMail=2), got ${JSON.stringify(text)}`,
    );
  }
  return [key, value];
}

/** Splits a list from the environment: commas for containers, semicolons or new lines for users. */
function list(text: string | undefined, separator: RegExp): string[] {
  return (text ?? '')
    .split(separator)
    .map((item) => item.trim())
    .filter(Boolean);
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  const value = text.trim().toLowerCase() as T;
  if (!allowed.includes(value))
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
  return value;
}

interface Source {
  port?: string | undefined;
  host?: string | undefined;
  database?: string | undefined;
  containers?: string[] | undefined;
  users?: string[] | undefined;
  insecure?: boolean | string | undefined;
  jsonDates?: string | undefined;
  executor?: boolean | string | undefined;
  concurrency?: string | undefined;
  logLevel?: string | undefined;
  logFormat?: string | undefined;
  bodyLimit?: string | undefined;
  serverId?: string | undefined;
  location?: string | undefined;
  stopTimeout?: string | undefined;
  leaseMs?: string | undefined;
  defaultTimeout?: string | undefined;
  loginFailures?: string | undefined;
  allowedHosts?: string | undefined;
  trustProxy?: boolean | string | undefined;
  maxPageSize?: string | undefined;
  maxDataSize?: string | undefined;
  retention?: string | undefined;
  limits?: string[] | undefined;
  containerLimits?: string[] | undefined;
}

function apply(config: Config, source: Source, label: (flag: string, variable: string) => string): void {
  const name = label;
  if (source.port !== undefined) config.port = integer(name('--port', 'KJOBS_PORT'), source.port, 0, 65535);
  if (source.host !== undefined) {
    if (!source.host.trim()) throw new ConfigError(`${name('--host', 'KJOBS_HOST')} must not be empty`);
    config.host = source.host.trim();
  }
  if (source.database !== undefined) {
    if (!source.database.trim())
      throw new ConfigError(`${name('--db', 'KJOBS_DATABASE_URL')} must not be empty`);
    config.database = source.database.trim();
  }
  for (const text of source.containers ?? []) {
    const [id, module] = parseContainer(text);
    config.containers = { ...config.containers, [id]: module };
  }
  for (const text of source.users ?? []) {
    const user = parseUser(text);
    config.users = [...config.users.filter((existing) => existing.name !== user.name), user];
  }
  if (source.insecure !== undefined) {
    config.insecure =
      typeof source.insecure === 'boolean'
        ? source.insecure
        : boolean(name('--insecure', 'KJOBS_INSECURE'), source.insecure);
  }
  if (source.jsonDates !== undefined) {
    config.jsonDates = oneOf(name('--json-dates', 'KJOBS_JSON_DATES'), source.jsonDates, JSON_DATES_SETTINGS);
  }
  if (source.executor !== undefined) {
    config.executor =
      typeof source.executor === 'boolean'
        ? source.executor
        : boolean(name('--no-executor', 'KJOBS_EXECUTOR'), source.executor);
  }
  if (source.concurrency !== undefined) {
    config.concurrency = integer(name('--concurrency', 'KJOBS_CONCURRENCY'), source.concurrency, 1, 10_000);
  }
  if (source.logLevel !== undefined)
    config.logLevel = oneOf(name('--log-level', 'KJOBS_LOG_LEVEL'), source.logLevel, LOG_LEVELS);
  if (source.logFormat !== undefined)
    config.logFormat = oneOf(name('--log-format', 'KJOBS_LOG_FORMAT'), source.logFormat, LOG_FORMATS);
  if (source.bodyLimit !== undefined)
    config.bodyLimit = parseSize(name('--body-limit', 'KJOBS_BODY_LIMIT'), source.bodyLimit);
  if (source.serverId !== undefined && source.serverId.trim()) config.serverId = source.serverId.trim();
  if (source.location !== undefined) config.location = source.location.trim() || undefined;
  if (source.stopTimeout !== undefined) {
    config.stopTimeoutMs = integer(name('--stop-timeout', 'KJOBS_STOP_TIMEOUT'), source.stopTimeout, 0);
  }
  if (source.leaseMs !== undefined)
    config.leaseMs = integer(name('--lease-ms', 'KJOBS_LEASE_MS'), source.leaseMs, 150);
  if (source.defaultTimeout !== undefined) {
    config.defaultTimeoutMs = duration(
      name('--default-timeout', 'KJOBS_DEFAULT_TIMEOUT'),
      source.defaultTimeout,
    );
  }
  if (source.loginFailures !== undefined) {
    config.loginFailures = integer(name('--login-failures', 'KJOBS_LOGIN_FAILURES'), source.loginFailures, 0);
  }
  if (source.allowedHosts !== undefined) config.allowedHosts = list(source.allowedHosts, /,/);
  if (source.trustProxy !== undefined) {
    config.trustProxy =
      typeof source.trustProxy === 'boolean'
        ? source.trustProxy
        : boolean(name('--trust-proxy', 'KJOBS_TRUST_PROXY'), source.trustProxy);
  }
  if (source.maxPageSize !== undefined) {
    config.maxPageSize = integer(name('--max-page-size', 'KJOBS_MAX_PAGE_SIZE'), source.maxPageSize, 1);
  }
  if (source.maxDataSize !== undefined)
    config.maxDataSize = parseSize(name('--max-data-size', 'KJOBS_MAX_DATA_SIZE'), source.maxDataSize);
  if (source.retention !== undefined)
    config.retentionMs = duration(name('--retention', 'KJOBS_RETENTION'), source.retention);
  for (const text of source.limits ?? []) {
    const [command, limit] = parseLimit(name('--limit', 'KJOBS_LIMITS'), text);
    config.limits = { ...config.limits, commands: { ...config.limits.commands, [command]: limit } };
  }
  for (const text of source.containerLimits ?? []) {
    const [container, limit] = parseLimit(name('--container-limit', 'KJOBS_CONTAINER_LIMITS'), text);
    config.limits = { ...config.limits, containers: { ...config.limits.containers, [container]: limit } };
  }
}

/** Defaults, then the environment, then the flags. Throws ConfigError on an unusable value. */
export function loadConfig(env: Env = process.env, flags: ConfigFlags = {}): Config {
  const config: Config = {
    ...DEFAULT_CONFIG,
    containers: {},
    users: [],
    allowedHosts: [],
    limits: { commands: {}, containers: {} },
  };
  apply(
    config,
    {
      port: env.KJOBS_PORT,
      host: env.KJOBS_HOST,
      database: env.KJOBS_DATABASE_URL,
      containers: list(env.KJOBS_CONTAINERS, /,/),
      users: list(env.KJOBS_USERS, /[;\n]/),
      insecure: env.KJOBS_INSECURE,
      jsonDates: env.KJOBS_JSON_DATES,
      executor: env.KJOBS_EXECUTOR,
      concurrency: env.KJOBS_CONCURRENCY,
      logLevel: env.KJOBS_LOG_LEVEL,
      logFormat: env.KJOBS_LOG_FORMAT,
      bodyLimit: env.KJOBS_BODY_LIMIT,
      serverId: env.KJOBS_SERVER_ID,
      location: env.KJOBS_LOCATION,
      stopTimeout: env.KJOBS_STOP_TIMEOUT,
      leaseMs: env.KJOBS_LEASE_MS,
      defaultTimeout: env.KJOBS_DEFAULT_TIMEOUT,
      loginFailures: env.KJOBS_LOGIN_FAILURES,
      allowedHosts: env.KJOBS_ALLOWED_HOSTS,
      trustProxy: env.KJOBS_TRUST_PROXY,
      maxPageSize: env.KJOBS_MAX_PAGE_SIZE,
      maxDataSize: env.KJOBS_MAX_DATA_SIZE,
      retention: env.KJOBS_RETENTION,
      limits: list(env.KJOBS_LIMITS, /,/),
      containerLimits: list(env.KJOBS_CONTAINER_LIMITS, /,/),
    },
    (_flag, variable) => variable,
  );
  apply(
    config,
    {
      port: flags.port,
      host: flags.host,
      database: flags.db,
      containers: flags.container,
      users: flags.user,
      insecure: flags.insecure,
      jsonDates: flags.jsonDates,
      executor: flags.executor,
      concurrency: flags.concurrency,
      logLevel: flags.logLevel,
      logFormat: flags.logFormat,
      bodyLimit: flags.bodyLimit,
      serverId: flags.serverId,
      location: flags.location,
      stopTimeout: flags.stopTimeout,
      leaseMs: flags.leaseMs,
      defaultTimeout: flags.defaultTimeout,
      loginFailures: flags.loginFailures,
      allowedHosts: flags.allowedHosts,
      trustProxy: flags.trustProxy,
      maxPageSize: flags.maxPageSize,
      maxDataSize: flags.maxDataSize,
      retention: flags.retention,
      limits: flags.limit,
      containerLimits: flags.containerLimit,
    },
    (flag) => flag,
  );
  return config;
}

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
  };
}
