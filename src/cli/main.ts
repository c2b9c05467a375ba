/** Entry point of the `kjobs` command (bin/kjobs.js runs the compiled form of this file). */
import { registerJobsCommand } from './jobs.js';
import { buildProgram } from './program.js';

await registerJobsCommand(buildProgram()).parseAsync(process.argv);
