import { AsyncLocalStorage } from 'node:async_hooks';

/** Raised in a command that calls process.exit(): the attempt fails, the process and its other jobs go on. */
export class CommandExitError extends Error {
  override name = 'CommandExitError';
}

const insideCommand = new AsyncLocalStorage<number>();
let installed = false;

/**
 * Runs `fn` as job `jobId`'s command. While any command runs, process.exit() called from inside a command
 * throws CommandExitError instead of ending the process; called from anywhere else, it exits as usual.
 */
export function runGuarded<T>(jobId: number, fn: () => T): T {
  if (!installed) install();
  return insideCommand.run(jobId, fn);
}

function install(): void {
  installed = true;
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const jobId = insideCommand.getStore();
    if (jobId === undefined) return exit(code);
    throw new CommandExitError(`Command of job ${jobId} called process.exit(${code ?? ''}); the process was kept alive`);
  }) as typeof process.exit;
}
