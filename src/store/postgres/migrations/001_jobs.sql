-- Jobs (KIE's RequestInfo) and their error history (KIE's ErrorInfo). Times are epoch milliseconds (bigint), as
-- the JobStore interface speaks them. Run with search_path set to the store's schema.
CREATE TABLE jobs (
  id                  bigserial PRIMARY KEY,
  status              text    NOT NULL
    CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'ERROR', 'RETRYING', 'CANCELLED')),
  command             text    NOT NULL,
  business_key        text,
  container_id        text,
  process_instance_id bigint,
  owner               text,
  message             text    NOT NULL,
  priority            integer NOT NULL,
  retries             integer NOT NULL,
  executions          integer NOT NULL DEFAULT 0,
  scheduled_at        bigint  NOT NULL,
  -- json, not jsonb: the data comes back with its keys in the order they were given.
  request_data        json    NOT NULL,
  response_data       json,
  created_at          bigint  NOT NULL,
  started_at          bigint,
  finished_at         bigint,
  worker_id           text,
  lease_expires_at    bigint
) WITH (fillfactor = 90);

CREATE TABLE job_errors (
  id          bigserial PRIMARY KEY,
  job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  message     text,
  stacktrace  text,
  error_date  bigint NOT NULL
);
CREATE INDEX job_errors_by_job ON job_errors (job_id, id);

-- One index per list query, ordered by the id the list is sorted by (as in the SQLite store).
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_business_key ON jobs (business_key, id);
CREATE INDEX jobs_by_command ON jobs (command, id);
CREATE INDEX jobs_by_container ON jobs (container_id, status, id);
CREATE INDEX jobs_by_process_instance ON jobs (process_instance_id, status, id);

-- Claiming: only waiting jobs are in this index, in the claim's ORDER BY order, so a claim reads the first due
-- rows and stops. The second serves the executor's wake-up timer (min(scheduled_at) of waiting jobs).
CREATE INDEX jobs_due ON jobs (priority DESC, scheduled_at, id) WHERE status IN ('QUEUED', 'RETRYING');
CREATE INDEX jobs_due_time ON jobs (scheduled_at) WHERE status IN ('QUEUED', 'RETRYING');
-- Rescuing jobs of lost workers.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'RUNNING';
-- Cleaning up finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
