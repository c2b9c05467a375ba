/**
 * Why `kjobs serve` or `kjobs worker` could not start, in the operator's terms: what is wrong and which flag or
 * variable fixes it. Operator mistakes get no stack trace (the debug level has it).
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ContainerLoadError } from '../commands/registry.js';
import { StoreUnavailableError } from '../core/index.js';
import { maskDatabase, type Config } from '../config/config.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Network failures of a PostgreSQL connection (host down, unknown name, refused, cut). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** The store of `--db` could not be opened or prepared; `cause` is the store's own error. */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError';
  constructor(
    readonly database: string,
    cause: unknown,
  ) {
    super(databaseFailure(database, cause), { cause });
  }
}

/** Whether an error of opening or migrating the store `database` names came from the database (not from kjobs). */
export function isDatabaseFailure(database: string, error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const { code, severity, errors } = error as { code?: unknown; severity?: unknown; errors?: unknown };
  if (!POSTGRES_URL.test(database)) return typeof code === 'string' && code.startsWith('SQLITE_');
  if (typeof severity === 'string') return true; // PostgreSQL's own answer: a wrong password, no such database
  if (Array.isArray(errors)) return errors.some((each) => isDatabaseFailure(database, each)); // every address refused
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** What is wrong with `database`, and the flag that fixes it. */
function databaseFailure(database: string, cause: unknown): string {
  const fix = POSTGRES_URL.test(database) ? 'fix --db URL' : 'fix --db PATH';
  const message = cause instanceof Error ? cause.message || String(cause) : String(cause);
  const reason = message.replace(/^PostgreSQL is unavailable: /, '');
  if (POSTGRES_URL.test(database)) {
    return `cannot use the PostgreSQL database ${maskDatabase(database)}: ${reason}; ${fix} (or KJOBS_DATABASE_URL)`;
  }
  const path = database.replace(/^sqlite:(\/\/)?/i, '');
  return `cannot open the SQLite database ${path}: ${sqliteReason(path, reason)}; ${fix} (or KJOBS_DATABASE_URL)`;
}

/** Why SQLite could not open `path`, when the file system tells more than SQLite's "unable to open database file". */
function sqliteReason(path: string, reason: string): string {
  const absolute = resolve(path);
  try {
    if (existsSync(absolute) && statSync(absolute).isDirectory()) {
      return `${absolute} is a folder, not a file (give a file in it, such as ${path.replace(/\/?$/, '/kjobs.db')})`;
    }
    const folder = dirname(absolute);
    if (!existsSync(absolute) && existsSync(folder) && !writable(folder)) {
      return `${reason}: this user cannot create files in ${folder}`;
    }
    if (existsSync(absolute) && !writable(absolute)) return `${reason}: this user cannot write ${absolute}`;
  } catch {
    // The reason SQLite gave is all there is.
  }
  return reason;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function startFailureMessage(error: unknown, config: Pick<Config, 'port' | 'host'>): string {
  const { code, syscall, hostname } = error as { code?: string; syscall?: string; hostname?: string };
  if (error instanceof DatabaseStartError) return error.message;
  if (code === 'EADDRINUSE') {
    return (
      `port ${config.port} on ${config.host} is already in use: stop the process that holds it, or choose ` +
      'another port with --port N or KJOBS_PORT=N (0 picks a free one)'
    );
  }
  if (code === 'EACCES' && syscall === 'listen') {
    return (
      `not allowed to listen on port ${config.port} (ports below 1024 need privileges): choose another ` +
      'with --port N or KJOBS_PORT=N'
    );
  }
  if (code === 'EADDRNOTAVAIL' || (code === 'ENOTFOUND' && hostname === config.host)) {
    return `cannot listen on ${config.host}: it is no address of this machine; fix --host or KJOBS_HOST`;
  }
  if (error instanceof ContainerLoadError) {
    return `${error.message}; fix --container ${error.containerId}=MODULE (or KJOBS_CONTAINERS)`;
  }
  return error instanceof Error ? error.message : String(error);
}
