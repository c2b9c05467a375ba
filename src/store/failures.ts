/**
 * Which store failures pass by themselves (the database is down, busy, full or read-only for now, or PostgreSQL
 * aborted a transaction that may simply run again), and which are the write's own (poison: a write that fails the
 * same way however often it is tried). Writers keep and retry the first kind; the second kind they isolate and,
 * after a few tries, record on the job instead of retrying forever.
 */
import { StoreUnavailableError } from '../core/index.js';

/** SQLite result codes (and their extended forms) of a database that cannot take the write now. */
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM|INTERRUPT)/;
/** PostgreSQL deadlocks and serialization failures, after the store's own retries. */
const POSTGRES_TRANSIENT = new Set(['40P01', '40001']);

export function isTransientStoreError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string') return false;
  return SQLITE_TRANSIENT.test(code) || POSTGRES_TRANSIENT.has(code);
}
