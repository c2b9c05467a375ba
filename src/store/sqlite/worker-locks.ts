/**
 * Worker locks on SQLite: each worker holds an exclusive lock on a small file of its own, next to the database
 * (`<database>-workers/<hash of the worker id>.lock`), for as long as its process lives. The operating system drops
 * the lock when the process ends however it ends (SIGKILL, a container stopped), so another process that can take
 * the lock knows for sure the worker is gone, even from another pid namespace (a restarted container) on the same
 * files. The locks are SQLite's own (a second small database kept in an exclusive transaction), so they are the
 * ones the database itself relies on: not valid on network file systems that do not honour them, as SQLite says.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerLock } from '../job-store.js';

export class SqliteWorkerLocks {
  private readonly folder: string;
  /** Locks held now, given back by releaseAll() when the store closes. */
  private readonly held = new Set<WorkerLock>();

  constructor(databasePath: string) {
    this.folder = `${databasePath}-workers`;
  }

  /** Takes `workerId`'s lock for as long as this process lives, or until release(). */
  hold(workerId: string): WorkerLock {
    mkdirSync(this.folder, { recursive: true });
    const file = this.fileOf(workerId);
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      throw new Error(`worker ${workerId} is already running here (its lock ${file} is held)`, {
        cause: error,
      });
    }
    const lock: WorkerLock = {
      release: async () => {
        this.held.delete(lock);
        if (!db.open) return;
        removeFile(file); // while still holding the lock: nobody may find the file unlocked in between
        db.close();
      },
    };
    this.held.add(lock);
    return lock;
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((lock) => lock.release()));
  }

  /**
   * Whether `workerId`'s process has certainly ended: its lock file is there and nobody holds it. The file of a
   * worker found gone is removed. False when it is held, and when there is none (the worker never took one).
   */
  isGone(workerId: string): boolean {
    const file = this.fileOf(workerId);
    if (!existsSync(file)) return false;
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 0, fileMustExist: true });
      db.exec('BEGIN EXCLUSIVE');
      removeFile(file);
      return true;
    } catch {
      return false; // held (SQLITE_BUSY), or removed by another process that found it gone first
    } finally {
      db?.close();
    }
  }

  private fileOf(workerId: string): string {
    return join(this.folder, `${createHash('sha256').update(workerId).digest('hex').slice(0, 32)}.lock`);
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already removed
  }
}
