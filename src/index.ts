/** kjobs as a library: the job engine, its stores, commands and executor. */
export * from './core/index.js';
export * from './kjobs.js';
export type * from './store/job-store.js';
export { SqliteJobStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
export { PostgresJobStore, type PostgresStoreOptions } from './store/postgres/postgres-store.js';
export { CommandRegistry } from './commands/registry.js';
export type * from './commands/command.js';
export {
  Executor,
  JobCancelledError,
  JobTimeoutError,
  UnrecoverableError,
  WorkerLostError,
  type ExecutorOptions,
  type ExecutorEvents,
} from './executor/executor.js';
export { createServer, type ServerOptions } from './http/server.js';
export { openStore } from './store/open-store.js';
export { createMetrics, type Metrics } from './observability/metrics.js';
export {
  createRemoteWorker,
  RemoteWorker,
  RemoteWorkerSetupError,
  type RemoteWorkerOptions,
} from './remote/remote-worker.js';
export type { JobSource, ParentSummary } from './executor/job-source.js';
