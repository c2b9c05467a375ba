/**
 * A worker of a kjobs server's remote containers, in TypeScript: the executor of this package (slots, timeouts,
 * progress, callbacks, graceful stop) with a kjobs server over the worker protocol as its source of jobs, in place
 * of a database. `kjobs worker --url` runs one; so can an application:
 *
 * ```ts
 * const worker = await createRemoteWorker({
 *   url: 'http://jobs.internal:8080/kie-server/services/rest', user: 'billing-worker', password: process.env.KJOBS_PASSWORD,
 *   containers: { billing: { commands: { 'com.acme.billing.SendInvoice': async ({ data }) => ({ sent: data.invoice }) } } },
 * });
 * // later: await worker.stop();
 * ```
 */
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import {
  ApiError,
  ConnectionError,
  KieJobsClient,
  type FetchFunction,
  type WorkerServerInfo,
} from '../client/index.js';
import type { Command, CommandCallback, ContainerDefinition } from '../commands/command.js';
import { commandPattern, CommandRegistry } from '../commands/registry.js';
import { sleep, systemClock, type Clock } from '../core/index.js';
import { Executor, type ExecutorOptions } from '../executor/executor.js';
import { HttpJobSource } from './http-job-source.js';

export interface RemoteWorkerOptions {
  /** The kjobs server's REST root, e.g. `http://jobs.internal:8080/kie-server/services/rest`. */
  url: string;
  /** The user to sign in as: one with the role `worker`, granted the containers (`--worker-grant`). */
  user?: string;
  password?: string;
  /** The fetch to call the server with (`fetchWithCa({ ca })` from `kjobs/client/node` for a private CA). */
  fetch?: FetchFunction;
  /**
   * The containers this worker serves, by id (each a remote container of the server: `--remote-container`): a
   * definition, a map of commands, or the path of an ES module exporting one.
   */
  containers: Record<string, ContainerDefinition | Record<string, Command> | string>;
  /** Callbacks available to every job, by name. */
  callbacks?: Record<string, CommandCallback>;
  /** The worker's name on the server (the jobs' worker shows it): letters, digits, `.`, `_`, `-`, `:`. */
  name?: string;
  /**
   * The executor: concurrency, timeouts, stop deadline, progress interval... The heartbeat is the server's, and
   * limits are the server's too (its claims keep them).
   */
  executor?: Omit<
    ExecutorOptions,
    'heartbeatMs' | 'leaseMs' | 'containers' | 'limits' | 'executorId' | 'logger'
  >;
  /** How long a claim waits on the server for a due job. Default 20 s. */
  claimWaitMs?: number;
  /** How long start() keeps trying a server that does not answer (it may be starting too). Default 60 s. */
  connectTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** The server refused the worker, or serves none of its containers: what to change is in the message. */
export class RemoteWorkerSetupError extends Error {
  override name = 'RemoteWorkerSetupError';
}

/** The worker's default name: this host and process, in the protocol's characters. */
function defaultName(): string {
  return `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100);
}

export class RemoteWorker {
  readonly registry = new CommandRegistry();
  readonly client: KieJobsClient;
  readonly name: string;
  private executorInstance: Executor | undefined;
  private source: HttpJobSource | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: RemoteWorkerOptions) {
    this.client = new KieJobsClient({
      baseUrl: options.url,
      ...(options.user !== undefined ? { user: options.user, password: options.password ?? '' } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.name = options.name ?? defaultName();
    if (!/^[A-Za-z0-9._:-]{1,100}$/.test(this.name)) {
      throw new RemoteWorkerSetupError(
        `worker name ${JSON.stringify(this.name)}: 1 to 100 letters, digits, ".", "_", "-" or ":"`,
      );
    }
    this.log = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? options.executor?.clock ?? systemClock;
    for (const [name, callback] of Object.entries(options.callbacks ?? {}))
      this.registry.registerCallback(name, callback);
    for (const [id, container] of Object.entries(options.containers)) {
      if (typeof container !== 'string') this.registry.registerContainer(id, container);
    }
  }

  /** The executor, once started. */
  get executor(): Executor | undefined {
    return this.executorInstance;
  }

  /**
   * Loads container modules, asks the server what this user may serve (its containers, its heartbeat), then claims
   * and runs jobs until stop(). Refuses a container the server does not have as a remote container for this user.
   */
  async start(): Promise<void> {
    if (this.executorInstance) return;
    for (const [id, container] of Object.entries(this.options.containers)) {
      if (typeof container === 'string') await this.registry.loadContainer(id, container);
    }
    const info = await this.serverInfo();
    const containers = this.registry.containerIds();
    if (containers.length === 0) {
      throw new RemoteWorkerSetupError('a remote worker needs at least one container to serve');
    }
    for (const id of containers) {
      const served = info.containers.find((container) => container.id === id);
      if (!served) {
        throw new RemoteWorkerSetupError(
          `container ${id} is not a remote container this user may serve on ${this.client.serverUrl}` +
            (info.containers.length > 0
              ? ` (it may serve ${info.containers.map((container) => container.id).join(', ')})`
              : '') +
            `: start kjobs serve with --remote-container ${id}=PATTERN, and --worker-grant USER=${id} for a worker user`,
        );
      }
      const matchers = served.commands.map(commandPattern);
      const strays = (this.registry.container(id)?.commands ?? []).filter(
        (command) => !matchers.some((matcher) => matcher.test(command)),
      );
      if (strays.length > 0) {
        this.log.warn(
          { container: id, commands: strays, patterns: served.commands },
          `container ${id}: ${strays.join(', ')} match none of the server's patterns (${served.commands.join(', ')}): ` +
            'the server refuses their jobs',
        );
      }
    }
    const source = new HttpJobSource({
      client: this.client,
      worker: this.name,
      containers,
      commands: this.commandsServed(containers),
      ...(this.options.claimWaitMs !== undefined ? { claimWaitMs: this.options.claimWaitMs } : {}),
    });
    const executor = new Executor(source, this.registry, {
      ...this.options.executor,
      heartbeatMs: info.heartbeatMs,
      containers,
      clock: this.clock,
      logger: this.log,
    });
    executor.on('error', () => undefined); // logged by the executor; a server away is waited out
    await executor.start();
    this.executorInstance = executor;
    this.source = source;
    this.log.info(
      { server: this.client.serverUrl, worker: this.name, containers, heartbeatMs: info.heartbeatMs },
      `remote worker ${this.name} serving ${containers.join(', ')} for ${this.client.serverUrl}`,
    );
  }

  /**
   * Stops claiming; running jobs get `deadlineMs` (default the executor's stop deadline) to finish, the rest are
   * given back to the server unrun.
   */
  async stop(deadlineMs?: number): Promise<void> {
    await this.executorInstance?.stop(deadlineMs);
    try {
      const released = (await this.source?.leave()) ?? 0;
      if (released > 0) this.log.info({ released }, `gave back ${released} jobs claimed as it stopped`);
    } catch (error) {
      // The server away: what a claim left under this session is rescued when its lease runs out.
      this.log.warn({ err: error }, 'could not tell the server this worker left');
    }
  }

  /**
   * The commands to claim: the containers' own (a server may send a container's other commands to other workers).
   * Undefined (every command of the containers) when a container's names cannot be sent as patterns.
   */
  private commandsServed(containers: readonly string[]): string[] | undefined {
    const names = containers.flatMap((id) => this.registry.container(id)?.commands ?? []);
    if (names.length === 0 || names.some((name) => name.includes('*'))) return undefined;
    return [...new Set(names)];
  }

  /** The server's answer to `GET .../kjobs/workers`, waiting out a server that is not up yet. */
  private async serverInfo(): Promise<WorkerServerInfo> {
    const until = this.clock.now() + (this.options.connectTimeoutMs ?? 60_000);
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await this.client.workerInfo();
      } catch (error) {
        const passing =
          error instanceof ConnectionError ||
          (error instanceof ApiError && [502, 503, 504].includes(error.status));
        if (!passing || this.clock.now() + delay > until) throw setupError(error, this.client.serverUrl);
        this.log.warn(
          `the kjobs server at ${this.client.serverUrl} does not answer yet (${(error as Error).message})`,
        );
        await sleep(this.clock, delay);
      }
    }
  }
}

/** What the server's refusal means for the one starting the worker. */
function setupError(error: unknown, serverUrl: string): Error {
  if (!(error instanceof ApiError)) return error as Error;
  const says = `${serverUrl} answered ${error.status}`;
  switch (error.status) {
    case 401:
      return new RemoteWorkerSetupError(
        `${says}: check the user (--user, KJOBS_USER) and its password (KJOBS_PASSWORD)`,
      );
    case 403:
      return new RemoteWorkerSetupError(
        `${says}: this user may not use the worker protocol (roles worker, or kie-server)`,
      );
    case 404:
    case 405:
      return new RemoteWorkerSetupError(
        `${says}: no worker protocol there; --url must be a kjobs server's REST root (…/kie-server/services/rest)`,
      );
    default:
      return error;
  }
}

/** Creates a remote worker and starts it. */
export async function createRemoteWorker(options: RemoteWorkerOptions): Promise<RemoteWorker> {
  const worker = new RemoteWorker(options);
  await worker.start();
  return worker;
}
