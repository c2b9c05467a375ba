/** Which PostgreSQL failures mean "the database cannot be reached now" (answered as 503), and which are data errors. */
import { StoreUnavailableError, ValidationError } from '../../core/index.js';

/** Socket errors of Node when the server is down or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs of a server that is going away, starting, full or read-only (a standby after a failover), or that
 * refuses the login or the database (a rotated password, a dropped database); class 08 (connection exception) is
 * matched as a whole.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300', '25006', '28000', '28P01', '3D000']);

/** Messages of the pg driver and pool for a connection that is lost, not made in time, or closed. */
const DRIVER_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|Cannot use a pool after calling end|Connection ended/i;

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08')) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  return DRIVER_MESSAGES.test(error.message);
}

/** Deadlocks and serialization failures: the transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '40P01' || code === '40001';
}

/** The error a store operation reports: StoreUnavailableError for a lost database, the error itself otherwise. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof ValidationError) return error;
  if (isConnectionError(error)) {
    const reason =
      error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
    return new StoreUnavailableError(`PostgreSQL is unavailable: ${reason}`, { cause: error });
  }
  // PostgreSQL text cannot hold U+0000 (SQLite can): refuse such input as invalid, not as a server failure.
  if ((error as { code?: unknown }).code === '22021') {
    return new ValidationError('Text values cannot contain the NUL character (\\u0000)');
  }
  return error;
}
