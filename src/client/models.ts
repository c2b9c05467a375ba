/**
 * The models of KIE Server's "Asynchronous jobs" API (`org.kie.server.api.model.instance.*`), as the client hands
 * them to you: the wire names in camelCase (`request-instance-id` is `requestInstanceId`) and dates as `Date`
 * objects, whatever the server wrote (JSON or XML, KIE's `{"java.util.Date": ms}` wrapper or ISO-8601).
 */

import type { JobStatus } from '../kie/statuses.js';

export { JOB_STATUSES, type JobStatus } from '../kie/statuses.js';

/**
 * A value in a job's data: JSON-like values, `Date` for dates (KIE's `{"java.util.Date": ms}` in JSON,
 * `xsi:type="xs:dateTime"` in XML), nested maps and lists.
 */
export type DataValue = string | number | boolean | null | Date | DataValue[] | { [key: string]: DataValue };

/** A job's request data or response data: names to values. */
export type DataMap = Record<string, DataValue>;

/** ErrorInfoInstance: one failed run of a job. */
export interface ErrorInfoInstance {
  /** Id of this error record. */
  errorInstanceId: number;
  /** Id of the job that failed. */
  requestInstanceId: number;
  /** The error's message; null when the error had none. */
  errorMessage: string | null;
  /** The error's stack trace, when the server recorded one. */
  errorStacktrace: string | null;
  /** When the run failed. */
  errorDate: Date;
}

/** ErrorInfoInstanceList: the errors of a job (`request-errors`). */
export interface ErrorInfoInstanceList {
  /** The errors, oldest first. */
  errorInfoInstance: ErrorInfoInstance[];
}

/** RequestInfoInstance: one job as KIE shows it. */
export interface RequestInfoInstance {
  /** The job's id. */
  requestInstanceId: number;
  /** Its status. */
  requestStatus: JobStatus;
  /** Its business key (`businessKey` in the request data), or null. */
  requestBusinessKey: string | null;
  /** KIE's message: `Ready to execute`, or `Rescheduled reoccurring job`. */
  requestMessage: string | null;
  /** Retries left. */
  requestRetries: number;
  /** How many times it ran. */
  requestExecutions: number;
  /** The command it runs. */
  requestCommand: string;
  /** When it is due; while and after it runs, when its last run started. */
  requestScheduledDate: Date | null;
  /** The request data; null unless asked for with `withData`. */
  requestData: DataMap | null;
  /** The command's result; null unless asked for with `withData` (then `{}` before a result exists). */
  responseData: DataMap | null;
  /** Errors of failed runs; null unless asked for with `withErrors`. */
  requestErrors: ErrorInfoInstanceList | null;
  /** The container (KIE deployment) the job belongs to, or null. */
  requestContainerId: string | null;
}

/** RequestInfoInstanceList: a page of jobs. Lists never carry data or errors. */
export interface RequestInfoInstanceList {
  /** The jobs of the page. */
  requestInfoInstance: RequestInfoInstance[];
}

/** JobRequestInstance: what `scheduleRequest` sends. */
export interface JobRequestInstance {
  /** The command to run, e.g. `org.jbpm.executor.commands.PrintOutCommand`. */
  jobCommand: string;
  /** When to run it; absent or null: now. */
  scheduledDate?: Date | null;
  /**
   * The job's data. KIE reads `businessKey`, `retries`, `retryDelay`, `priority`, `processInstanceId`, `owner` and
   * `callbacks` from it; the command receives all of it.
   */
  requestData?: DataMap;
}

/** KIE's Message: a severity, when, and lines of text. */
export interface KieMessage {
  /** `INFO`, `WARN` or `ERROR`. */
  severity: string;
  /** When it was written (null when the server sent none). */
  timestamp: Date | null;
  /** Its lines. */
  content: string[];
}

/** A kjar's Maven coordinates (KIE Server containers have them; kjobs containers do not). */
export interface ReleaseId {
  groupId: string | null;
  artifactId: string | null;
  version: string | null;
}

/** KieContainerResource: one container, as `listContainers` and `getContainer` answer it. */
export interface KieContainerResource {
  /** The container id (what jobs name as their container, KIE's deployment id). */
  containerId: string;
  /** `STARTED` (kjobs' containers always are); KIE Server also knows `CREATING`, `FAILED`, `DISPOSING`... */
  status: string;
  /** Its alias, or null. */
  containerAlias: string | null;
  /** The kjar it runs on KIE Server; null on kjobs. */
  releaseId: ReleaseId | null;
  /** What the server says about it (on kjobs: which commands it was created with). */
  messages: KieMessage[];
  /** The commands it offers (a kjobs extension; empty from KIE Server). */
  commands: string[];
}

/** A job's latest progress (kjobs extension: `getJobProgress`); all null when its command reported none. */
export interface JobProgress {
  id: number;
  status: JobStatus;
  /** Percentage 0-100, when reported. */
  value: number | null;
  /** The JSON map reported, if any. */
  data: Record<string, unknown> | null;
  /** When it was reported. */
  updatedAt: Date | null;
}

/** A job linked to another by request data `dependsOn` (kjobs extension). */
export interface JobLink {
  id: number;
  status: JobStatus;
  command: string;
  /** QUEUED and still waiting for parents. */
  waiting: boolean;
}

/** A job's parents and children (kjobs extension: `getJobDependencies`). */
export interface JobDependencies {
  id: number;
  /** Parents not yet ended; the job stays QUEUED while this is above 0. */
  waitingFor: number;
  parents: JobLink[];
  children: JobLink[];
}
