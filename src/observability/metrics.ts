import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATUSES } from '../core/index.js';
import type { Kjobs } from '../kjobs.js';
import { createKieMetrics, type KieMetrics } from './kie-metrics.js';

/** Prometheus metrics of one kjobs process: jobs by command and container, queue depth, attempts, HTTP. */
export interface Metrics {
  registry: Registry;
  /** KIE Server's job metrics (also in `registry`), served in KIE's text at KIE's address. */
  kie: KieMetrics;
  /** Records one HTTP request (called by the HTTP layer). */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
}

/** Creates the metrics and wires them to kjobs' events; `/metrics` serves `registry.metrics()`. */
export function createMetrics(kjobs: Kjobs, registry = new Registry()): Metrics {
  // Node's defaults with kjobs' prefix: kjobs_process_cpu_seconds_total, kjobs_nodejs_eventloop_lag_seconds...
  collectDefaultMetrics({ register: registry, prefix: 'kjobs_' });
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
  }

  return {
    registry,
    kie: createKieMetrics(kjobs, [registry]),
    observeHttp(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
  };
}
