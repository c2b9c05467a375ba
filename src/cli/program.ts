/** The `kjobs` command line: `kjobs serve` and `kjobs worker`. */
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, describeConfig, loadConfig, type Config, type ConfigFlags } from '../config/config.js';
import { helpOf, SETTINGS, type CommandName } from '../config/settings.js';
import { KJOBS_VERSION } from '../version.js';
import { isClusterWorker, leaveCluster, superviseWorkers } from './cluster.js';
import { createLogger, defaultLogFormat } from './log-format.js';
import { serve, stopOnSignals, worker, type Stoppable } from './run.js';
import { startFailureMessage } from './start-failure.js';
import { exitOnUsageError } from './usage-exit.js';

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

/** The flags of a command, one per setting it takes, and `--config`. */
function settingOptions(command: Command, name: CommandName): Command {
  for (const setting of SETTINGS.filter((candidate) => candidate.commands.includes(name))) {
    const option = new Option(setting.flag, helpOf(setting, name));
    if (setting.kind === 'list') option.argParser(collect);
    if (setting.choices) option.choices(setting.choices);
    command.addOption(option);
  }
  return command.option(
    '--config <file>',
    'read settings from a JSON file; variables and flags win over it [KJOBS_CONFIG]',
  );
}

type Start = (config: Config, logger: Logger) => Promise<Stoppable>;

async function start(command: Command, run: Start, env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadConfig(env, givenFlags(command), command.name() as CommandName);
  } catch (error) {
    if (error instanceof ConfigError) command.error(`kjobs: ${error.message}`, { exitCode: 2 });
    throw error;
  }
  const logger = createLogger(config.logLevel, config.logFormat ?? defaultLogFormat());
  if (!isClusterWorker()) {
    logger.info({ config: describeConfig(config), version: KJOBS_VERSION }, 'kjobs configuration');
    if (config.workers > 1) {
      process.exitCode = await superviseWorkers(config.workers, logger, {
        relayHangup: Boolean(config.tlsCert || config.usersFile || config.kieUsers),
      });
      return;
    }
  }
  try {
    const running = await run(config, logger);
    stopOnSignals(running, logger, config.stopTimeoutMs);
  } catch (error) {
    logger.debug({ err: error }, 'kjobs could not start');
    logger.fatal(`kjobs could not start: ${startFailureMessage(error, config)}`);
    logger.flush?.();
    process.exitCode = 1;
    leaveCluster();
  }
}

export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  // Set before any subcommand is added: they inherit it (an unknown flag of kjobs serve exits 2, as of kjobs jobs).
  const program = new Command('kjobs')
    .description('Asynchronous jobs service speaking the KIE Server (jBPM) jobs REST API')
    .version(KJOBS_VERSION)
    .exitOverride(exitOnUsageError);

  settingOptions(
    program.command('serve').description('serve the KIE jobs REST API, and run jobs unless --no-executor'),
    'serve',
  ).action(async (_options, command: Command) => start(command, serve, env));

  settingOptions(
    program
      .command('worker')
      .description('run jobs without HTTP, sharing the store with other kjobs processes'),
    'worker',
  ).action(async (_options, command: Command) => start(command, worker, env));

  return program;
}
