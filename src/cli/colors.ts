/**
 * Colours of the command line's output: on a terminal only (never in a pipe or a file), and never with NO_COLOR
 * set (https://no-color.org) or on a terminal that says it has none (TERM=dumb).
 */
import type { JobStatus } from '../client/index.js';

/** Whether output to `stream` gets colours. */
export function colorsOn(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** SGR codes of the job statuses: the console's colours, as far as a terminal has them. */
const STATUS_CODES: Record<JobStatus, number> = {
  QUEUED: 34,
  RUNNING: 36,
  DONE: 32,
  ERROR: 31,
  RETRYING: 33,
  CANCELLED: 90,
};

/** `text` (a status, or text about one) in the status's colour, or as it is without colours. */
export function paintStatus(status: string, text: string, colors: boolean): string {
  const code = STATUS_CODES[status as JobStatus];
  return colors && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}
