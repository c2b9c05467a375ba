/**
 * KIE Server's Prometheus job metrics, under KIE's names, types, help texts and labels, so that dashboards and
 * alerts written for KIE Server work on kjobs unchanged. What each one counts follows KIE's PrometheusJobListener
 * (kie-server-services-prometheus) and its server start gauge PrometheusKieServerEventListener:
 *
 * - `kie_server_job_scheduled_total` (counter): jobs scheduled, by `container_id` and `command_name`;
 * - `kie_server_job_running_total` (gauge): runs in progress here (+1 before a run, -1 after it);
 * - `kie_server_job_executed_total` (counter): runs ended, with `failed` "true" or "false" between the two labels;
 * - `kie_server_job_cancelled_total` (counter): jobs cancelled;
 * - `kie_server_job_duration_seconds` (summary, count and sum): from the job's due time (KIE: `RequestInfo.time`)
 *   to the end of each run;
 * - `kie_server_start_time` (gauge): epoch milliseconds when the server started listening, labelled `name`,
 *   `server_id`, `location`, `version`.
 *
 * `container_id` is the job's container (KIE: its deployment id), or "" when none. The metrics are prom-client's;
 * `writeKieExposition` writes them the way KIE's Prometheus client (simpleclient 0.x, `TextFormat.write004`) does:
 * a comma after the last label, values as Java doubles (`1.0`, `1.764590712345E12`), a summary's `_count` first.
 */
import { Counter, Gauge, Registry, Summary } from 'prom-client';
import type { Kjobs } from '../kjobs.js';

/** KieServerInfo's fields that label `kie_server_start_time`. */
export interface KieServerIdentity {
  name: string;
  serverId: string;
  location: string;
  version: string;
}

export interface KieMetrics {
  /** Holds only KIE's metrics (they are registered in kjobs' registry as well). */
  registry: Registry;
  /** Sets `kie_server_start_time` (called once the server listens). */
  serverStarted(identity: KieServerIdentity, at?: number): void;
  /** KIE's text, for `/kie-server/services/rest/metrics`. */
  exposition(): Promise<string>;
}

/** KIE's content type for the metrics resource (its MetricsResource produces text/plain). */
export const KIE_METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface JobLabels {
  containerId: string | null;
  command: string;
}

/** Creates KIE's job metrics, registered in `registries` and in a registry of their own, wired to kjobs' events. */
export function createKieMetrics(kjobs: Kjobs, registries: Registry[] = []): KieMetrics {
  const registry = new Registry();
  const registers = [registry, ...registries];
  const jobLabelNames = ['container_id', 'command_name'] as const;
  const scheduled = new Counter({
    name: 'kie_server_job_scheduled_total',
    help: 'Kie Server Started Jobs',
    labelNames: jobLabelNames,
    registers,
  });
  const running = new Gauge({
    name: 'kie_server_job_running_total',
    help: 'Kie Server Running Jobs',
    labelNames: jobLabelNames,
    registers,
  });
  const executed = new Counter({
    name: 'kie_server_job_executed_total',
    help: 'Kie Server Executed Jobs',
    labelNames: ['container_id', 'failed', 'command_name'],
    registers,
  });
  const cancelled = new Counter({
    name: 'kie_server_job_cancelled_total',
    help: 'Kie Server Cancelled Jobs',
    labelNames: jobLabelNames,
    registers,
  });
  const duration = new Summary({
    name: 'kie_server_job_duration_seconds',
    help: 'Kie Server Job Duration',
    labelNames: jobLabelNames,
    percentiles: [], // KIE's summary has no quantiles: count and sum only
    registers,
  });
  const startTime = new Gauge({
    name: 'kie_server_start_time',
    help: 'Kie Server Start Time',
    labelNames: ['name', 'server_id', 'location', 'version'],
    registers,
    // With --workers, the service started when its first process did.
    aggregator: 'min',
  });

  // Labels in KIE's order: the text writer keeps the order given here.
  const labels = (job: JobLabels) => ({ container_id: job.containerId ?? '', command_name: job.command });
  kjobs.on('scheduled', (jobs) => jobs.forEach((job) => scheduled.inc(labels(job))));
  kjobs.on('cancelled', (job) => cancelled.inc(labels(job)));
  kjobs.on('cancelledMany', (jobs) => jobs.forEach((job) => cancelled.inc(labels(job))));

  const executor = kjobs.executor;
  if (executor) {
    // Runs started by this process: a job rescued from a lost worker ends here without having run here.
    const runsHere = new Set<number>();
    executor.on('started', (job) => {
      runsHere.add(job.id);
      running.inc(labels(job));
    });
    const ended = (job: JobLabels & { id: number; scheduledAt: number }, failed: boolean | undefined) => {
      if (!runsHere.delete(job.id)) return;
      running.dec(labels(job));
      if (failed === undefined) return; // superseded: the run's outcome was not written
      const { container_id, command_name } = labels(job);
      executed.inc({ container_id, failed: String(failed), command_name });
      duration.observe(labels(job), Math.max(0, Date.now() - job.scheduledAt) / 1000);
    };
    executor.on('completed', (job) => ended(job, false));
    executor.on('retrying', (job) => ended(job, true));
    executor.on('failed', (job) => ended(job, true));
    executor.on('superseded', (job) => ended(job, undefined));
  }

  return {
    registry,
    serverStarted(identity, at = Date.now()) {
      startTime.reset();
      startTime.set(
        {
          name: identity.name,
          server_id: identity.serverId,
          location: identity.location,
          version: identity.version,
        },
        at,
      );
    },
    exposition: () => writeKieExposition(registry),
  };
}

/** A double as Java's `Double.toString` writes it (what KIE's Prometheus client writes): `1.0`, `0.25`, `1.5E12`. */
export function javaDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const plain = String(value);
    return plain.includes('.') ? plain : `${plain}.0`;
  }
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

const escapeLabelValue = (text: string) =>
  text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function sampleLine(name: string, labels: Record<string, string | number>, value: number): string {
  const pairs = Object.entries(labels).map(([key, text]) => `${key}="${escapeLabelValue(String(text))}",`);
  return `${name}${pairs.length > 0 ? `{${pairs.join('')}}` : ''} ${javaDouble(value)}\n`;
}

/** The registry's metrics in KIE's text: `# HELP`, `# TYPE`, then one line per sample. */
export async function writeKieExposition(registry: Registry): Promise<string> {
  let text = '';
  for (const metric of await registry.getMetricsAsJSON()) {
    text += `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
    const values = metric.values as {
      labels: Record<string, string | number>;
      value: number;
      metricName?: string;
    }[];
    if (String(metric.type) === 'summary') {
      // prom-client lists sum then count per label set; KIE's client writes count then sum.
      const counts = values.filter((sample) => sample.metricName === `${metric.name}_count`);
      const sums = values.filter((sample) => sample.metricName === `${metric.name}_sum`);
      counts.forEach((count, index) => {
        text += sampleLine(`${metric.name}_count`, count.labels, count.value);
        const sum = sums[index];
        if (sum) text += sampleLine(`${metric.name}_sum`, sum.labels, sum.value);
      });
      continue;
    }
    for (const sample of values)
      text += sampleLine(sample.metricName ?? metric.name, sample.labels, sample.value);
  }
  return text;
}
