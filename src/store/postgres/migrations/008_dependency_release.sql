-- kjobs: breaking (kjobs before it released children through the trigger this drops: on a database with it, an
-- older node would leave them waiting)
-- Issue 27: a parent's end no longer releases its children through a recursive trigger (from ~700 links the
-- trigger ran out of stack depth, and the failing outcome was retried forever). The end only marks the parent
-- `release_pending`, in the same statement; the store then releases its children in bounded steps
-- (store/dependency-release.ts), right after the end and, for what is left, in the background. Run with
-- search_path set to the store's schema.

DROP TRIGGER jobs_release_children ON jobs;
DROP FUNCTION release_children();

ALTER TABLE jobs
  -- A parent that ended and whose children are not all released yet.
  ADD COLUMN release_pending boolean NOT NULL DEFAULT false,
  -- Longest chain of parents above a job (0: no parents): bounded by the dependency limits when scheduling.
  ADD COLUMN dependency_depth integer NOT NULL DEFAULT 0;
CREATE INDEX jobs_release_pending ON jobs (id) WHERE release_pending;

-- Marks the release on the row itself, whichever path ended the job (an outcome, a cancel, a rescue).
CREATE FUNCTION mark_release_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.release_pending := true;
  RETURN NEW;
END
$$;
CREATE TRIGGER jobs_mark_release_pending BEFORE UPDATE OF status ON jobs
FOR EACH ROW WHEN (NEW.has_children AND NEW.status IN ('DONE', 'ERROR', 'CANCELLED')
  AND OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION mark_release_pending();

-- Parents that ended with children still unreleased (none, unless an earlier release failed): released by the
-- next node that starts.
UPDATE jobs SET release_pending = true
WHERE has_children AND status IN ('DONE', 'ERROR', 'CANCELLED')
  AND EXISTS (SELECT 1 FROM job_dependencies d WHERE d.parent_id = jobs.id AND NOT d.resolved);

-- Depths of the jobs scheduled before this migration, walked level by level (UNION keeps each (job, depth) once).
CREATE TEMPORARY TABLE kjobs_depths ON COMMIT DROP AS
WITH RECURSIVE walk (id, depth) AS (
  SELECT DISTINCT d.parent_id, 0 FROM job_dependencies d
  WHERE NOT EXISTS (SELECT 1 FROM job_dependencies p WHERE p.job_id = d.parent_id)
  UNION
  SELECT d.job_id, walk.depth + 1 FROM walk JOIN job_dependencies d ON d.parent_id = walk.id
  WHERE walk.depth < 100000
)
SELECT id, max(depth) AS depth FROM walk GROUP BY id;
UPDATE jobs SET dependency_depth = kjobs_depths.depth FROM kjobs_depths
WHERE kjobs_depths.id = jobs.id AND kjobs_depths.depth > 0;
