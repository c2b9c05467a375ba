/**
 * Worker locks on PostgreSQL: each worker holds a session advisory lock named after its schema and id on a
 * connection of its own, for as long as it runs. PostgreSQL drops it when that session ends, which it does at once
 * when the worker's process dies (its socket closes), so a node that can take the lock knows the worker's session
 * is gone. A session is not a process: a live worker whose connection broke has no lock until it reconnects (a
 * second or so); the lease keeper therefore asks only about the earlier runs of its own node (worker-identity.ts).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { WorkerLock } from '../job-store.js';

/** The advisory lock key of a worker: a 64-bit hash of the schema and the worker id. */
export const WORKER_LOCK_KEY = `hashtextextended('kjobs.worker:' || $1::text || ':' || $2::text, 0)`;

export class PostgresWorkerLock implements WorkerLock {
  private client: pg.Client | undefined;
  private released = false;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly config: pg.ClientConfig,
    private readonly keys: [schema: string, workerId: string],
    private readonly log: Logger,
  ) {}

  /** Takes the lock; waits while a node looking at this worker holds it for a moment. */
  static async hold(
    config: pg.ClientConfig,
    schema: string,
    workerId: string,
    log: Logger,
  ): Promise<PostgresWorkerLock> {
    const lock = new PostgresWorkerLock(config, [schema, workerId], log);
    await lock.connect();
    return lock;
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', () => undefined); // followed by 'end'
    try {
      await client.connect();
      await client.query(`SELECT pg_advisory_lock(${WORKER_LOCK_KEY})`, this.keys);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.released) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    client.once('end', () => {
      if (this.client !== client || this.released) return;
      this.client = undefined;
      this.log.warn(
        { worker: this.keys[1] },
        "the worker lock's connection to PostgreSQL was lost; taking the lock again",
      );
      this.retryLater();
    });
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.connect().catch(() => {
        if (!this.released) this.retryLater();
      });
    }, 1000);
    this.retryTimer.unref();
  }
}
