-- Issue 18: jobs that wait for other jobs (dependencies), progress of a running job, and the trace context a job
-- carries from its schedule request. All kjobs-only: KIE's wire fields are unchanged.

-- Parents not yet ended that a job waits for: a job with waiting_for > 0 stays QUEUED (as KIE clients see it) but
-- is left out of the claim's indexes, so a waiting child costs nothing until its last parent ends.
ALTER TABLE jobs ADD COLUMN waiting_for INTEGER NOT NULL DEFAULT 0;
-- Set once a job has children: only then does its end look for children to release (the trigger below).
ALTER TABLE jobs ADD COLUMN has_children INTEGER NOT NULL DEFAULT 0;
-- The latest progress a command reported (JSON: {"value": n, "data": {...}}) and when.
ALTER TABLE jobs ADD COLUMN progress TEXT;
ALTER TABLE jobs ADD COLUMN progress_at INTEGER;
-- W3C traceparent of the request that scheduled the job: its runs are spans of that trace.
ALTER TABLE jobs ADD COLUMN trace_parent TEXT;

-- One row per (parent, child). resolved: the parent has ended and the child no longer counts it.
CREATE TABLE job_dependencies (
  parent_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  job_id         INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  run_on_failure INTEGER NOT NULL,
  resolved       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (parent_id, job_id)
) WITHOUT ROWID;
CREATE INDEX job_dependencies_by_job ON job_dependencies (job_id, parent_id);

DROP INDEX jobs_due;
DROP INDEX jobs_due_time;
CREATE INDEX jobs_due ON jobs (priority DESC, scheduled_at, id)
  WHERE status IN ('QUEUED', 'RETRYING') AND waiting_for = 0;
CREATE INDEX jobs_due_time ON jobs (scheduled_at) WHERE status IN ('QUEUED', 'RETRYING') AND waiting_for = 0;

-- A parent's end releases its children in the same transaction as the parent's outcome, whichever path wrote it
-- (an outcome, a cancel, a rescued lease). DONE: the child counts one parent less. ERROR or CANCELLED: the child
-- is CANCELLED with an error record naming the parent, unless it asked to run anyway (run_on_failure). A cancelled
-- child ends too, so its own children follow (the store turns recursive_triggers on).
CREATE TRIGGER jobs_release_children AFTER UPDATE OF status ON jobs
WHEN NEW.has_children = 1 AND NEW.status IN ('DONE', 'ERROR', 'CANCELLED') AND OLD.status <> NEW.status
BEGIN
  UPDATE jobs SET waiting_for = waiting_for - 1
  WHERE waiting_for > 0 AND id IN (
    SELECT job_id FROM job_dependencies
    WHERE parent_id = NEW.id AND resolved = 0 AND (NEW.status = 'DONE' OR run_on_failure = 1));
  INSERT INTO job_errors (job_id, message, stacktrace, error_date)
  SELECT d.job_id, 'Parent job ' || NEW.id || ' ended ' || NEW.status, NULL, coalesce(NEW.finished_at, 0)
  FROM job_dependencies d JOIN jobs c ON c.id = d.job_id
  WHERE d.parent_id = NEW.id AND d.resolved = 0 AND NEW.status <> 'DONE' AND d.run_on_failure = 0
    AND c.status = 'QUEUED' AND c.waiting_for > 0;
  UPDATE jobs SET status = 'CANCELLED', finished_at = NEW.finished_at
  WHERE status = 'QUEUED' AND waiting_for > 0 AND NEW.status <> 'DONE' AND id IN (
    SELECT job_id FROM job_dependencies WHERE parent_id = NEW.id AND resolved = 0 AND run_on_failure = 0);
  UPDATE job_dependencies SET resolved = 1 WHERE parent_id = NEW.id AND resolved = 0;
END;
