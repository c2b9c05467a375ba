/** Entry point of the `kjobs` command (bin/kjobs.js runs the compiled form of this file). */
import { registerHashPasswordCommand } from './hash-password.js';
import { registerJobsCommand } from './jobs.js';
import { buildProgram } from './program.js';

// A reader that stops early (`kjobs jobs list --json | head`) closes the pipe: end quietly, as other commands do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

await registerHashPasswordCommand(registerJobsCommand(buildProgram())).parseAsync(process.argv);
