/**
 * `--workers N`: N processes of `kjobs serve` (or `kjobs worker`) share the port through node:cluster, each
 * serving HTTP and running jobs on the same store. The primary process only supervises: it starts the workers,
 * relays stop signals, replaces a worker that dies after it started, and gives up when one cannot start (a bad
 * setting or a port in use would fail every replacement the same way).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { serveClusterMetrics } from '../observability/cluster-metrics.js';

/** Messages a worker sends the primary about its life. */
export interface WorkerLifeMessage {
  kjobs: 'ready';
  address?: string;
}

/** More deaths than this within RESTART_WINDOW_MS and the primary stops instead of replacing workers again. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export const isClusterWorker = (): boolean => cluster.isWorker;

/** In a worker: tells the primary this process is up (serving, or running jobs). */
export function reportReady(address?: string): void {
  if (cluster.isWorker) process.send?.({ kjobs: 'ready', address } satisfies WorkerLifeMessage);
}

/** In a worker that stopped or could not start: lets go of the primary, whose channel would keep it alive. */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}

function isLifeMessage(message: unknown): message is WorkerLifeMessage {
  return (
    typeof message === 'object' && message !== null && (message as { kjobs?: unknown }).kjobs === 'ready'
  );
}

/**
 * Runs `count` workers until a stop signal, then stops them gracefully. Resolves with the exit code: 0 after a
 * requested stop, 1 when a worker could not start or workers kept dying.
 */
export function superviseWorkers(
  count: number,
  logger: Logger,
  options: { relayHangup?: boolean } = {},
): Promise<number> {
  const ready = new WeakSet<Worker>();
  const deaths: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let announced = false;
  serveClusterMetrics(logger);

  return new Promise((resolve) => {
    const stopAll = (signal: NodeJS.Signals) => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    };
    const fork = () => cluster.fork();

    cluster.on('message', (worker, message: unknown) => {
      if (!isLifeMessage(message)) return;
      ready.add(worker);
      const workers = Object.values(cluster.workers ?? {});
      if (!announced && workers.length === count && workers.every((each) => each && ready.has(each))) {
        announced = true;
        logger.info(
          { workers: count, address: message.address },
          `kjobs: ${count} processes ${message.address ? `serving on ${message.address}` : 'running jobs'}`,
        );
      }
    });

    cluster.on('exit', (worker, code, signal) => {
      const remaining = Object.keys(cluster.workers ?? {}).length;
      if (stopping) {
        if (remaining === 0) resolve(exitCode);
        return;
      }
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (!ready.has(worker)) {
        // It said why in its own log; its replacements would fail the same way.
        logger.fatal(`kjobs: a worker process could not start (${how}); stopping the others`);
        exitCode = 1;
      } else {
        const now = Date.now();
        deaths.push(now);
        while (deaths.length > 0 && deaths[0]! < now - RESTART_WINDOW_MS) deaths.shift();
        if (deaths.length <= MAX_RESTARTS) {
          logger.error(`kjobs: worker process ${worker.process.pid} ended (${how}); starting another`);
          fork();
          return;
        }
        logger.fatal(`kjobs: worker processes ended ${deaths.length} times in a minute; stopping`);
        exitCode = 1;
      }
      stopping = true;
      if (remaining === 0) resolve(exitCode);
      else stopAll('SIGTERM');
    });

    // Workers stop on SIGTERM from here (a terminal's Ctrl-C reaches them too; they leave SIGINT to the
    // primary, so that one Ctrl-C is one graceful stop). A second signal is relayed too: workers then exit at once.
    const onSignal = (signal: NodeJS.Signals) => {
      if (!stopping) logger.info({ signal }, `stopping ${count} kjobs processes`);
      stopping = true;
      stopAll('SIGTERM');
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // SIGHUP reloads the certificate and users files in each worker; without them it would end the workers.
    if (options.relayHangup) process.on('SIGHUP', () => !stopping && stopAll('SIGHUP'));

    for (let index = 0; index < count; index++) fork();
  });
}
