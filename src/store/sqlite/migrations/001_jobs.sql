-- Jobs (KIE's RequestInfo) and their error history (KIE's ErrorInfo). Times are epoch milliseconds.
CREATE TABLE jobs (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  status              TEXT    NOT NULL,
  command             TEXT    NOT NULL,
  business_key        TEXT,
  container_id        TEXT,
  process_instance_id INTEGER,
  owner               TEXT,
  message             TEXT    NOT NULL,
  priority            INTEGER NOT NULL,
  retries             INTEGER NOT NULL,
  executions          INTEGER NOT NULL DEFAULT 0,
  scheduled_at        INTEGER NOT NULL,
  request_data        TEXT    NOT NULL,
  response_data       TEXT,
  created_at          INTEGER NOT NULL,
  started_at          INTEGER,
  finished_at         INTEGER,
  worker_id           TEXT,
  lease_expires_at    INTEGER
);

CREATE TABLE job_errors (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  message     TEXT,
  stacktrace  TEXT,
  error_date  INTEGER NOT NULL
);
CREATE INDEX job_errors_by_job ON job_errors (job_id, id);

-- One index per list query, ordered by the id the list is sorted by. Key and command lists show all statuses
-- by default, so their indexes leave the status out (and are not rewritten on every state change);
-- container and process instance lists show QUEUED by default, so theirs include the status.
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_business_key ON jobs (business_key, id) WHERE business_key IS NOT NULL;
CREATE INDEX jobs_by_command ON jobs (command, id);
CREATE INDEX jobs_by_container ON jobs (container_id, status, id) WHERE container_id IS NOT NULL;
CREATE INDEX jobs_by_process_instance ON jobs (process_instance_id, status, id)
  WHERE process_instance_id IS NOT NULL;

-- Claiming: only waiting jobs are in these indexes, in the order they are claimed, and by due time for the
-- executor's wake-up timer.
CREATE INDEX jobs_due ON jobs (priority DESC, scheduled_at, id) WHERE status IN ('QUEUED', 'RETRYING');
CREATE INDEX jobs_due_time ON jobs (scheduled_at) WHERE status IN ('QUEUED', 'RETRYING');
-- Rescuing jobs of lost workers.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'RUNNING';
-- Cleaning up finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
