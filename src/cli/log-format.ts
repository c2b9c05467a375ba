/**
 * Log output of `kjobs serve` and `kjobs worker`: pino's JSON lines for log collectors, or, on a terminal, one
 * human-readable line per entry (`12:00:01.234 INFO  job done jobId=7 command=... ms=3`), written by the small
 * destination below from the same entries.
 */
import pino, { type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config/config.js';
import { boundedError } from '../observability/bounded-error.js';
import { colorsOn } from './colors.js';

/** JSON unless stdout is a terminal. */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stdout): LogFormat {
  return stream.isTTY ? 'pretty' : 'json';
}

const LEVELS: Record<number, [label: string, color: number]> = {
  10: ['TRACE', 90],
  20: ['DEBUG', 36],
  30: ['INFO ', 32],
  40: ['WARN ', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 35],
};
// What every entry has, or what the line shows elsewhere.
const SKIPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function clock(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** One JSON log entry as a readable line; an error's stack follows, indented, at error level and above and at debug. */
export function formatPretty(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const [label, color] = LEVELS[level] ?? ['LOG  ', 0];
  const paint = (text: string, code: number) => (colors && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !SKIPPED.has(key) && value !== undefined)
    .map(([key, value]) => `${paint(key, 90)}=${valueText(value)}`);
  const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err) fields.push(`${paint('err', 90)}=${valueText(err.message ?? err.type)}`);
  const time = typeof entry.time === 'number' ? clock(entry.time) : '';
  let text = `${paint(time, 90)} ${paint(label, color)} ${String(entry.msg ?? '')}`;
  if (fields.length > 0) text += ` ${fields.join(' ')}`;
  // The stack of errors, and at debug level, whose reader is after it (a start failure's module, say).
  if (err?.stack && (level >= 50 || level <= 20)) text += `\n${err.stack.replace(/^/gm, '    ')}`;
  return `${text}\n`;
}

/** A pino destination writing readable lines to `stream`. */
export function prettyDestination(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout) {
  const colors = colorsOn(stream, process.env);
  return { write: (line: string) => stream.write(formatPretty(line, colors)) };
}

/** The service's logger: JSON lines on stdout, or readable ones. */
export function createLogger(level: LogLevel, format: LogFormat): Logger {
  const options = { level, base: { pid: process.pid }, serializers: { err: boundedError } };
  return format === 'pretty' ? pino(options, prettyDestination()) : pino(options);
}
