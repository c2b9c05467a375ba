-- Issue 18: jobs that wait for other jobs (dependencies), progress of a running job, and the trace context a job
-- carries from its schedule request. All kjobs-only: KIE's wire fields are unchanged. Run with search_path set to
-- the store's schema.

-- Parents not yet ended that a job waits for: a job with waiting_for > 0 stays QUEUED (as KIE clients see it) but
-- is left out of the claim's indexes, so a waiting child costs nothing until its last parent ends.
ALTER TABLE jobs
  ADD COLUMN waiting_for integer NOT NULL DEFAULT 0,
  -- Set once a job has children: only then does its end look for children to release (the trigger below).
  ADD COLUMN has_children boolean NOT NULL DEFAULT false,
  -- The latest progress a command reported ({"value": n, "data": {...}}) and when.
  ADD COLUMN progress json,
  ADD COLUMN progress_at bigint,
  -- W3C traceparent of the request that scheduled the job: its runs are spans of that trace.
  ADD COLUMN trace_parent text;

-- One row per (parent, child). resolved: the parent has ended and the child no longer counts it.
CREATE TABLE job_dependencies (
  parent_id      bigint  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  job_id         bigint  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_on_failure boolean NOT NULL,
  resolved       boolean NOT NULL DEFAULT false,
  PRIMARY KEY (parent_id, job_id)
);
CREATE INDEX job_dependencies_by_job ON job_dependencies (job_id, parent_id);

DROP INDEX jobs_due;
DROP INDEX jobs_due_time;
CREATE INDEX jobs_due ON jobs (priority DESC, scheduled_at, id)
  WHERE status IN ('QUEUED', 'RETRYING') AND waiting_for = 0;
CREATE INDEX jobs_due_time ON jobs (scheduled_at) WHERE status IN ('QUEUED', 'RETRYING') AND waiting_for = 0;

-- claim_jobs of 001 with one more condition: jobs waiting for parents are not due (and jobs_due above, whose
-- predicate the condition matches, serves the claim). Merging: keep `AND waiting_for = 0` in the latest claim_jobs.
CREATE OR REPLACE FUNCTION claim_jobs(due_by bigint, owner_id text, container_ids text[], left_out_commands text[],
                                      worker text, lease_ms bigint, max_jobs integer)
RETURNS SETOF jobs LANGUAGE sql
SET enable_sort = off SET search_path FROM CURRENT
AS $$
  UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = due_by, started_at = due_by,
    worker_id = worker, lease_expires_at = due_by + lease_ms
  WHERE id IN (
    SELECT id FROM jobs
    WHERE status IN ('QUEUED', 'RETRYING') AND waiting_for = 0 AND scheduled_at <= due_by
      AND (owner IS NULL OR owner = owner_id)
      AND (container_ids IS NULL OR container_id IS NULL OR container_id = ANY (container_ids))
      AND command <> ALL (left_out_commands)
    ORDER BY priority DESC, scheduled_at, id
    LIMIT max_jobs
    FOR UPDATE SKIP LOCKED)
  RETURNING *
$$;

-- A parent's end releases its children in the same transaction as the parent's outcome, whichever path wrote it
-- (an outcome, a cancel, a rescued lease). DONE: the child counts one parent less. ERROR or CANCELLED: the child
-- is CANCELLED with an error record naming the parent, unless it asked to run anyway (run_on_failure). A cancelled
-- child ends too, so its own children follow. Two parents ending at once take turns on the child's row.
CREATE FUNCTION release_children() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  released integer;
BEGIN
  UPDATE jobs SET waiting_for = waiting_for - 1
  WHERE waiting_for > 0 AND id IN (
    SELECT job_id FROM job_dependencies
    WHERE parent_id = NEW.id AND NOT resolved AND (NEW.status = 'DONE' OR run_on_failure));
  GET DIAGNOSTICS released = ROW_COUNT;
  IF NEW.status <> 'DONE' THEN
    INSERT INTO job_errors (job_id, message, stacktrace, error_date)
    SELECT d.job_id, 'Parent job ' || NEW.id || ' ended ' || NEW.status, NULL, coalesce(NEW.finished_at, 0)
    FROM job_dependencies d JOIN jobs c ON c.id = d.job_id
    WHERE d.parent_id = NEW.id AND NOT d.resolved AND NOT d.run_on_failure
      AND c.status = 'QUEUED' AND c.waiting_for > 0
    ORDER BY d.job_id;
    UPDATE jobs SET status = 'CANCELLED', finished_at = NEW.finished_at
    WHERE status = 'QUEUED' AND waiting_for > 0 AND id IN (
      SELECT job_id FROM job_dependencies WHERE parent_id = NEW.id AND NOT resolved AND NOT run_on_failure);
  END IF;
  UPDATE job_dependencies SET resolved = true WHERE parent_id = NEW.id AND NOT resolved;
  -- Children that may now be due: wake the listening nodes (delivered on commit).
  IF released > 0 THEN
    PERFORM pg_notify(current_schema() || '_jobs', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_release_children AFTER UPDATE OF status ON jobs
FOR EACH ROW WHEN (NEW.has_children AND NEW.status IN ('DONE', 'ERROR', 'CANCELLED')
  AND OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION release_children();
