import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATUSES } from '../core/index.js';
import type { Kjobs } from '../kjobs.js';
import { joinClusterMetrics } from './cluster-metrics.js';
import { createKieMetrics, type KieMetrics } from './kie-metrics.js';

/** Prometheus metrics of one kjobs process: jobs by command and container, queue depth, attempts, HTTP. */
export interface Metrics {
  registry: Registry;
  /** KIE Server's job metrics (also in `registry`), served in KIE's text at KIE's address. */
  kie: KieMetrics;
  /** Records one HTTP request (called by the HTTP layer). */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** What `/metrics` serves: this process's metrics, or with `--workers`, the sum over the processes. */
  prometheusText(): Promise<string>;
  /** What KIE's metrics address serves, likewise. */
  kieText(): Promise<string>;
}

export interface MetricsOptions {
  /** This process is a worker of a cluster (`--workers`): texts add up every worker's metrics. */
  cluster?: boolean;
  /** What `--otel`'s exporter sent and dropped: counted as `kjobs_otel_spans_exported_total` and `..._dropped_total`. */
  otel?: { readonly exported: number; readonly dropped: number };
}

/**
 * Per limit (kind and name: `command` and `container` concurrency, `command-rate` and `container-rate`, `key` and
 * `command-key` for fair concurrency, whose name is `*` or the command: key values would be too many labels).
 */
function watchLimits(executor: NonNullable<Kjobs['executor']>, registry: Registry): void {
  const labelNames = ['kind', 'name'] as const;
  const heldBack = new Counter({
    name: 'kjobs_limit_held_back_total',
    help: 'Due jobs a claim left QUEUED because of a limit (a job waiting through several claims counts in each)',
    labelNames,
    registers: [registry],
  });
  const inUse = new Gauge({
    name: 'kjobs_limit_in_use',
    help: "Use of a limit at this process's last claim: jobs running (concurrency) or starts in the window (rate)",
    labelNames,
    registers: [registry],
    aggregator: 'max',
  });
  const limit = new Gauge({
    name: 'kjobs_limit',
    help: 'The value of a limit: jobs at once (concurrency, key) or starts per period (rate)',
    labelNames,
    registers: [registry],
    aggregator: 'max',
  });
  executor.on('limits', (report) => {
    for (const use of report.uses) {
      const keyed = use.kind === 'key' || use.kind === 'command-key';
      const labels = {
        kind: use.kind,
        name: keyed ? (use.kind === 'key' ? '*' : use.name.split(' ')[0]!) : use.name,
      };
      if (use.heldBack > 0) heldBack.inc(labels, use.heldBack);
      limit.set(labels, use.limit);
      if (!keyed) inUse.set(labels, use.used);
    }
  });
}

/** Creates the metrics and wires them to kjobs' events; `/metrics` serves `registry.metrics()`. */
export function createMetrics(
  kjobs: Kjobs,
  registry = new Registry(),
  options: MetricsOptions = {},
): Metrics {
  // Node's defaults with kjobs' prefix: kjobs_process_cpu_seconds_total, kjobs_nodejs_eventloop_lag_seconds...
  collectDefaultMetrics({ register: registry, prefix: 'kjobs_' });
  const otel = options.otel;
  if (otel) {
    const spans = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    spans('kjobs_otel_spans_exported_total', 'Spans --otel exported to the collector', () => otel.exported);
    spans(
      'kjobs_otel_spans_dropped_total',
      'Spans --otel could not export (no collector listening, refused, timed out): the SDK drops them',
      () => otel.dropped,
    );
  }
  const labelNames = ['command', 'container'] as const;
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const scheduled = counter('kjobs_jobs_scheduled_total', 'Jobs scheduled');
  const started = counter('kjobs_jobs_started_total', 'Runs started');
  const completed = counter('kjobs_jobs_completed_total', 'Jobs DONE');
  const failed = counter('kjobs_jobs_failed_total', 'Jobs that failed for the last time (ERROR)');
  const retried = counter('kjobs_jobs_retried_total', 'Failed runs that will be retried');
  const cancelled = counter('kjobs_jobs_cancelled_total', 'Jobs cancelled');
  const rescued = counter('kjobs_jobs_rescued_total', 'Jobs taken back from a lost worker');
  const attempts = new Histogram({
    name: 'kjobs_job_attempt_duration_seconds',
    help: 'Duration of one run of a job, by command and outcome',
    labelNames: ['command', 'container', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  new Gauge({
    name: 'kjobs_jobs',
    help: 'Jobs in the store by status (queue depth)',
    labelNames: ['status'],
    registers: [registry],
    // Read from the store: every process of a cluster sees the same counts, so they are not added up.
    aggregator: 'first',
    async collect() {
      const counts = await kjobs.countByStatus();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
    },
  });
  const httpRequests = new Counter({
    name: 'kjobs_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'kjobs_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });

  const labels = (job: { command: string; containerId: string | null }) => ({
    command: job.command,
    container: job.containerId ?? '',
  });
  kjobs.on('scheduled', (jobs) => jobs.forEach((job) => scheduled.inc(labels(job))));
  kjobs.on('cancelled', (job) => cancelled.inc(labels(job)));
  kjobs.on('cancelledMany', (jobs) => jobs.forEach((job) => cancelled.inc(labels(job))));
  const executor = kjobs.executor;
  if (executor) {
    const attempt = (
      job: { command: string; containerId: string | null; startedAt: number | null },
      outcome: string,
    ) => attempts.observe({ ...labels(job), outcome }, (Date.now() - (job.startedAt ?? Date.now())) / 1000);
    executor.on('started', (job) => started.inc(labels(job)));
    executor.on('completed', (job) => {
      completed.inc(labels(job));
      attempt(job, 'done');
    });
    executor.on('retrying', (job) => {
      retried.inc(labels(job));
      attempt(job, 'retrying');
    });
    executor.on('failed', (job) => {
      failed.inc(labels(job));
      attempt(job, 'error');
    });
    executor.on('rescued', (job) => rescued.inc(labels(job)));
    watchLimits(executor, registry);
  }

  const kie = createKieMetrics(kjobs, [registry]);
  const metrics: Metrics = {
    registry,
    kie,
    observeHttp(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
    prometheusText: () => registry.metrics(),
    kieText: () => kie.exposition(),
  };
  if (options.cluster) {
    const ofCluster = joinClusterMetrics(metrics);
    metrics.prometheusText = async () => (await ofCluster()).prometheus;
    metrics.kieText = async () => (await ofCluster()).kie;
  }
  return metrics;
}
