/**
 * What the client and the server both speak: KIE Server's "Asynchronous jobs" API. Neither side owns it; both import
 * it, and it imports nothing of theirs and no Node.js module (it runs in browsers with the client).
 *
 * Glossary (KIE's words, used the same way everywhere in kjobs):
 * - **job**: one request to run a command later (KIE's RequestInfo): its command, request data, status, retries,
 *   business key, container, due time, and what its runs left (response data, errors).
 * - **command**: what a job runs, by name (KIE: the Java class, `job-command`); a function in kjobs.
 * - **container**: the unit commands are deployed in (KIE's kie-container, `containerId`); in kjobs an ES module of
 *   commands and callbacks. A job names at most one.
 * - **attempt**: one run of a job's command; a failed attempt is recorded as an error (KIE's ErrorInfo) and, while
 *   retries are left, the job is RETRYING.
 * - **execution**: KIE's count of attempts started (`request-executions`); the attempt number is the count.
 * - **lease**: how long a worker holds a RUNNING job without renewing it; when it runs out, the worker is taken as
 *   lost and the attempt as failed (kjobs' own; KIE has a single executor).
 */
export * from './dates.js';
export * from './statuses.js';
export * from './xml.js';
