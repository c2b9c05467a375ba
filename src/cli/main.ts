/** Entry point of the `kjobs` command (bin/kjobs.js runs the compiled form of this file). */
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
