/**
 * KIE's wire models (org.kie.server.api.model.instance.*), independent of JSON or XML: the fields each model
 * has, in the order KIE writes them. The JSON and XML writers render these.
 */
import type { DataMap, Job, JobError } from '../../core/index.js';
import type { ScheduleRequest } from '../../core/index.js';

/** ErrorInfoInstance: one failed attempt. */
export interface ErrorInfoInstance {
  id: number;
  requestId: number;
  message: string | null;
  stacktrace: string | null;
  /** Epoch milliseconds. */
  date: number;
}

/** RequestInfoInstance: one job as KIE shows it. */
export interface RequestInfoInstance {
  id: number;
  status: string;
  businessKey: string | null;
  message: string;
  retries: number;
  executions: number;
  command: string;
  /** Epoch milliseconds. */
  scheduledDate: number;
  /** Null unless asked for withData. */
  requestData: DataMap | null;
  /** Null unless asked for withData; then a map, empty when the job has no result yet. */
  responseData: DataMap | null;
  /** Null unless asked for withErrors. */
  errors: ErrorInfoInstance[] | null;
  containerId: string | null;
}

/** KIE's Message (`kie-message`): a severity, when (epoch milliseconds), and lines of text. */
export interface KieMessage {
  severity: 'INFO' | 'WARN' | 'ERROR';
  timestamp: number;
  content: string[];
}

/** KieServerInfo, the answer of `GET /server` (wrapped in a ServiceResponse). */
export interface KieServerInfo {
  id: string;
  version: string;
  name: string;
  location: string;
  capabilities: string[];
  messages: KieMessage[];
  mode: string;
}

/**
 * KieContainerResource, one container as `GET /server/containers` shows it. kjobs containers are ES modules, not
 * kjars: no release id, no scanner, no config items. `commands` (the names it offers) is a kjobs extension field.
 */
export interface KieContainerResource {
  containerId: string;
  status: 'STARTED';
  messages: KieMessage[];
  commands: string[];
}

/** A parsed JobRequestInstance (the schedule body), before the container from the query is applied. */
export type JobRequestInstance = Required<Pick<ScheduleRequest, 'command' | 'scheduledAt' | 'data'>>;

/** Options that change how a model is written. */
export interface WriteOptions {
  /** JSON dates: KIE's `{"java.util.Date": ms}` wrapper or ISO-8601 strings. */
  jsonDates: 'kie' | 'iso';
  /** JSON: leave out null fields (KIE's `fields=not_null` media-type parameter). */
  omitNulls: boolean;
  /** JSON: wrap the scheduled id as `{"value": id}` (KIE's `strict=true` media-type parameter). */
  strict: boolean;
}

function toErrorInfoInstance(error: JobError): ErrorInfoInstance {
  return {
    id: error.id,
    requestId: error.jobId,
    message: error.message,
    stacktrace: error.stacktrace,
    date: error.date,
  };
}

/** A job as KIE's RequestInfoInstance; data and errors only when the job was loaded with them and asked for. */
export function toRequestInfoInstance(
  job: Job,
  { withData = false, withErrors = false }: { withData?: boolean; withErrors?: boolean } = {},
): RequestInfoInstance {
  return {
    id: job.id,
    status: job.status,
    businessKey: job.businessKey,
    message: job.message,
    retries: job.retries,
    executions: job.executions,
    command: job.command,
    scheduledDate: job.scheduledAt,
    requestData: withData ? (job.requestData ?? {}) : null,
    // KIE shows an empty map, not null, for a job without a result when data is asked for.
    responseData: withData ? (job.responseData ?? {}) : null,
    errors: withErrors ? (job.errors ?? []).map(toErrorInfoInstance) : null,
    containerId: job.containerId,
  };
}
