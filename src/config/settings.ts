/**
 * Every setting of `kjobs serve` and `kjobs worker`, once: its flag, environment variable, config-file key, help,
 * default and reader. The CLI options, the environment reader and the config-file reader are derived from it;
 * a new setting is a new row (and a field of Config).
 */
import { availableParallelism } from 'node:os';
import type { Config } from './config.js';
import {
  parseContainer,
  parseRemoteContainer,
  parseDuration,
  parseInteger,
  parseKeyLimit,
  parseLimit,
  parseRateLimit,
  parseOneOf,
  parseRestRoot,
  parseSize,
  parseTrustProxy,
  parseUser,
  splitList,
  ConfigError,
  LOG_FORMATS,
  LOG_LEVELS,
} from './values.js';
import { JSON_DATES_SETTINGS } from '../http/formats/dates.js';
import { checkNodeId } from '../executor/worker-identity.js';

export type CommandName = 'serve' | 'worker';

interface SettingBase {
  /** Key in the config file (`kjobs.json`). */
  key: string;
  /** The flag as commander declares it: `--port <port>`, `--insecure`, `--no-executor`. */
  flag: string;
  /** The environment variable. */
  env: string;
  /** Help, without the default and the variable (added from the row). */
  help: string;
  /** Help of a command on which the flag means something else (`kjobs worker --workers`: no HTTP). */
  commandHelp?: Partial<Record<CommandName, string>>;
  /** Said after the variable in help, when its value is not written as the flag's: `=id=mod,id2=mod2`. */
  envHint?: string;
  /** The commands that take the flag; the variable and the file key are read by both. */
  commands: readonly CommandName[];
  /** The values allowed, checked by the CLI too. */
  choices?: readonly string[];
}

/** A setting with one value: the last source that gives it wins. */
export interface ValueSetting extends SettingBase {
  kind: 'value';
  /** The default, as a flag would give it (DEFAULT_CONFIG is read from these); none: unset. */
  default?: string;
  /** The default as help shows it, when not `default`. */
  shownDefault?: string;
  /** In the config file, a list stands for its items joined by commas (`["a", "b"]` for `a,b`). */
  fileList?: boolean;
  /** In the config file, `true` and `false` stand for the texts `true` and `false`. */
  fileBoolean?: boolean;
  read(config: Config, text: string, name: string): void;
}

/** An on/off setting: a flag without a value, a variable or file key of true or false. */
export interface SwitchSetting extends SettingBase {
  kind: 'switch';
  /** The setting without its flag. */
  default: boolean;
  read(config: Config, on: boolean): void;
}

/** A repeatable setting: each item adds to (or replaces an entry of) what earlier sources gave. */
export interface ListSetting extends SettingBase {
  kind: 'list';
  /** Separator of the items in the environment variable. */
  envSeparator: RegExp;
  /** In the config file, an object may stand for its `key=value` items (containers, limits). */
  fileObject?: boolean;
  add(config: Config, item: string, name: string): void;
}

export type Setting = ValueSetting | SwitchSetting | ListSetting;

const BOTH = ['serve', 'worker'] as const;
const SERVE = ['serve'] as const;
const WORKER = ['worker'] as const;

/** Trimmed text, refused when empty. */
function nonEmpty(name: string, text: string): string {
  if (!text.trim()) throw new ConfigError(`${name} must not be empty`);
  return text.trim();
}

export const SETTINGS: readonly Setting[] = [
  {
    kind: 'value',
    key: 'port',
    flag: '--port <port>',
    env: 'KJOBS_PORT',
    help: 'HTTP port, 0 for any free port',
    default: '8080',
    commands: SERVE,
    read: (config, text, name) => (config.port = parseInteger(name, text, 0, 65535)),
  },
  {
    kind: 'value',
    key: 'host',
    flag: '--host <host>',
    env: 'KJOBS_HOST',
    help: 'address to listen on',
    default: '127.0.0.1',
    commands: SERVE,
    read: (config, text, name) => (config.host = nonEmpty(name, text)),
  },
  {
    kind: 'list',
    key: 'users',
    flag: '--user <NAME:PASSWORD[:ROLES]>',
    env: 'KJOBS_USERS',
    help: 'API user, roles comma-separated (default kie-server); repeatable',
    envHint: '=name:pw:roles;name2:pw2',
    envSeparator: /[;\n]/,
    commands: SERVE,
    add: (config, item, name) => {
      const user = parseUser(item, name);
      config.users = [...config.users.filter((existing) => existing.name !== user.name), user];
    },
  },
  {
    kind: 'value',
    key: 'usersFile',
    flag: '--users-file <file>',
    env: 'KJOBS_USERS_FILE',
    help: 'API users with hashed passwords, a line NAME:HASH[:ROLES] each (kjobs hash-password makes one)',
    commands: SERVE,
    read: (config, text) => (config.usersFile = text.trim() || undefined),
  },
  {
    kind: 'value',
    key: 'kieUsers',
    flag: '--kie-users <file>',
    env: 'KJOBS_KIE_USERS',
    help: "KIE Server's application-users.properties (user=HEX(MD5(user:ApplicationRealm:password)))",
    commands: SERVE,
    read: (config, text) => (config.kieUsers = text.trim() || undefined),
  },
  {
    kind: 'value',
    key: 'kieRoles',
    flag: '--kie-roles <file>',
    env: 'KJOBS_KIE_ROLES',
    help: "KIE Server's application-roles.properties (user=role1,role2), with --kie-users",
    commands: SERVE,
    read: (config, text) => (config.kieRoles = text.trim() || undefined),
  },
  {
    kind: 'value',
    key: 'tlsCert',
    flag: '--tls-cert <file>',
    env: 'KJOBS_TLS_CERT',
    help: 'serve HTTPS with this PEM certificate (chain), with --tls-key; reloaded on SIGHUP',
    commands: SERVE,
    read: (config, text) => (config.tlsCert = text.trim() || undefined),
  },
  {
    kind: 'value',
    key: 'tlsKey',
    flag: '--tls-key <file>',
    env: 'KJOBS_TLS_KEY',
    help: 'the PEM private key of --tls-cert (unencrypted); reloaded on SIGHUP',
    commands: SERVE,
    read: (config, text) => (config.tlsKey = text.trim() || undefined),
  },
  {
    kind: 'switch',
    key: 'insecure',
    flag: '--insecure',
    env: 'KJOBS_INSECURE',
    help: 'allow an API without users on a non-loopback address',
    default: false,
    commands: SERVE,
    read: (config, on) => (config.insecure = on),
  },
  {
    kind: 'value',
    key: 'jsonDates',
    flag: '--json-dates <style>',
    env: 'KJOBS_JSON_DATES',
    help:
      'JSON dates: auto (iso for clients generated from the swagger document, kie for the others), ' +
      'kie ({"java.util.Date": ms}) or iso (ISO-8601) for every client',
    default: 'auto',
    choices: JSON_DATES_SETTINGS,
    commands: SERVE,
    read: (config, text, name) => (config.jsonDates = parseOneOf(name, text, JSON_DATES_SETTINGS)),
  },
  {
    kind: 'switch',
    key: 'otel',
    flag: '--otel',
    env: 'KJOBS_OTEL',
    help: 'OpenTelemetry traces over OTLP/HTTP (the OTEL_EXPORTER_OTLP_* variables say where; needs the SDK packages, installed apart)',
    default: false,
    commands: BOTH,
    read: (config, on) => (config.otel = on),
  },
  {
    kind: 'switch',
    key: 'executor',
    flag: '--no-executor',
    env: 'KJOBS_EXECUTOR',
    help: 'serve the API only; other processes run the jobs',
    default: true,
    envHint: '=false',
    commands: SERVE,
    read: (config, on) => (config.executor = on),
  },
  {
    kind: 'value',
    key: 'bodyLimit',
    flag: '--body-limit <size>',
    env: 'KJOBS_BODY_LIMIT',
    help: 'largest request body, e.g. 512kb',
    default: '1mb',
    commands: SERVE,
    read: (config, text, name) => (config.bodyLimit = parseSize(name, text)),
  },
  {
    kind: 'value',
    key: 'allowedHosts',
    flag: '--allowed-hosts <names>',
    env: 'KJOBS_ALLOWED_HOSTS',
    help:
      'without users, Host names answered besides loopback names and IP addresses, comma-separated; ' +
      '*.example.com for subdomains, * for any',
    fileList: true,
    commands: SERVE,
    read: (config, text) => (config.allowedHosts = splitList(text, /,/)),
  },
  {
    kind: 'value',
    key: 'trustProxy',
    flag: '--trust-proxy [hops|addresses]',
    env: 'KJOBS_TRUST_PROXY',
    help:
      'behind reverse proxies: take the client address and host from X-Forwarded-For/-Host, trusting this many ' +
      'proxy hops (the flag alone: 1) or the proxies at these addresses or networks',
    default: 'false',
    shownDefault: 'off',
    fileList: true,
    fileBoolean: true,
    commands: SERVE,
    read: (config, text, name) => (config.trustProxy = parseTrustProxy(name, text)),
  },
  {
    kind: 'value',
    key: 'maxPageSize',
    flag: '--max-page-size <n>',
    env: 'KJOBS_MAX_PAGE_SIZE',
    help: 'largest pageSize a list may ask for',
    default: '10000',
    commands: SERVE,
    read: (config, text, name) => (config.maxPageSize = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'bulkLimit',
    flag: '--bulk-limit <n>',
    env: 'KJOBS_BULK_LIMIT',
    help: "most jobs one bulk cancel or requeue (the console's bulk actions) may change; more: 400, nothing changes",
    default: '1000',
    commands: SERVE,
    read: (config, text, name) => (config.bulkLimit = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'maxDataSize',
    flag: '--max-data-size <size>',
    env: 'KJOBS_MAX_DATA_SIZE',
    help: 'largest request data of a job, also after update-data',
    default: '1mb',
    commands: SERVE,
    read: (config, text, name) => (config.maxDataSize = parseSize(name, text)),
  },
  {
    kind: 'value',
    key: 'maxConnections',
    flag: '--max-connections <n>',
    env: 'KJOBS_MAX_CONNECTIONS',
    help: 'most HTTP connections open at once (per process); more are closed as they come',
    default: '10000',
    commands: SERVE,
    read: (config, text, name) => (config.maxConnections = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'maxParents',
    flag: '--max-parents <n>',
    env: 'KJOBS_MAX_PARENTS',
    help: 'most jobs one job may name in request data dependsOn; more: 400',
    default: '100',
    commands: SERVE,
    read: (config, text, name) => (config.maxParents = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'maxDependencyDepth',
    flag: '--max-dependency-depth <n>',
    env: 'KJOBS_MAX_DEPENDENCY_DEPTH',
    help: 'longest chain of dependsOn parents above a job; deeper: 400',
    default: '1000',
    commands: SERVE,
    read: (config, text, name) => (config.maxDependencyDepth = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'maxDependencyLinks',
    flag: '--max-dependency-links <n>',
    env: 'KJOBS_MAX_DEPENDENCY_LINKS',
    help: 'most dependsOn parents named by all the jobs of one request (a batch) together; more: 400',
    default: '10000',
    commands: SERVE,
    read: (config, text, name) => (config.maxDependencyLinks = parseInteger(name, text, 1)),
  },
  {
    kind: 'value',
    key: 'loginFailures',
    flag: '--login-failures <n>',
    env: 'KJOBS_LOGIN_FAILURES',
    help: 'failed logins per client address and user and minute before 429; 0: no limit',
    default: '10',
    commands: SERVE,
    read: (config, text, name) => (config.loginFailures = parseInteger(name, text, 0)),
  },
  {
    kind: 'value',
    key: 'serverId',
    flag: '--server-id <id>',
    env: 'KJOBS_SERVER_ID',
    help: 'id and name in GET /server',
    default: 'kjobs',
    commands: SERVE,
    read: (config, text) => {
      if (text.trim()) config.serverId = text.trim();
    },
  },
  {
    kind: 'value',
    key: 'location',
    flag: '--location <url>',
    env: 'KJOBS_LOCATION',
    help: 'public URL of .../kie-server/services/rest/server for GET /server',
    shownDefault: 'from the request',
    commands: SERVE,
    read: (config, text) => (config.location = text.trim() || undefined),
  },
  {
    kind: 'value',
    key: 'database',
    flag: '--db <path-or-url>',
    env: 'KJOBS_DATABASE_URL',
    help: 'SQLite file or postgres:// URL',
    default: './data/kjobs.db',
    commands: BOTH,
    read: (config, text, name) => (config.database = nonEmpty(name, text)),
  },
  {
    kind: 'list',
    key: 'containers',
    flag: '--container <ID=MODULE>',
    env: 'KJOBS_CONTAINERS',
    help: 'load a container module; repeatable',
    envHint: '=id=mod,id2=mod2',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [id, module] = parseContainer(item, name);
      config.containers = { ...config.containers, [id]: module };
    },
  },
  {
    kind: 'list',
    key: 'remoteContainers',
    flag: '--remote-container <ID=PATTERN[,PATTERN]>',
    env: 'KJOBS_REMOTE_CONTAINERS',
    help:
      'a container whose commands (names matching the patterns, * for any characters) run in workers elsewhere, ' +
      'over the worker protocol; repeatable',
    envHint: '=billing=com.acme.billing.*;payments=com.acme.pay.*',
    envSeparator: /;/,
    fileObject: true,
    commands: SERVE,
    add: (config, item, name) => {
      const [id, patterns] = parseRemoteContainer(item, name);
      config.remoteContainers = { ...config.remoteContainers, [id]: patterns };
    },
  },
  {
    kind: 'list',
    key: 'workerGrants',
    flag: '--worker-grant <USER=CONTAINER[,CONTAINER]>',
    env: 'KJOBS_WORKER_GRANTS',
    help: 'the remote containers a user with the role worker may serve; repeatable',
    envHint: '=java=billing,payments;py=reports',
    envSeparator: /;/,
    fileObject: true,
    commands: SERVE,
    add: (config, item, name) => {
      const [user, containers] = parseRemoteContainer(item, name, 'USER=CONTAINER[,CONTAINER]');
      config.workerGrants = { ...config.workerGrants, [user]: containers };
    },
  },
  {
    kind: 'value',
    key: 'concurrency',
    flag: '--concurrency <n>',
    env: 'KJOBS_CONCURRENCY',
    help: 'jobs run at once',
    default: '10',
    commands: BOTH,
    read: (config, text, name) => (config.concurrency = parseInteger(name, text, 1, 10_000)),
  },
  {
    kind: 'value',
    key: 'workers',
    flag: '--workers <n>',
    env: 'KJOBS_WORKERS',
    help: 'processes sharing the port, each serving HTTP and running jobs; auto: one per core',
    commandHelp: { worker: 'processes running jobs (kjobs worker serves no HTTP); auto: one per core' },
    default: '1',
    commands: BOTH,
    read: (config, text, name) =>
      (config.workers = text.trim() === 'auto' ? availableParallelism() : parseInteger(name, text, 1, 256)),
  },
  {
    kind: 'value',
    key: 'stopTimeout',
    flag: '--stop-timeout <ms>',
    env: 'KJOBS_STOP_TIMEOUT',
    help: 'on shutdown, time running jobs get to finish',
    default: '10000',
    commands: BOTH,
    read: (config, text, name) => (config.stopTimeoutMs = parseInteger(name, text, 0)),
  },
  {
    kind: 'value',
    key: 'heartbeat',
    flag: '--heartbeat <duration>',
    env: 'KJOBS_HEARTBEAT',
    help: "leases are renewed every half heartbeat and last 1.5: a dead worker's jobs run again within 2 heartbeats",
    default: '5s',
    commands: BOTH,
    read: (config, text, name) => {
      config.heartbeatMs = parseDuration(name, text);
      if (config.heartbeatMs < 100) throw new ConfigError(`${name} must be at least 100 ms, got ${text}`);
    },
  },
  {
    kind: 'value',
    key: 'url',
    flag: '--url <url>',
    env: 'KJOBS_URL',
    help:
      "a kjobs server's REST root (a bare origin gets /kie-server/services/rest): run its remote containers' jobs " +
      'over the worker protocol, instead of opening --db',
    commands: WORKER,
    read: (config, text, name) => {
      config.url = parseRestRoot(text, name);
    },
  },
  {
    kind: 'value',
    key: 'user',
    flag: '--user <name>',
    env: 'KJOBS_USER',
    help: 'with --url: the user to sign in as (a user with the role worker, granted the containers)',
    commands: WORKER,
    read: (config, text, name) => {
      config.user = nonEmpty(name, text);
    },
  },
  {
    kind: 'value',
    key: 'password',
    flag: '--password <password>',
    env: 'KJOBS_PASSWORD',
    help: "with --url: the user's password; prefer the variable (a flag shows in the process list)",
    commands: WORKER,
    read: (config, text) => {
      config.password = text;
    },
  },
  {
    kind: 'value',
    key: 'caFile',
    flag: '--ca-file <file>',
    env: 'KJOBS_CA_FILE',
    help: "with --url https://: trust this PEM CA (the server's private CA) besides the system's",
    commands: WORKER,
    read: (config, text, name) => {
      config.caFile = nonEmpty(name, text);
    },
  },
  {
    kind: 'value',
    key: 'nodeId',
    flag: '--node-id <name>',
    env: 'KJOBS_NODE_ID',
    help: "this node's name, kept across restarts: a restarted node rescues its earlier run's jobs at once",
    shownDefault: 'the host name',
    commands: BOTH,
    read: (config, text, name) => {
      try {
        config.nodeId = checkNodeId(text.trim());
      } catch (error) {
        throw new ConfigError(`${name}: ${(error as Error).message}`);
      }
    },
  },
  {
    kind: 'value',
    key: 'leaseMs',
    flag: '--lease-ms <ms>',
    env: 'KJOBS_LEASE_MS',
    help: 'lease of a running job, renewed every third of it (given, it sets the heartbeat to 2/3 of it)',
    shownDefault: '1.5 heartbeats',
    commands: BOTH,
    read: (config, text, name) => (config.leaseMs = parseInteger(name, text, 150)),
  },
  {
    kind: 'value',
    key: 'retention',
    flag: '--retention <duration>',
    env: 'KJOBS_RETENTION',
    help: 'delete finished jobs older than this, e.g. 7d',
    default: '0',
    shownDefault: 'keep them',
    commands: BOTH,
    read: (config, text, name) => (config.retentionMs = parseDuration(name, text)),
  },
  {
    kind: 'value',
    key: 'defaultTimeout',
    flag: '--default-timeout <duration>',
    env: 'KJOBS_DEFAULT_TIMEOUT',
    help: 'timeout of jobs whose data names none, e.g. 5m',
    default: '0',
    shownDefault: 'none',
    commands: BOTH,
    read: (config, text, name) => (config.defaultTimeoutMs = parseDuration(name, text)),
  },
  {
    kind: 'list',
    key: 'limits',
    flag: '--limit <COMMAND=N>',
    env: 'KJOBS_LIMITS',
    help: 'at most N jobs of a command at once, across all nodes; repeatable',
    envHint: '=cmd=2,cmd2=1',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [command, limit] = parseLimit(name, item);
      config.limits = { ...config.limits, commands: { ...config.limits.commands, [command]: limit } };
    },
  },
  {
    kind: 'list',
    key: 'containerLimits',
    flag: '--container-limit <ID=N>',
    env: 'KJOBS_CONTAINER_LIMITS',
    help: 'at most N jobs of a container at once, across all nodes; repeatable',
    envHint: '=id=4',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [container, limit] = parseLimit(name, item);
      config.limits = { ...config.limits, containers: { ...config.limits.containers, [container]: limit } };
    },
  },
  {
    kind: 'list',
    key: 'rateLimits',
    flag: '--rate-limit <COMMAND=N/PERIOD>',
    env: 'KJOBS_RATE_LIMITS',
    help: 'at most N starts of a command per period (e.g. 20/1s), across all nodes; repeatable',
    envHint: '=cmd=20/1s,cmd2=100/1m',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [command, rate] = parseRateLimit(name, item);
      config.rateLimits = {
        ...config.rateLimits,
        commands: { ...config.rateLimits.commands, [command]: rate },
      };
    },
  },
  {
    kind: 'list',
    key: 'containerRateLimits',
    flag: '--container-rate-limit <ID=N/PERIOD>',
    env: 'KJOBS_CONTAINER_RATE_LIMITS',
    help: "at most N starts of a container's jobs per period, across all nodes; repeatable",
    envHint: '=id=50/1s',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [container, rate] = parseRateLimit(name, item);
      config.rateLimits = {
        ...config.rateLimits,
        containers: { ...config.rateLimits.containers, [container]: rate },
      };
    },
  },
  {
    kind: 'list',
    key: 'keyLimits',
    flag: '--key-limit <N|COMMAND=N>',
    env: 'KJOBS_KEY_LIMITS',
    help: 'at most N running jobs per value of the request-data key concurrencyKey (of a command with COMMAND=N); repeatable',
    envHint: '=2,cmd=1',
    envSeparator: /,/,
    fileObject: true,
    commands: BOTH,
    add: (config, item, name) => {
      const [command, limit] = parseKeyLimit(name, item);
      config.keyLimits =
        command === null
          ? { ...config.keyLimits, all: limit }
          : { ...config.keyLimits, commands: { ...config.keyLimits.commands, [command]: limit } };
    },
  },
  {
    kind: 'value',
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'KJOBS_LOG_LEVEL',
    help: 'log level',
    default: 'info',
    choices: LOG_LEVELS,
    commands: BOTH,
    read: (config, text, name) => (config.logLevel = parseOneOf(name, text, LOG_LEVELS)),
  },
  {
    kind: 'value',
    key: 'logFormat',
    flag: '--log-format <format>',
    env: 'KJOBS_LOG_FORMAT',
    help: 'log lines: pretty (readable) or json',
    shownDefault: 'pretty on a terminal, else json',
    choices: LOG_FORMATS,
    commands: BOTH,
    read: (config, text, name) => (config.logFormat = parseOneOf(name, text, LOG_FORMATS)),
  },
];

/** The property commander gives a flag: `--container-limit` → containerLimit, `--no-executor` → executor. */
export function flagProperty(setting: Setting): string {
  const long = setting.flag.split(' ')[0]!.replace(/^--(no-)?/, '');
  return long.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The flag's name alone: `--port`. */
export function flagName(setting: Setting): string {
  return setting.flag.split(' ')[0]!;
}

/** The help line of the setting's flag on `command`: its help, its default and its variable. */
export function helpOf(setting: Setting, command: CommandName = 'serve'): string {
  const shown = setting.kind === 'value' ? (setting.shownDefault ?? setting.default) : undefined;
  const shownDefault = shown !== undefined ? ` (default ${shown})` : '';
  const help = setting.commandHelp?.[command] ?? setting.help;
  return `${help}${shownDefault} [${setting.env}${setting.envHint ?? ''}]`;
}
