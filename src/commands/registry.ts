import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
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
   * `callbacks` adds callbacks.
   */
  async loadContainer(id: string, modulePath: string): Promise<void> {
    const url = /^[a-z]+:/i.test(modulePath) ? modulePath : pathToFileURL(resolve(modulePath)).href;
    let module: { default?: unknown; callbacks?: Record<string, CommandCallback> };
    try {
      module = (await import(url)) as typeof module;
    } catch (error) {
      throw new ContainerLoadError(id, modulePath, importFailure(error, modulePath));
    }
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
  ) {
    super(`Container ${containerId}: cannot load ${modulePath}: ${reason}`);
  }
}

/** Why an import failed, in the operator's terms: the missing file or import, else the module's own error. */
function importFailure(error: unknown, modulePath: string): string {
  const failure = error as { code?: string; message?: string; stack?: string };
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
  return failure.message ?? String(error);
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
