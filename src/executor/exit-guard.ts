import { AsyncLocalStorage } from 'node:async_hooks';

/** Raised in a command that calls process.exit(): the attempt fails, the process and its other jobs go on. */
export class CommandExitError extends Error {
  override name = 'CommandExitError';
}

/** Receives a stray error of a command whose run had already ended (nothing left to fail). */
export type LateErrorReporter = (jobId: number, error: Error) => void;

const insideCommand = new AsyncLocalStorage<number>();
/** Per running job: fails its run with a stray error (an uncaught exception or unhandled rejection it caused). */
const failRun = new Map<number, (error: Error) => void>();
let reportLate: LateErrorReporter = (jobId, error) =>
  process.emitWarning(`Command of job ${jobId} failed after its run ended: ${error.message}`);
let installed = false;
let exit: typeof process.exit = process.exit.bind(process);

/**
 * Runs `fn` as job `jobId`'s command. While any command runs:
 * - process.exit() called from inside a command throws CommandExitError instead of ending the process;
 * - an exception thrown in a callback the command scheduled (a timer, an event handler), or a promise of the
 *   command rejected without a handler, fails the command's run with that error (or, after the run, is reported
 *   to the late error reporter) instead of ending the process.
 * Called from anywhere else, process.exit() exits as usual, and stray errors end the process as Node's
 * default would (unless the application handles them itself).
 */
export function runGuarded<T>(jobId: number, fn: () => Promise<T>): Promise<T> {
  if (!installed) install();
  let fail: (error: Error) => void = () => undefined;
  const stray = new Promise<never>((_, reject) => {
    fail = reject;
  });
  stray.catch(() => undefined); // settled after the race below only when nobody listens any more
  failRun.set(jobId, fail);
  const run = insideCommand.run(jobId, fn);
  return Promise.race([run, stray]).finally(() => {
    if (failRun.get(jobId) === fail) failRun.delete(jobId);
  });
}

/** Where stray errors of commands whose run has ended go (the executor logs them). Default: a process warning. */
export function setLateErrorReporter(reporter: LateErrorReporter): void {
  reportLate = reporter;
}

function install(): void {
  installed = true;
  exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const jobId = insideCommand.getStore();
    if (jobId === undefined) return exit(code);
    throw new CommandExitError(
      `Command of job ${jobId} called process.exit(${code ?? ''}); the process was kept alive`,
    );
  }) as typeof process.exit;
  process.on('uncaughtException', onUncaughtException);
  process.on('unhandledRejection', onUnhandledRejection);
}

function stray(jobId: number, error: Error): void {
  const fail = failRun.get(jobId);
  if (fail) fail(error);
  else reportLate(jobId, error);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`Command left unhandled: ${String(value)}`);
}

function onUncaughtException(error: Error): void {
  const jobId = insideCommand.getStore();
  if (jobId !== undefined) return stray(jobId, toError(error));
  // Not a command's: keep Node's default (print and exit 1) unless the application listens itself.
  if (process.listenerCount('uncaughtException') > 1) return;
  process.stderr.write(`${error?.stack ?? String(error)}\n`);
  exit(1);
}

function onUnhandledRejection(reason: unknown): void {
  const jobId = insideCommand.getStore();
  if (jobId !== undefined) return stray(jobId, toError(reason));
  if (process.listenerCount('unhandledRejection') > 1) return;
  // Node's default for an unhandled rejection (--unhandled-rejections=throw): it becomes an uncaught exception.
  const error = toError(reason);
  if (process.listenerCount('uncaughtException') > 1) {
    (process.emit as (event: string, ...args: unknown[]) => boolean)(
      'uncaughtException',
      error,
      'unhandledRejection',
    );
  } else {
    onUncaughtException(error);
  }
}
