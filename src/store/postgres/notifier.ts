/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other queries): calls its listeners on each
 * NOTIFY of the channel, and reconnects with backoff when the connection drops. After a reconnection the
 * listeners are called once, since notifications sent meanwhile were lost.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { quoteIdent } from './statements.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

export class Notifier {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly log: Logger,
  ) {}

  /** Adds a listener (connecting on the first); answers its removal. */
  async add(listener: () => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    if (!this.client && !this.retryTimer) {
      await (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
    }
    return async () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) await this.close();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.closed = false;
    const client = new pg.Client(this.config);
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.callListeners();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      void client.end().catch(() => undefined);
      this.retry(error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.failures > 0) {
      this.log.info({ channel: this.channel }, 'PostgreSQL listener reconnected');
      this.failures = 0;
      this.callListeners(); // what was scheduled while we were away
    }
  }

  private lost(client: pg.Client, error?: Error): void {
    if (client !== this.client || this.closed) return;
    this.client = undefined;
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.retry(error ?? new Error('connection ended'));
  }

  private retry(error: unknown): void {
    if (this.closed || this.listeners.size === 0) return;
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.failures++;
    this.log.warn(
      { err: error, channel: this.channel, retryInMs: delay },
      'PostgreSQL listener lost its connection; reconnecting',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
    }, delay);
    this.retryTimer.unref();
  }

  private callListeners(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log.warn({ err: error }, 'a job listener failed');
      }
    }
  }
}
