-- kjobs: breaking (kjobs before it released children through the trigger this drops: on a database with it, an
-- older node would leave them waiting)
-- Issue 27: a parent's end no longer releases its children through a recursive trigger (a chain of 1,000 jobs
-- exceeded SQLite's trigger depth, and the failing outcome was retried forever). The end only marks the parent
-- `release_pending`, in the same transaction; the store then releases its children in bounded steps
-- (store/dependency-release.ts), right after the end and, for what is left, in the background.

DROP TRIGGER jobs_release_children;

-- A parent that ended and whose children are not all released yet.
ALTER TABLE jobs ADD COLUMN release_pending INTEGER NOT NULL DEFAULT 0;
-- Longest chain of parents above a job (0: no parents): bounded by the dependency limits when scheduling.
ALTER TABLE jobs ADD COLUMN dependency_depth INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_release_pending ON jobs (id) WHERE release_pending = 1;

-- Marks the release, whichever path ended the job (an outcome, a cancel, a rescue). Not recursive: it changes
-- release_pending, not status.
CREATE TRIGGER jobs_mark_release_pending AFTER UPDATE OF status ON jobs
WHEN NEW.has_children = 1 AND NEW.status IN ('DONE', 'ERROR', 'CANCELLED') AND OLD.status <> NEW.status
BEGIN
  UPDATE jobs SET release_pending = 1 WHERE id = NEW.id;
END;

-- Parents that ended with children still unreleased (none, unless an earlier release failed): released by the
-- next node that starts.
UPDATE jobs SET release_pending = 1
WHERE has_children = 1 AND status IN ('DONE', 'ERROR', 'CANCELLED')
  AND EXISTS (SELECT 1 FROM job_dependencies d WHERE d.parent_id = jobs.id AND d.resolved = 0);

-- Depths of the jobs scheduled before this migration, walked level by level (UNION keeps each (job, depth) once).
CREATE TABLE kjobs_depths AS
WITH RECURSIVE walk (id, depth) AS (
  SELECT DISTINCT d.parent_id, 0 FROM job_dependencies d
  WHERE NOT EXISTS (SELECT 1 FROM job_dependencies p WHERE p.job_id = d.parent_id)
  UNION
  SELECT d.job_id, walk.depth + 1 FROM walk JOIN job_dependencies d ON d.parent_id = walk.id
  WHERE walk.depth < 100000
)
SELECT id, max(depth) AS depth FROM walk GROUP BY id;
UPDATE jobs SET dependency_depth = (SELECT depth FROM kjobs_depths WHERE kjobs_depths.id = jobs.id)
WHERE id IN (SELECT id FROM kjobs_depths WHERE depth > 0);
DROP TABLE kjobs_depths;
