/**
 * `kjobs/client`: a typed client of KIE Server's "Asynchronous jobs" REST API, for kjobs and KIE Server alike.
 * No server code and no Node.js modules: it runs wherever `fetch` does.
 *
 * @packageDocumentation
 */
export {
  KieJobsClient,
  type CallOptions,
  type ContainerOptions,
  type FetchFunction,
  type GetRequestOptions,
  type KieJobsClientOptions,
  type ListOptions,
  type PageOptions,
  type PausedTarget,
  type WireFormat,
} from './client.js';
export { ApiError, ConnectionError } from './errors.js';
export type {
  BulkResult,
  BulkSelection,
  JobBreakdown,
  JobBreakdownRow,
  JobStats,
  JobStatsPoint,
  JobTimeline,
  JobTimelineEntry,
} from './extensions.js';
export type {
  WorkerClaim,
  WorkerFailure,
  WorkerHeartbeat,
  WorkerJob,
  WorkerServerInfo,
} from './worker-protocol.js';
export { DATE_WRAPPER_KEY, parseIsoDate, readDate } from './dates.js';
export {
  JOB_STATUSES,
  type DataMap,
  type DataValue,
  type ErrorInfoInstance,
  type ErrorInfoInstanceList,
  type JobRequestInstance,
  type JobStatus,
  type KieContainerResource,
  type KieMessage,
  type ReleaseId,
  type JobDependencies,
  type JobLink,
  type JobProgress,
  type RequestInfoInstance,
  type RequestInfoInstanceList,
} from './models.js';
