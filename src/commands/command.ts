import type { Logger } from 'pino';
import type { DataMap, JobStatus } from '../core/index.js';

/** A job this job waited for (request data `dependsOn`), with what its command returned. */
export interface ParentJob {
  id: number;
  command: string;
  /** DONE, or ERROR/CANCELLED for a child scheduled with `onParentFailure: "run"`. */
  status: JobStatus;
  /** The parent's response data (null unless it is DONE). */
  responseData: DataMap | null;
}

/** What a command receives for one run of a job. */
export interface CommandContext {
  /** The job's id. */
  jobId: number;
  /** The request data map (a copy: changing it changes nothing stored). */
  data: DataMap;
  /** Which run this is: 1 for the first, 2 for the first retry... (KIE's executions). */
  attempt: number;
  businessKey: string | null;
  containerId: string | null;
  /** When this run was due, epoch milliseconds (KIE's scheduledExecutionTime). */
  scheduledAt: number;
  /** Fires when the run times out or the executor stops; a well-behaved command gives up then. */
  signal: AbortSignal;
  /** A logger bound to this job. */
  log: Logger;
  /**
   * Reports progress: a percentage from 0 to 100 and/or a small JSON map (at most 4 KiB), e.g. `progress(40)`,
   * `progress({ rows: 120 })`, `progress(40, { rows: 120 })`. The latest report is stored, at most once a second;
   * it is shown by `GET .../server/jobs/{id}/progress`, the console and `kjobs jobs get`. Throws on bad input.
   */
  progress(value: number | DataMap, data?: DataMap): void;
  /** The jobs its request data `dependsOn` named, in id order, with their response data; empty without any. */
  parents: ParentJob[];
}

/** A command returns its response data map, or nothing (an empty map). */
export type CommandResult = DataMap | void | undefined;

/** A command as a plain async function. */
export type CommandFunction = (context: CommandContext) => CommandResult | Promise<CommandResult>;

/** A command with more to say than its run: KIE's Reoccurring commands tell when to run again. */
export interface CommandDefinition {
  run: CommandFunction;
  /**
   * For reoccurring commands: when the next occurrence is due, asked after a run that ended DONE or ERROR.
   * Answer null (or nothing) to stop.
   */
  nextRunAt?(context: { data: DataMap; jobId: number; now: number }): Date | number | null | undefined;
}

/** Either form of a command. */
export type Command = CommandFunction | CommandDefinition;

/** KIE's CommandCallback: told when a job is done, or has failed for the last time. */
export interface CommandCallback {
  onCommandDone?(context: CommandContext, responseData: DataMap): void | Promise<void>;
  onCommandError?(context: CommandContext, error: Error): void | Promise<void>;
}

/**
 * A container (KIE's deployment unit): named commands, and optionally named callbacks. A container module's
 * default export is either this object or just the map of commands.
 */
export interface ContainerDefinition {
  commands: Record<string, Command>;
  callbacks?: Record<string, CommandCallback>;
}

export function toDefinition(command: Command): CommandDefinition {
  return typeof command === 'function' ? { run: command } : command;
}
