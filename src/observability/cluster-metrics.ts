/**
 * Metrics of a cluster (`--workers N`): a scrape reaches one worker, which asks the primary; the primary collects
 * every worker's metrics over IPC and adds them up (counters and histograms summed; gauges read from the store
 * taken once), so `/metrics` and KIE's metrics describe the whole service whichever process answers.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { writeKieExposition } from './kie-metrics.js';
import type { Metrics } from './metrics.js';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The whole cluster's metrics, in Prometheus' text and in KIE's. */
export interface ClusterTexts {
  prometheus: string;
  kie: string;
}

type Message =
  | { kjobs: 'metrics-request'; id: number }
  | { kjobs: 'metrics-collect'; id: number }
  | { kjobs: 'metrics-part'; id: number; all: MetricsJson; kie: MetricsJson }
  | { kjobs: 'metrics-answer'; id: number; texts?: ClusterTexts; error?: string };

const COLLECT_TIMEOUT_MS = 5_000;

function isMessage(message: unknown): message is Message {
  const kind = (message as { kjobs?: unknown } | null)?.kjobs;
  return typeof kind === 'string' && kind.startsWith('metrics-');
}

/** In the primary: answers workers' requests for the cluster's metrics. */
export function serveClusterMetrics(logger: Logger): void {
  let nextId = 0;
  const collecting = new Map<number, { parts: { all: MetricsJson; kie: MetricsJson }[]; done: () => void }>();

  const collect = (): Promise<ClusterTexts> => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker?.isConnected());
    return new Promise<{ all: MetricsJson; kie: MetricsJson }[]>((resolve) => {
      const parts: { all: MetricsJson; kie: MetricsJson }[] = [];
      // A worker that does not answer in time (stopping, busy) is left out rather than failing the scrape.
      const timer = setTimeout(() => finish(), COLLECT_TIMEOUT_MS);
      const finish = () => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve(parts);
      };
      collecting.set(id, {
        parts,
        done: () => {
          if (parts.length >= workers.length) finish();
        },
      });
      for (const worker of workers) worker?.send({ kjobs: 'metrics-collect', id } satisfies Message);
      if (workers.length === 0) finish();
    }).then(async (parts) => ({
      prometheus: await AggregatorRegistry.aggregate(parts.map((part) => part.all)).metrics(),
      kie: await writeKieExposition(AggregatorRegistry.aggregate(parts.map((part) => part.kie))),
    }));
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.kjobs === 'metrics-part') {
      const pending = collecting.get(message.id);
      pending?.parts.push({ all: message.all, kie: message.kie });
      pending?.done();
    } else if (message.kjobs === 'metrics-request') {
      collect().then(
        (texts) => worker.send({ kjobs: 'metrics-answer', id: message.id, texts } satisfies Message),
        (error: unknown) => {
          logger.error({ err: error }, 'could not add up the workers’ metrics');
          worker.send({ kjobs: 'metrics-answer', id: message.id, error: String(error) } satisfies Message);
        },
      );
    }
  });
}

/**
 * In a worker: answers the primary's collection with this process's metrics, and returns how to ask the primary
 * for the whole cluster's.
 */
export function joinClusterMetrics(metrics: Metrics): () => Promise<ClusterTexts> {
  let nextId = 0;
  const waiting = new Map<
    number,
    { resolve: (texts: ClusterTexts) => void; reject: (error: Error) => void }
  >();
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.kjobs === 'metrics-collect') {
      void Promise.all([metrics.registry.getMetricsAsJSON(), metrics.kie.registry.getMetricsAsJSON()]).then(
        ([all, kie]) => process.send?.({ kjobs: 'metrics-part', id: message.id, all, kie } satisfies Message),
      );
    } else if (message.kjobs === 'metrics-answer') {
      const request = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.texts) request?.resolve(message.texts);
      else request?.reject(new Error(message.error ?? 'no metrics from the primary process'));
    }
  });
  return () =>
    new Promise<ClusterTexts>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      process.send?.({ kjobs: 'metrics-request', id } satisfies Message);
    });
}
