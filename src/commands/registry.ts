import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve, sep } from 'node:path';
import { UnknownCommandError, ValidationError } from '../core/index.js';
import {
  toDefinition,
  type Command,
  type CommandCallback,
  type CommandDefinition,
  type ContainerDefinition,
} from './command.js';

interface Container {
  commands: Map<string, CommandDefinition>;
  callbacks: Map<string, CommandCallback>;
  /** When it was registered (epoch milliseconds). */
  createdAt: number;
}

/** What a container holds, as `GET /server/containers` shows it. */
export interface ContainerInfo {
  id: string;
  /** Command names; of a remote container, the patterns of the commands its workers run. */
  commands: string[];
  callbacks: string[];
  createdAt: number;
  /** Its commands run in workers elsewhere (the worker protocol), not in this process. */
  remote?: boolean;
}

/** A container whose commands workers elsewhere run: the patterns of their names (`*`: any run of characters). */
interface RemoteContainer {
  patterns: string[];
  matchers: RegExp[];
  createdAt: number;
}

/** A command-name pattern (`com.acme.billing.*`) as a regular expression of the whole name. */
export function commandPattern(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/**
 * Named commands and callbacks, global (the built-ins, and any registered without a container) or grouped in
 * containers. A command is looked up in its job's container first, then globally, as KIE's container class
 * loader sees the server's classes too.
 */
export class CommandRegistry {
  private readonly global: Container = { commands: new Map(), callbacks: new Map(), createdAt: Date.now() };
  private readonly containers = new Map<string, Container>();
  private readonly remote = new Map<string, RemoteContainer>();

  /** Registers a command, globally or in a container (created if needed). */
  registerCommand(name: string, command: Command, containerId?: string): this {
    this.target(containerId).commands.set(name, toDefinition(command));
    return this;
  }

  /** Registers a callback, globally or in a container (created if needed). */
  registerCallback(name: string, callback: CommandCallback, containerId?: string): this {
    this.target(containerId).callbacks.set(name, callback);
    return this;
  }

  /** Registers a whole container: its commands and callbacks. */
  registerContainer(id: string, definition: ContainerDefinition | Record<string, Command>): this {
    if (!id || /\s/.test(id)) throw new ValidationError(`Invalid container id "${id}"`);
    const normalized = isContainerDefinition(definition) ? definition : { commands: definition };
    const container = this.target(id);
    for (const [name, command] of Object.entries(normalized.commands)) {
      if (typeof command !== 'function' && typeof command?.run !== 'function') {
        throw new ValidationError(`Container ${id}: command ${name} is not a function or { run }`);
      }
      container.commands.set(name, toDefinition(command));
    }
    for (const [name, callback] of Object.entries(normalized.callbacks ?? {})) {
      container.callbacks.set(name, callback);
    }
    return this;
  }

  /**
   * Loads a container from an ES module (a path from the operator's configuration, never from a request):
   * its default export maps command names to functions, or is a ContainerDefinition; a named export
   * `callbacks` adds callbacks. A TypeScript module (`.ts`, `.mts`, `.cts`) is loaded through tsx when the
   * application has it installed (`npm install tsx`), else as Node.js itself can.
   */
  async loadContainer(id: string, modulePath: string): Promise<void> {
    const url = /^[a-z]+:/i.test(modulePath) ? modulePath : pathToFileURL(resolve(modulePath)).href;
    let module: { default?: unknown; callbacks?: Record<string, CommandCallback> };
    try {
      module = (await (TYPESCRIPT.test(url) ? importTypeScript(url) : import(url))) as typeof module;
    } catch (error) {
      // One line: esbuild's errors (tsx) hold line breaks.
      const reason = importFailure(error, modulePath, url).replace(/\s*\n\s*/g, ' ');
      throw new ContainerLoadError(id, modulePath, reason, error);
    }
    module = fromCommonJs(module);
    const exported = module.default;
    if (!exported || typeof exported !== 'object') {
      throw new ContainerLoadError(id, modulePath, 'it has no default export mapping command names');
    }
    const definition = isContainerDefinition(exported)
      ? exported
      : { commands: exported as Record<string, Command>, callbacks: module.callbacks };
    this.registerContainer(id, definition);
  }

  /** Whether any container, or the global set, has a command of this name. */
  hasCommand(name: string): boolean {
    return (
      this.global.commands.has(name) ||
      [...this.containers.values()].some((c) => c.commands.has(name)) ||
      [...this.remote.values()].some((c) => c.matchers.some((matcher) => matcher.test(name)))
    );
  }

  /**
   * Declares a remote container (`--remote-container ID=PATTERN,...`): jobs of commands matching its patterns are
   * accepted, and run by workers elsewhere (the worker protocol), never by this process's executor.
   */
  registerRemoteContainer(id: string, patterns: readonly string[]): this {
    if (!id || /\s/.test(id)) throw new ValidationError(`Invalid container id "${id}"`);
    if (this.containers.has(id)) {
      throw new ValidationError(`Container ${id} is loaded here: it cannot also be a remote container`);
    }
    if (patterns.length === 0 || patterns.some((pattern) => pattern.trim() === '')) {
      throw new ValidationError(`Remote container ${id} needs command patterns, e.g. ${id}=com.acme.*`);
    }
    this.remote.set(id, {
      patterns: [...patterns],
      matchers: patterns.map(commandPattern),
      createdAt: Date.now(),
    });
    return this;
  }

  /** Whether workers elsewhere run this container's jobs. */
  isRemote(containerId: string | null): boolean {
    return containerId !== null && this.remote.has(containerId);
  }

  remoteContainerIds(): string[] {
    return [...this.remote.keys()];
  }

  /**
   * The remote container whose patterns match a command, when exactly one does; undefined when none does; a
   * ValidationError naming them when several do (the job must say which, with containerId).
   */
  remoteContainerFor(command: string): string | undefined {
    const matching = [...this.remote].filter(([, container]) =>
      container.matchers.some((matcher) => matcher.test(command)),
    );
    if (matching.length > 1) {
      throw new ValidationError(
        `Command ${command} matches remote containers ${matching.map(([id]) => id).join(', ')}: give containerId`,
      );
    }
    return matching[0]?.[0];
  }

  hasContainer(id: string): boolean {
    return this.containers.has(id) || this.remote.has(id);
  }

  /** The containers this process runs (its executor claims their jobs); remote ones are not among them. */
  containerIds(): string[] {
    return [...this.containers.keys()];
  }

  /** Every container, this process's and remote ones. */
  allContainerIds(): string[] {
    return [...this.containers.keys(), ...this.remote.keys()];
  }

  /** How many commands each container has, by container id. */
  commandCounts(): Record<string, number> {
    return Object.fromEntries([...this.containers].map(([id, container]) => [id, container.commands.size]));
  }

  /** A container's own commands and callbacks (not the global ones it also sees), or undefined when unknown. */
  container(id: string): ContainerInfo | undefined {
    const remote = this.remote.get(id);
    if (remote)
      return { id, commands: remote.patterns, callbacks: [], createdAt: remote.createdAt, remote: true };
    const container = this.containers.get(id);
    if (!container) return undefined;
    return {
      id,
      commands: [...container.commands.keys()],
      callbacks: [...container.callbacks.keys()],
      createdAt: container.createdAt,
    };
  }

  /** The command a job runs, or undefined when neither its container nor the global set has it. */
  resolve(command: string, containerId: string | null): CommandDefinition | undefined {
    const container = containerId ? this.containers.get(containerId) : undefined;
    return container?.commands.get(command) ?? this.global.commands.get(command);
  }

  resolveCallback(name: string, containerId: string | null): CommandCallback | undefined {
    const container = containerId ? this.containers.get(containerId) : undefined;
    return container?.callbacks.get(name) ?? this.global.callbacks.get(name);
  }

  /** Refuses, with KIE's wording, a command or container this registry does not know. */
  validate(command: string, containerId: string | null, callbacks: readonly string[] = []): void {
    const remote = containerId === null ? undefined : this.remote.get(containerId);
    if (remote) {
      // Its callbacks are the worker's (Java classes, say): it runs them, this process cannot check them.
      if (!remote.matchers.some((matcher) => matcher.test(command))) {
        throw new UnknownCommandError(
          `Invalid command type ${command} (remote container ${containerId} runs ${remote.patterns.join(', ')})`,
        );
      }
      return;
    }
    if (containerId && !this.containers.has(containerId)) {
      throw new UnknownCommandError(`No container found for id ${containerId}`);
    }
    if (!this.resolve(command, containerId)) {
      throw new UnknownCommandError(
        `Invalid command type ${command}` + (containerId ? ` (not in container ${containerId})` : ''),
      );
    }
    this.validateCallbacks(callbacks, containerId);
  }

  /** Refuses callback names that neither the container nor the global registry knows. */
  validateCallbacks(callbacks: readonly string[], containerId: string | null): void {
    if (this.isRemote(containerId)) return;
    for (const name of callbacks) {
      if (!this.resolveCallback(name, containerId)) {
        throw new UnknownCommandError(`Unknown callback ${name}`);
      }
    }
  }

  private target(containerId: string | undefined): Container {
    if (containerId === undefined) return this.global;
    let container = this.containers.get(containerId);
    if (!container) {
      container = { commands: new Map(), callbacks: new Map(), createdAt: Date.now() };
      this.containers.set(containerId, container);
    }
    return container;
  }
}

/** A container module that cannot be loaded: names the container, the module and the reason. */
export class ContainerLoadError extends ValidationError {
  override name = 'ContainerLoadError';
  constructor(
    readonly containerId: string,
    readonly modulePath: string,
    readonly reason: string,
    /** The module's own error, when the import failed: its stack is the module's (logged at debug level). */
    cause?: unknown,
  ) {
    super(`Container ${containerId}: cannot load ${modulePath}: ${reason}`);
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * The ES module a CommonJS module compiled from one stands for: `tsc` or tsx (in a `"type": "commonjs"` project)
 * write `exports.default` and mark the exports `__esModule`, which `import()` hands over whole as `default`.
 */
function fromCommonJs<T extends { default?: unknown }>(module: T): T {
  const inner = module.default as { __esModule?: unknown; default?: unknown } | undefined;
  return typeof inner === 'object' && inner !== null && inner.__esModule === true && 'default' in inner
    ? (inner as T)
    : module;
}

const TYPESCRIPT = /\.[cm]?ts$/;

/** How to load a TypeScript container, said when it cannot be loaded. */
export const TYPESCRIPT_CONTAINER_HELP =
  'a TypeScript container needs tsx: npm install tsx (or compile it with tsc and give the .js file)';

/**
 * Imports a TypeScript module through tsx's scoped loader (the rest of the process is left as it is), when the
 * application has installed tsx; without it, as Node.js can (a loader given with --import, or its own type
 * stripping), or fails with TYPESCRIPT_CONTAINER_HELP.
 */
async function importTypeScript(url: string): Promise<unknown> {
  let tsx: { tsImport(specifier: string, parentUrl: string): Promise<unknown> } | undefined;
  try {
    tsx = await import('tsx/esm/api');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
  if (tsx) return tsx.tsImport(url, import.meta.url);
  try {
    return await import(url);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') throw new TypeScriptLoaderError();
    throw error;
  }
}

class TypeScriptLoaderError extends Error {
  constructor() {
    super(TYPESCRIPT_CONTAINER_HELP);
  }
}

/**
 * Why an import failed, in the operator's terms: the missing file or import; else the module's own error with
 * where it is (a file and line of the user's code, not of kjobs).
 */
function importFailure(error: unknown, modulePath: string, url: string): string {
  const failure = error as { code?: string; message?: string; stack?: string };
  if (error instanceof TypeScriptLoaderError) return error.message;
  if (failure.code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(failure.message ?? '')?.[1];
    if (
      missing === undefined ||
      missing === resolve(modulePath) ||
      missing.endsWith(modulePath.replace(/^\.\//, ''))
    ) {
      return `no such file (${resolve(modulePath)})`;
    }
    return `it imports ${missing}, which cannot be found`;
  }
  const message = failure.message ?? String(error);
  const name = error instanceof Error ? error.name : 'Error';
  const frame = firstFileFrame(failure.stack ?? '');
  if (frame) return `${name}: ${message} (at ${frame})`;
  // A syntax error: Node's import names no file; the file's own syntax check does.
  if (error instanceof SyntaxError) {
    const where = syntaxErrorPlace(url);
    return `${name}: ${message} (${where ?? 'in a module it imports: node --check FILE shows which'})`;
  }
  return `${name}: ${message}`;
}

/** kjobs' own folder (dist/ or src/): its frames are not where a module went wrong. */
const KJOBS_FOLDER = fileURLToPath(new URL('..', import.meta.url));

/**
 * The first frame of a stack in the user's code (`/app/c.mjs:2:7`): not Node's loader, not kjobs, not a package
 * of node_modules (a module's call into a library is its own line a few frames down).
 */
function firstFileFrame(stack: string): string | undefined {
  for (const frame of stack.matchAll(
    /^\s+at (?:.*\()?((?:file:\/\/|\/)[^()\s?]+)(?:\?[^():\s]*)?:(\d+):(\d+)\)?$/gm,
  )) {
    const file = frame[1]!.startsWith('file:') ? fileURLToPath(frame[1]!) : frame[1]!;
    if (file.startsWith(KJOBS_FOLDER) || file.includes(`${sep}node_modules${sep}`)) continue;
    return `${file}:${frame[2]}:${frame[3]}`;
  }
  return undefined;
}

/**
 * Where the syntax error of a JavaScript module is, from `node --check` (which parses the file without running
 * it): `at /app/c.mjs:2`, or undefined when the file parses (the error is in a module it imports) or is no file.
 */
function syntaxErrorPlace(url: string): string | undefined {
  if (!url.startsWith('file:') || !/\.[cm]?js$/.test(url)) return undefined;
  const check = spawnSync(process.execPath, ['--check', fileURLToPath(url)], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (check.status === 0) return undefined;
  const lines = (check.stderr ?? '').split('\n');
  const place = /^(.+):(\d+)$/.exec(lines[0] ?? '');
  if (!place) return undefined;
  const caret = lines[2]?.indexOf('^') ?? -1;
  return `at ${place[1]}:${place[2]}${caret >= 0 ? `:${caret + 1}` : ''}`;
}

function isContainerDefinition(value: unknown): value is ContainerDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    'commands' in value &&
    typeof (value as { commands: unknown }).commands === 'object' &&
    typeof (value as { commands: { run?: unknown } }).commands.run !== 'function'
  );
}
