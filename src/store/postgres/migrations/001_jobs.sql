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
CREATE INDEX jobs_by_business_key ON jobs (business_key, id) WHERE business_key IS NOT NULL;
CREATE INDEX jobs_by_command ON jobs (command, id);
CREATE INDEX jobs_by_container ON jobs (container_id, status, id) WHERE container_id IS NOT NULL;
CREATE INDEX jobs_by_process_instance ON jobs (process_instance_id, status, id)
  WHERE process_instance_id IS NOT NULL;

-- Claiming: only waiting jobs are in this index, in the claim's ORDER BY order, so a claim reads the first due
-- rows and stops (claim_jobs below). The second serves the executor's wake-up timer (min(scheduled_at) of waiting
-- jobs).
CREATE INDEX jobs_due ON jobs (priority DESC, scheduled_at, id) WHERE status IN ('QUEUED', 'RETRYING');
CREATE INDEX jobs_due_time ON jobs (scheduled_at) WHERE status IN ('QUEUED', 'RETRYING');
-- Rescuing jobs of lost workers.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'RUNNING';
-- Cleaning up finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Claiming due jobs for one worker: one statement. It sits in a function only to be planned with sorting switched
-- off: whatever the statistics say (a fresh table, a burst after a quiet spell), the planner then reads jobs_due in
-- the ORDER BY's order and stops after max_jobs rows, instead of sorting every due job on each claim (left to
-- itself with stale statistics it does, at 5 ms a claim for 15,000 due jobs). SKIP LOCKED keeps concurrent
-- claimers apart. The scheduled time moves to the start of the run, as in KIE. `owner_id` null: only jobs without
-- an owner; `container_ids` null: any container.
CREATE FUNCTION claim_jobs(due_by bigint, owner_id text, container_ids text[], left_out_commands text[],
                           worker text, lease_ms bigint, max_jobs integer)
RETURNS SETOF jobs LANGUAGE sql
SET enable_sort = off SET search_path FROM CURRENT
AS $$
  UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = due_by, started_at = due_by,
    worker_id = worker, lease_expires_at = due_by + lease_ms
  WHERE id IN (
    SELECT id FROM jobs
    WHERE status IN ('QUEUED', 'RETRYING') AND scheduled_at <= due_by
      AND (owner IS NULL OR owner = owner_id)
      AND (container_ids IS NULL OR container_id IS NULL OR container_id = ANY (container_ids))
      AND command <> ALL (left_out_commands)
    ORDER BY priority DESC, scheduled_at, id
    LIMIT max_jobs
    FOR UPDATE SKIP LOCKED)
  RETURNING *
$$;
