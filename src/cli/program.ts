/** The `kjobs` command line: `kjobs serve` and `kjobs worker`. */
import { Command, Option } from 'commander';
import { ConfigError, describeConfig, loadConfig, type ConfigFlags } from '../config/config.js';
import { KJOBS_VERSION } from '../version.js';
import { createLogger, defaultLogFormat } from './log-format.js';
import { serve, stopOnSignals, worker } from './run.js';
import { startFailureMessage } from './start-failure.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Only the flags given on the command line, so that the environment fills the rest. */
function givenFlags(command: Command): ConfigFlags {
  const options = command.opts<Record<string, unknown>>();
  return Object.fromEntries(
    Object.keys(options)
      .filter((key) => command.getOptionValueSource(key) === 'cli')
      .map((key) => [key, options[key]]),
  ) as ConfigFlags;
}

function storeOptions(command: Command): Command {
  return command
    .option(
      '--db <path-or-url>',
      'SQLite file (default ./data/kjobs.db) or postgres:// URL [KJOBS_DATABASE_URL]',
    )
    .option(
      '--container <ID=MODULE>',
      'load a container module; repeatable [KJOBS_CONTAINERS=id=mod,id2=mod2]',
      collect,
    )
    .option('--concurrency <n>', 'jobs run at once (default 10) [KJOBS_CONCURRENCY]')
    .option(
      '--stop-timeout <ms>',
      'on shutdown, time running jobs get to finish (default 10000) [KJOBS_STOP_TIMEOUT]',
    )
    .option(
      '--lease-ms <ms>',
      "lease of a running job; a crashed worker's jobs run again after it (default 30000) [KJOBS_LEASE_MS]",
    )
    .option(
      '--retention <duration>',
      'delete finished jobs older than this, e.g. 7d (default: keep them) [KJOBS_RETENTION]',
    )
    .option(
      '--default-timeout <duration>',
      'timeout of jobs whose data names none, e.g. 5m (default none) [KJOBS_DEFAULT_TIMEOUT]',
    )
    .option(
      '--limit <COMMAND=N>',
      'at most N jobs of a command at once, across all nodes; repeatable [KJOBS_LIMITS=cmd=2,cmd2=1]',
      collect,
    )
    .option(
      '--container-limit <ID=N>',
      'at most N jobs of a container at once, across all nodes; repeatable [KJOBS_CONTAINER_LIMITS=id=4]',
      collect,
    )
    .addOption(
      new Option('--log-level <level>', 'log level (default info) [KJOBS_LOG_LEVEL]').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines: pretty (readable) or json (default: pretty on a terminal, else json) [KJOBS_LOG_FORMAT]',
      ).choices(['pretty', 'json']),
    );
}

type Start = typeof serve;

async function start(command: Command, run: Start, env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadConfig(env, givenFlags(command));
  } catch (error) {
    if (error instanceof ConfigError) command.error(`kjobs: ${error.message}`, { exitCode: 2 });
    throw error;
  }
  const logger = createLogger(config.logLevel, config.logFormat ?? defaultLogFormat());
  logger.info({ config: describeConfig(config), version: KJOBS_VERSION }, 'kjobs configuration');
  try {
    const running = await run(config, logger);
    stopOnSignals(running, logger);
  } catch (error) {
    logger.debug({ err: error }, 'kjobs could not start');
    logger.fatal(`kjobs could not start: ${startFailureMessage(error, config)}`);
    logger.flush?.();
    process.exitCode = 1;
  }
}

export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('kjobs')
    .description('Asynchronous jobs service speaking the KIE Server (jBPM) jobs REST API')
    .version(KJOBS_VERSION);

  storeOptions(
    program
      .command('serve')
      .description('serve the KIE jobs REST API, and run jobs unless --no-executor')
      .option('--port <port>', 'HTTP port, 0 for any free port (default 8080) [KJOBS_PORT]')
      .option('--host <host>', 'address to listen on (default 127.0.0.1) [KJOBS_HOST]')
      .option(
        '--user <NAME:PASSWORD[:ROLES]>',
        'API user, roles comma-separated (default kie-server); repeatable [KJOBS_USERS, ;-separated]',
        collect,
      )
      .option('--insecure', 'allow an API without users on a non-loopback address [KJOBS_INSECURE]')
      .option(
        '--allowed-hosts <names>',
        'without users, Host names answered besides loopback names and IP addresses, comma-separated; ' +
          '*.example.com for subdomains, * for any [KJOBS_ALLOWED_HOSTS]',
      )
      .option(
        '--trust-proxy',
        'behind a reverse proxy: take the client address and host from X-Forwarded-For/-Host [KJOBS_TRUST_PROXY]',
      )
      .addOption(
        new Option(
          '--json-dates <style>',
          'JSON dates: auto (default: iso for clients generated from the swagger document, kie for the others), ' +
            'kie ({"java.util.Date": ms}) or iso (ISO-8601) for every client [KJOBS_JSON_DATES]',
        ).choices(['auto', 'kie', 'iso']),
      )
      .option('--no-executor', 'serve the API only; other processes run the jobs [KJOBS_EXECUTOR=false]')
      .option('--body-limit <size>', 'largest request body, e.g. 1mb (default) [KJOBS_BODY_LIMIT]')
      .option(
        '--max-page-size <n>',
        'largest pageSize a list may ask for (default 10000) [KJOBS_MAX_PAGE_SIZE]',
      )
      .option(
        '--max-data-size <size>',
        'largest request data of a job, also after update-data (default 1mb) [KJOBS_MAX_DATA_SIZE]',
      )
      .option(
        '--login-failures <n>',
        'failed logins per client address and user and minute before 429; 0: no limit (default 10) [KJOBS_LOGIN_FAILURES]',
      )
      .option('--server-id <id>', 'id and name in GET /server (default kjobs) [KJOBS_SERVER_ID]')
      .option(
        '--location <url>',
        'public URL of .../kie-server/services/rest/server for GET /server [KJOBS_LOCATION]',
      ),
  ).action(async (_options, command: Command) => start(command, serve, env));

  storeOptions(
    program
      .command('worker')
      .description('run jobs without HTTP, sharing the store with other kjobs processes'),
  ).action(async (_options, command: Command) => start(command, worker, env));

  return program;
}
