/**
 * `kjobs jobs ...`: the jobs API from the command line, built on kjobs/client. Human tables by default, `--json` for
 * scripts; the exit code tells what happened (see JOBS_EXIT_CODES).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import {
  ApiError,
  ConnectionError,
  JOB_STATUSES,
  type BulkResult,
  KieJobsClient,
  readDate,
  type DataMap,
  type DataValue,
  type JobDependencies,
  type JobLink,
  type JobProgress,
  type JobStatus,
  type KieContainerResource,
  type RequestInfoInstance,
  type WireFormat,
} from '../client/index.js';
import { fetchWithCa } from '../client-node/index.js';
import { colorsOn, paintStatus } from './colors.js';
import { exitOnUsageError, USAGE_EXIT_CODE } from './usage-exit.js';

/** Exit codes of `kjobs jobs ...`. */
export const JOBS_EXIT_CODES = {
  /** The operation succeeded. */
  ok: 0,
  /** Any other failure: server error, refused input (400), server unreachable, timeout. */
  failure: 1,
  /** Usage error: unknown option, missing or malformed argument; nothing was sent. */
  usage: USAGE_EXIT_CODE,
  /** The job (or container) does not exist (HTTP 404). */
  notFound: 3,
  /** The job is in a state that does not allow the operation (HTTP 409, e.g. cancelling a DONE job). */
  conflict: 4,
  /** Authentication failed or is missing (HTTP 401 or 403). */
  unauthorized: 5,
} as const;

/** Where the REST API is when neither --url nor KJOBS_URL says. */
const DEFAULT_URL = 'http://127.0.0.1:8080/kie-server/services/rest';
const REST_ROOT = '/kie-server/services/rest';

/** Output streams and environment, replaceable in tests. */
export interface JobsIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `out` is a terminal that takes colours (see colorsOn). */
  colors?: boolean;
}

interface ConnectionFlags {
  url?: string;
  user?: string;
  password?: string;
  caFile?: string;
  format?: WireFormat;
  timeout?: string;
  json?: boolean;
  /** Not a flag: whether the output gets colours (a terminal, no --json, no NO_COLOR); set by the runner. */
  colors?: boolean;
}

class UsageError extends Error {}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function connectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `REST root of kjobs or KIE Server [KJOBS_URL] (default ${DEFAULT_URL})`)
    .option('--user <name>', 'basic-auth user [KJOBS_USER]')
    .option('--password <password>', 'basic-auth password; prefer KJOBS_PASSWORD [KJOBS_PASSWORD]')
    .option('--ca-file <file>', "trust this PEM CA for https:// (a server's private CA) [KJOBS_CA_FILE]")
    .addOption(new Option('--format <format>', 'wire format (default json)').choices(['json', 'xml']))
    .option('--timeout <ms>', 'give up after this many milliseconds (default 30000)')
    .option('--json', 'print JSON for scripts instead of tables');
}

/** The REST root from --url, KJOBS_URL or the default; a bare origin gets KIE's `/kie-server/services/rest`. */
function restRoot(url: string | undefined): string {
  const text = url?.trim() || DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`--url is not a URL: ${text}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url must be http:// or https://: ${text}`);
  }
  return parsed.pathname === '/' ? `${parsed.origin}${REST_ROOT}` : text;
}

function clientOf(flags: ConnectionFlags, env: NodeJS.ProcessEnv): KieJobsClient {
  const timeout = flags.timeout ?? '30000';
  if (!/^\d+$/.test(timeout) || Number(timeout) === 0)
    throw new UsageError(`--timeout must be milliseconds > 0: ${timeout}`);
  const user = flags.user ?? env.KJOBS_USER;
  const password = flags.password ?? env.KJOBS_PASSWORD;
  const caFile = flags.caFile ?? env.KJOBS_CA_FILE;
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new UsageError(`--ca-file ${caFile}: ${(error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(`--ca-file ${caFile} holds no PEM certificate`);
  }
  return new KieJobsClient({
    baseUrl: restRoot(flags.url ?? env.KJOBS_URL),
    format: flags.format ?? 'json',
    timeoutMs: Number(timeout),
    ...(user ? { user, password: password ?? '' } : {}),
    ...(ca ? { fetch: fetchWithCa({ ca }) } : {}),
  });
}

function jobId(text: string, what = 'job id'): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new UsageError(`Not a ${what}: ${text}`);
  return Number(text);
}

function whole(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number >= 0: ${text}`);
  return Number(text);
}

function statuses(values: string[] | undefined): JobStatus[] | undefined {
  if (!values) return undefined;
  const list = values.flatMap((value) => value.split(',')).map((value) => value.trim().toUpperCase());
  for (const status of list) {
    if (!JOB_STATUSES.includes(status as JobStatus)) {
      throw new UsageError(`Unknown status ${status}: use ${JOB_STATUSES.join(', ')}`);
    }
  }
  return list as JobStatus[];
}

/** `--data` (a JSON object, or `@file` holding one) merged with `--set key=value` strings. */
function dataOf(options: { data?: string; set?: string[] }): DataMap {
  let data: DataMap = {};
  if (options.data !== undefined) {
    let text = options.data;
    if (text.startsWith('@')) {
      try {
        text = readFileSync(text.slice(1), 'utf8');
      } catch (error) {
        throw new UsageError(`--data ${options.data}: ${(error as Error).message}`);
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`--data is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError('--data must be a JSON object, e.g. \'{"businessKey": "k1", "retries": 0}\'');
    }
    data = parsed as DataMap;
  }
  for (const pair of options.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set needs KEY=VALUE: ${pair}`);
    data[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function dateText(date: Date | null | undefined): string {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : '-';
}

function valueText(value: DataValue | undefined): string {
  return JSON.stringify(value, (_key, item: unknown) => item) ?? 'null';
}

/** Columns padded to their widest cell; `paint` colours a body cell (its padding stays outside the colour). */
function table(
  header: string[],
  rows: string[][],
  paint: (cell: string, column: number) => string = (cell) => cell,
): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[], body: boolean) =>
    cells
      .map((cell, column) => {
        const padding = column === cells.length - 1 ? '' : ' '.repeat((widths[column] ?? 0) - cell.length);
        return (body ? paint(cell, column) : cell) + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(header, false), ...rows.map((row) => line(row, true))].join('\n') + '\n';
}

function jobRows(jobs: RequestInfoInstance[], colors = false): string {
  return table(
    ['ID', 'STATUS', 'COMMAND', 'BUSINESS KEY', 'CONTAINER', 'RETRIES', 'EXECUTIONS', 'SCHEDULED'],
    jobs.map((job) => [
      String(job.requestInstanceId),
      job.requestStatus,
      job.requestCommand,
      job.requestBusinessKey ?? '-',
      job.requestContainerId ?? '-',
      String(job.requestRetries),
      String(job.requestExecutions),
      dateText(job.requestScheduledDate),
    ]),
    (cell, column) => (column === 1 ? paintStatus(cell, cell, colors) : cell),
  );
}

/** The lines of `kjobs jobs get`: the job's fields, kjobs' progress and dependencies, then its errors. */
function jobDetails(
  job: RequestInfoInstance,
  progress: JobProgress | undefined,
  links: JobDependencies | undefined,
  colors = false,
): string {
  const rows: [string, string][] = [
    ['Job', String(job.requestInstanceId)],
    ['Status', paintStatus(job.requestStatus, job.requestStatus, colors)],
    ['Command', job.requestCommand],
    ['Business key', job.requestBusinessKey ?? '-'],
    ['Container', job.requestContainerId ?? '-'],
    ['Retries left', String(job.requestRetries)],
    ['Executions', String(job.requestExecutions)],
    ['Scheduled', dateText(job.requestScheduledDate)],
    ['Message', job.requestMessage ?? '-'],
  ];
  if (job.requestData) rows.push(['Request data', valueText(job.requestData)]);
  if (job.responseData) rows.push(['Response data', valueText(job.responseData)]);
  rows.push(...extensionRows(progress, links));
  const errors = job.requestErrors?.errorInfoInstance;
  if (errors?.length === 0) rows.push(['Errors', 'none']);
  // One column for every value, however long the longest label is.
  const width = Math.max(...rows.map(([name]) => name.length));
  let text = rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n') + '\n';
  if (errors && errors.length > 0) {
    text += `Errors (${errors.length}):\n`;
    for (const error of errors) {
      text += `  #${error.errorInstanceId}  ${dateText(error.errorDate)}  ${error.errorMessage ?? '(no message)'}\n`;
    }
  }
  return text;
}

/** Progress and dependencies of `kjobs jobs get`, when the server has them (kjobs extensions). */
function extensionRows(
  progress: JobProgress | undefined,
  links: JobDependencies | undefined,
): [string, string][] {
  const rows: [string, string][] = [];
  if (progress && (progress.value !== null || progress.data !== null)) {
    const parts = [
      progress.value !== null ? `${progress.value}%` : '',
      progress.data !== null ? JSON.stringify(progress.data) : '',
      progress.updatedAt ? `(at ${progress.updatedAt.toISOString()})` : '',
    ];
    rows.push(['Progress', parts.filter((part) => part !== '').join(' ')]);
  }
  const list = (jobs: JobLink[]) =>
    jobs.map((link) => `#${link.id} ${link.status}${link.waiting ? ' (waiting)' : ''}`).join(', ');
  if (links && links.parents.length > 0) {
    const waiting = links.waitingFor > 0 ? ` (waiting for ${links.waitingFor})` : '';
    rows.push(['Depends on', `${list(links.parents)}${waiting}`]);
  }
  if (links && links.children.length > 0) rows.push(['Children', list(links.children)]);
  return rows;
}

function containerRows(containers: KieContainerResource[]): string {
  return table(
    ['CONTAINER', 'STATUS', 'RELEASE', 'COMMANDS'],
    containers.map((container) => {
      const release = container.releaseId;
      return [
        container.containerId,
        container.status,
        release ? [release.groupId, release.artifactId, release.version].join(':') : '-',
        container.commands.length > 0 ? container.commands.join(', ') : '-',
      ];
    }),
  );
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

/** Exit code and message of a failure. */
function exitCodeOf(error: unknown): number {
  // The client throws TypeError for arguments it cannot send (before any request).
  if (error instanceof UsageError || error instanceof TypeError) return JOBS_EXIT_CODES.usage;
  if (error instanceof ApiError) {
    if (error.status === 404) return JOBS_EXIT_CODES.notFound;
    if (error.status === 409) return JOBS_EXIT_CODES.conflict;
    if (error.status === 401 || error.status === 403) return JOBS_EXIT_CODES.unauthorized;
  }
  return JOBS_EXIT_CODES.failure;
}

type Action = (client: KieJobsClient, flags: ConnectionFlags, ...args: string[]) => Promise<string>;
type Runner = (action: Action) => (...args: unknown[]) => Promise<void>;

/**
 * Registers `jobs` and its commands (schedule, get, list, cancel, requeue, update-data), and `containers`, on
 * `program`, and answers `program`. Usage errors exit with 2, whatever commander's own code.
 */
export function registerJobsCommand(
  program: Command,
  io: JobsIo = {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    colors: colorsOn(process.stdout, process.env),
  },
): Command {
  const usageExit = exitOnUsageError;
  const jobs = program
    .command('jobs')
    .description(
      'call the jobs API of kjobs or KIE Server: schedule, get, list, cancel, requeue, update-data\n' +
        'exit codes: 0 ok, 1 failure, 2 usage error, 3 job not found, 4 wrong state (409), 5 authentication failed',
    )
    .exitOverride(usageExit);

  const run = runnerOf(io);
  scheduleCommand(jobs, run);
  getCommand(jobs, run);
  listCommand(jobs, run);
  cancelCommand(jobs, run);
  requeueCommand(jobs, run);
  updateDataCommand(jobs, run);
  containersCommand(program, run, usageExit);
  statusCommand(program, run, usageExit);
  flowControlCommand(program, run, usageExit, 'pause');
  flowControlCommand(program, run, usageExit, 'resume');
  return program;
}

/** Connection errors about the certificate (self-signed, unknown issuer, names that do not match). */
const UNTRUSTED_CERTIFICATE = /certificate/i;

/** Wraps a subcommand's action: builds the client, prints the answer, and turns a failure into a message and exit code. */
function runnerOf(io: JobsIo): Runner {
  return (action: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const flags = command.opts<ConnectionFlags & Record<string, unknown>>();
      flags.colors = Boolean(io.colors) && !flags.json;
      const positional = args.slice(0, -2).filter((arg): arg is string => typeof arg === 'string');
      try {
        const client = clientOf(flags, io.env);
        io.out(await action(client, flags, ...positional));
      } catch (error) {
        const code = exitCodeOf(error);
        const message = error instanceof Error ? error.message : String(error);
        if (flags.json) {
          const status = error instanceof ApiError ? error.status : null;
          io.err(JSON.stringify({ error: message, status, exitCode: code }) + '\n');
        } else {
          const suffix = error instanceof ApiError ? ` (HTTP ${error.status})` : '';
          io.err(`kjobs: ${message}${suffix}\n`);
          if (error instanceof ConnectionError && UNTRUSTED_CERTIFICATE.test(message))
            io.err(
              "kjobs: the server's certificate is not trusted: give its CA with --ca-file FILE " +
                '(KJOBS_CA_FILE) or NODE_EXTRA_CA_CERTS=FILE\n',
            );
        }
        if (!(error instanceof UsageError || error instanceof ApiError || error instanceof ConnectionError)) {
          if (error instanceof Error && error.stack && io.env.KJOBS_DEBUG) io.err(error.stack + '\n');
        }
        process.exitCode = code;
      }
    };
}

/** `kjobs jobs schedule COMMAND`: schedules a job and prints its id. */
function scheduleCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('schedule')
      .description('schedule a job; prints its id')
      .argument('<command>', 'command to run, e.g. org.jbpm.executor.commands.PrintOutCommand')
      .option('--data <json>', 'request data: a JSON object, or @FILE holding one')
      .option('--set <key=value>', 'a request data entry (a string); repeatable', collect)
      .option('--key <businessKey>', 'business key (request data businessKey)')
      .option('--at <date>', 'when to run it: ISO-8601 or epoch milliseconds (default now)')
      .option('--container <id>', 'container (KIE deployment) of the job'),
  ).action(
    run(async (client, flags, command = '') => {
      const options = flags as ConnectionFlags & {
        data?: string;
        set?: string[];
        key?: string;
        at?: string;
        container?: string;
      };
      const requestData = dataOf(options);
      if (options.key !== undefined) requestData.businessKey = options.key;
      let scheduledDate: Date | null = null;
      if (options.at !== undefined) {
        try {
          scheduledDate = readDate(options.at, '--at');
        } catch {
          throw new UsageError(
            `--at is not a date: ${options.at} (ISO-8601 like 2030-01-01T09:00:00Z, or epoch ms)`,
          );
        }
      }
      const id = await client.scheduleRequest(
        { jobCommand: command, scheduledDate, requestData },
        options.container !== undefined ? { containerId: options.container } : {},
      );
      return flags.json ? json({ id }) : `Scheduled job ${id}\n`;
    }),
  );
}

/** `kjobs jobs get ID`: shows a job, with its data and errors. */
function getCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('get')
      .description('show a job, with its data and errors')
      .argument('<jobId>', 'job id')
      .option('--no-data', 'leave out request and response data')
      .option('--no-errors', 'leave out the errors of failed runs'),
  ).action(
    run(async (client, flags, id = '') => {
      const options = flags as ConnectionFlags & { data: boolean; errors: boolean };
      const job = await client.getRequestById(jobId(id), {
        withData: options.data,
        withErrors: options.errors,
      });
      // kjobs extensions (KIE Server has neither: then the KIE fields alone).
      const [progress, links] = await Promise.all([
        client.getJobProgress(job.requestInstanceId).catch(() => undefined),
        client.getJobDependencies(job.requestInstanceId).catch(() => undefined),
      ]);
      if (flags.json) {
        return json({ ...job, ...(progress && { progress }), ...(links && { dependencies: links }) });
      }
      return jobDetails(job, progress, links, flags.colors);
    }),
  );
}

/** `kjobs jobs list`: lists jobs by status, business key, command, container or process instance. */
function listCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('list')
      .description(
        'list jobs: by status (default QUEUED, newest first), or by --key, --command (all statuses), ' +
          '--container or --process-instance (QUEUED)',
      )
      .option('--status <status>', `${JOB_STATUSES.join(', ')}; repeatable or comma-separated`, collect)
      .option('--key <businessKey>', 'jobs with this business key')
      .option('--command <command>', 'jobs of this command')
      .option('--container <id>', 'jobs of this container')
      .option('--process-instance <id>', 'jobs of this process instance')
      .option('--page <n>', 'page, from 0 (default 0)')
      .option('--page-size <n>', 'jobs per page (default 10)'),
  ).action(
    run(async (client, flags) => {
      const options = flags as ConnectionFlags & {
        status?: string[];
        key?: string;
        command?: string;
        container?: string;
        processInstance?: string;
        page?: string;
        pageSize?: string;
      };
      const filters = (['key', 'command', 'container', 'processInstance'] as const).filter(
        (name) => options[name] !== undefined,
      );
      if (filters.length > 1) {
        throw new UsageError('Give at most one of --key, --command, --container and --process-instance');
      }
      const status = statuses(options.status);
      const page = whole(options.page, '--page');
      const pageSize = whole(options.pageSize, '--page-size');
      const paging = {
        ...(page !== undefined ? { page } : {}),
        ...(pageSize !== undefined ? { pageSize } : {}),
      };
      const listOptions = { ...paging, ...(status ? { status } : {}) };
      let list;
      if (options.key !== undefined) list = await client.getRequestsByBusinessKey(options.key, listOptions);
      else if (options.command !== undefined)
        list = await client.getRequestsByCommand(options.command, listOptions);
      else if (options.container !== undefined)
        list = await client.getRequestsByContainer(options.container, listOptions);
      else if (options.processInstance !== undefined) {
        const pid = jobId(options.processInstance, 'process instance id');
        list = await client.getRequestsByProcessInstance(pid, listOptions);
      } else list = await client.getRequestsByStatus(status, paging);
      const found = list.requestInfoInstance;
      if (flags.json) return json(found);
      return found.length === 0 ? 'No jobs.\n' : jobRows(found, flags.colors);
    }),
  );
}

/** `kjobs jobs cancel ID`: cancels a job. */
function cancelCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('cancel')
      .description('cancel a QUEUED, RETRYING or ERROR job (with --running, a RUNNING one too)')
      .argument('<jobId>', 'job id')
      .option('--running', 'also cancel a RUNNING job: its command is told to stop (a kjobs extension)'),
  ).action(
    run(async (client, flags, id = '') => {
      const job = jobId(id);
      if ((flags as ConnectionFlags & { running?: boolean }).running) {
        const answer = await client.cancelJob(job);
        return flags.json
          ? json({ id: job, result: 'cancelled', previousStatus: answer.previousStatus })
          : `Cancelled job ${job} (it was ${answer.previousStatus})\n`;
      }
      await client.cancelRequest(job);
      return flags.json ? json({ id: job, result: 'cancelled' }) : `Cancelled job ${job}\n`;
    }),
  );
}

/**
 * `kjobs jobs requeue ID`: puts a job back to QUEUED (KIE's requeueRequest). `kjobs jobs requeue --status ERROR
 * [--command C] [--container ID] [--key K] [--process-instance N]`: the jobs of a filter at once, ERROR ones unless
 * --status says otherwise (kjobs' bulk requeue, at most the server's --bulk-limit).
 */
function requeueCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('requeue')
      .description(
        'put a job that is not DONE or CANCELLED back to QUEUED; or, with a filter instead of an id, every ' +
          'job it matches (ERROR ones unless --status says otherwise; kjobs only)',
      )
      .argument('[jobId]', 'job id')
      .option('--status <status>', `with a filter: ${JOB_STATUSES.join(', ')} (default ERROR)`, collect)
      .option('--command <command>', 'requeue the jobs of this command')
      .option('--container <id>', 'requeue the jobs of this container')
      .option('--key <businessKey>', 'requeue the jobs with this business key')
      .option('--process-instance <id>', 'requeue the jobs of this process instance'),
  ).action(
    run(async (client, flags, id) => {
      const options = flags as ConnectionFlags & {
        status?: string[];
        command?: string;
        container?: string;
        key?: string;
        processInstance?: string;
      };
      const filtered = (['status', 'command', 'container', 'key', 'processInstance'] as const).some(
        (name) => options[name] !== undefined,
      );
      if (id !== undefined && filtered) throw new UsageError('Give a job id or a filter, not both');
      if (id === undefined) {
        if (!filtered) {
          throw new UsageError(
            'Give a job id, or a filter: --status ERROR, --command, --container, --key, --process-instance',
          );
        }
        const status = statuses(options.status);
        const result = await client.requeueJobs({
          ...(status ? { status } : {}),
          ...(options.command !== undefined ? { command: options.command } : {}),
          ...(options.container !== undefined ? { containerId: options.container } : {}),
          ...(options.key !== undefined ? { businessKey: options.key } : {}),
          ...(options.processInstance !== undefined
            ? { processInstanceId: jobId(options.processInstance, 'process instance id') }
            : {}),
        });
        return flags.json ? json(result) : bulkText('Requeued', result, flags.colors);
      }
      const job = jobId(id);
      await client.requeueRequest(job);
      return flags.json ? json({ id: job, result: 'requeued' }) : `Requeued job ${job}\n`;
    }),
  );
}

/** What a bulk action did: the jobs changed, and those refused with the reason. */
function bulkText(done: string, result: BulkResult, colors = false): string {
  if (result.matched === 0) return 'No jobs matched.\n';
  const plural = (count: number) => `${count} job${count === 1 ? '' : 's'}`;
  let text = `${done} ${plural(result.changed.length)} of ${result.matched} matched`;
  text += result.changed.length > 0 ? `: ${result.changed.join(', ')}\n` : '\n';
  for (const refused of result.refused) {
    const status = refused.status ? ` (${paintStatus(refused.status, refused.status, colors)})` : '';
    text += `  #${refused.id}${status}: ${refused.reason}\n`;
  }
  return text;
}

/**
 * `kjobs status`: the jobs of each status and what is paused (kjobs extensions: the breakdown by command, summed,
 * and the paused list).
 */
function statusCommand(program: Command, run: Runner, usageExit: (error: CommanderError) => void): void {
  connectionOptions(
    program
      .command('status')
      .description(
        'how many jobs there are of each status, and what is paused (a kjobs server, not KIE Server)',
      )
      .exitOverride(usageExit),
  ).action(
    run(async (client, flags) => {
      let breakdown;
      let paused;
      try {
        [breakdown, paused] = await Promise.all([client.getJobBreakdown('command'), client.listPaused()]);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          throw new Error(
            `kjobs status needs a kjobs server: ${error.message} (HTTP 404; KIE Server has no counts)`,
          );
        }
        throw error;
      }
      const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<
        JobStatus,
        number
      >;
      for (const row of breakdown.rows) {
        for (const status of JOB_STATUSES) counts[status] += row.counts[status] ?? 0;
      }
      const total = JOB_STATUSES.reduce((sum, status) => sum + counts[status], 0);
      if (flags.json) return json({ counts, total, paused });
      let text = table(
        ['STATUS', 'JOBS'],
        [...JOB_STATUSES.map((status) => [status, String(counts[status])]), ['total', String(total)]],
        (cell, column) => (column === 0 ? paintStatus(cell, cell, flags.colors ?? false) : cell),
      );
      text +=
        paused.length === 0
          ? 'Nothing is paused.\n'
          : `Paused: ${paused.map((p) => `${p.kind} ${p.name} (since ${p.pausedAt.toISOString()})`).join(', ')}\n`;
      return text;
    }),
  );
}

/** `kjobs jobs update-data ID`: merges entries into a job's request data. */
function updateDataCommand(jobs: Command, run: Runner): void {
  connectionOptions(
    jobs
      .command('update-data')
      .description('merge entries into the request data of a QUEUED, RETRYING or ERROR job')
      .argument('<jobId>', 'job id')
      .option('--data <json>', 'entries to merge: a JSON object, or @FILE holding one')
      .option('--set <key=value>', 'an entry to merge (a string); repeatable', collect)
      .option('--container <id>', 'container whose types the data uses'),
  ).action(
    run(async (client, flags, id = '') => {
      const options = flags as ConnectionFlags & { data?: string; set?: string[]; container?: string };
      const job = jobId(id);
      const data = dataOf(options);
      if (Object.keys(data).length === 0) throw new UsageError('Nothing to update: give --data or --set');
      await client.updateRequestData(
        job,
        data,
        options.container !== undefined ? { containerId: options.container } : {},
      );
      return flags.json ? json({ id: job, result: 'updated' }) : `Updated the data of job ${job}\n`;
    }),
  );
}

/**
 * `kjobs pause COMMAND`, `kjobs pause --container ID` and `kjobs resume ...` (kjobs extensions, every node of the
 * store); `kjobs pause` alone lists what is paused.
 */
function flowControlCommand(
  program: Command,
  run: Runner,
  usageExit: (error: CommanderError) => void,
  action: 'pause' | 'resume',
): void {
  connectionOptions(
    program
      .command(action)
      .description(
        action === 'pause'
          ? 'pause a command (or --container ID) on every kjobs node: running jobs finish, none starts; ' +
              'without arguments, list what is paused'
          : 'resume a paused command (or --container ID): its due jobs start',
      )
      .argument('[command]', `the command to ${action}`)
      .option('--container <id>', `${action} the jobs of this container instead`)
      .exitOverride(usageExit),
  ).action(
    run(async (client, flags, command) => {
      const container = (flags as { container?: string }).container;
      if (command !== undefined && container !== undefined) {
        throw new UsageError(`Give a command or --container, not both`);
      }
      if (command === undefined && container === undefined) {
        if (action === 'resume') throw new UsageError('Give the command or --container ID to resume');
        const paused = await client.listPaused();
        if (flags.json) return json(paused);
        if (paused.length === 0) return 'Nothing is paused.\n';
        return paused.map((p) => `${p.kind}\t${p.name}\tpaused since ${p.pausedAt.toISOString()}\n`).join('');
      }
      const target =
        container !== undefined
          ? { kind: 'container', name: container }
          : { kind: 'command', name: command! };
      if (target.kind === 'container') {
        await (action === 'pause' ? client.pauseContainer(target.name) : client.resumeContainer(target.name));
      } else {
        await (action === 'pause' ? client.pauseCommand(target.name) : client.resumeCommand(target.name));
      }
      const done = action === 'pause' ? 'Paused' : 'Resumed';
      return flags.json
        ? json({ ...target, result: `${action}d` })
        : `${done} ${target.kind} ${target.name}\n`;
    }),
  );
}

/** `kjobs containers`: KIE Server's container list (GET /server/containers), beside `kjobs jobs`. */
function containersCommand(program: Command, run: Runner, usageExit: (error: CommanderError) => void): void {
  // `kjobs containers`: KIE Server's container list (GET /server/containers), beside `kjobs jobs`.
  connectionOptions(
    program
      .command('containers')
      .description(
        'list the containers of kjobs (the loaded container modules, with their commands) or of KIE Server; ' +
          'with an id, that container only (exit code 3 when there is none)',
      )
      .argument('[containerId]', 'show this container only')
      .exitOverride(usageExit),
  ).action(
    run(async (client, flags, id) => {
      const containers = id === undefined ? await client.listContainers() : [await client.getContainer(id)];
      if (flags.json) return json(id === undefined ? containers : containers[0]);
      return containers.length === 0 ? 'No containers.\n' : containerRows(containers);
    }),
  );
}
