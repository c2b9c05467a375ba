import { AsyncLocalStorage } from 'node:async_hooks';

/** Raised in a command that calls process.exit(): the attempt fails, the process and its other jobs go on. */
export class CommandExitError extends Error {
  override name = 'CommandExitError';
}

/** Receives a stray error of a command whose run had already ended (nothing left to fail). */
export type LateErrorReporter = (jobId: number, error: Error) => void;

/**
 * One run of a command. The async context carries the run itself, not the job id: two kjobs instances in one
 * process (two stores) can each have a job 1, and a stray error belongs to the run that caused it.
 */
interface GuardedRun {
  jobId: number;
  /** Fails the run with a stray error while it is going; undefined once it has ended. */
  fail: ((error: Error) => void) | undefined;
  reportLate: LateErrorReporter;
}

const insideCommand = new AsyncLocalStorage<GuardedRun>();
const warnLate: LateErrorReporter = (jobId, error) =>
  process.emitWarning(`Command of job ${jobId} failed after its run ended: ${error.message}`);
let installed = false;
let exit: typeof process.exit = process.exit.bind(process);

/**
 * Runs `fn` as job `jobId`'s command. While any command runs:
 * - process.exit() called from inside a command throws CommandExitError instead of ending the process;
 * - an exception thrown in a callback the command scheduled (a timer, an event handler), or a promise of the
 *   command rejected without a handler, fails the command's run with that error (or, after the run, goes to
 *   `reportLate`, the reporter of the executor that ran it) instead of ending the process.
 * Called from anywhere else, process.exit() exits as usual, and stray errors end the process as Node's
 * default would (unless the application handles them itself).
 */
export function runGuarded<T>(
  jobId: number,
  fn: () => Promise<T>,
  reportLate: LateErrorReporter = warnLate,
): Promise<T> {
  if (!installed) install();
  const guarded: GuardedRun = { jobId, fail: undefined, reportLate };
  const stray = new Promise<never>((_, reject) => {
    guarded.fail = reject;
  });
  stray.catch(() => undefined); // settled after the race below only when nobody listens any more
  const run = insideCommand.run(guarded, fn);
  return Promise.race([run, stray]).finally(() => {
    guarded.fail = undefined;
  });
}

function install(): void {
  installed = true;
  exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const guarded = insideCommand.getStore();
    if (guarded === undefined) return exit(code);
    throw new CommandExitError(
      `Command of job ${guarded.jobId} called process.exit(${code ?? ''}); the process was kept alive`,
    );
  }) as typeof process.exit;
  process.on('uncaughtException', onUncaughtException);
  process.on('unhandledRejection', onUnhandledRejection);
}

function stray(guarded: GuardedRun, error: Error): void {
  if (guarded.fail) guarded.fail(error);
  else guarded.reportLate(guarded.jobId, error);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`Command left unhandled: ${String(value)}`);
}

function onUncaughtException(error: Error): void {
  const guarded = insideCommand.getStore();
  if (guarded !== undefined) return stray(guarded, toError(error));
  // Not a command's: keep Node's default (print and exit 1) unless the application listens itself.
  if (process.listenerCount('uncaughtException') > 1) return;
  process.stderr.write(`${error?.stack ?? String(error)}\n`);
  exit(1);
}

function onUnhandledRejection(reason: unknown): void {
  const guarded = insideCommand.getStore();
  if (guarded !== undefined) return stray(guarded, toError(reason));
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
