-- Issue 19: claims that stay fast while a long transaction holds VACUUM back (the dead-tuple spiral of PostgreSQL
-- queues). Every claim leaves the entries of the jobs it took in jobs_due; VACUUM removes them, and scans mark them
-- dead as they pass, unless a transaction that might still see those rows is open. Then claim_jobs, which reads
-- jobs_due from its start, walks every one of them on each claim, and claims slow down for as long as the
-- transaction stays open (measured: 1.2 ms to 80 ms over ten minutes at 1,000 jobs/s). The store then looks up, now
-- and then, where the live jobs of each priority begin (claim_positions), and claims from there
-- (claim_jobs_from); see src/store/postgres/claim-positions.ts. Run with search_path set to the store's schema.

-- For each priority a job may have (0 to 9, as KIE clamps it), the first waiting job due by due_by in the claim's
-- order, or (due_by, 0) when there is none: every job of that priority due by then is taken. took_ms: this
-- statement's time in the server when the row was made (the largest: the whole look), what the positions save each
-- claim that starts from them. No sorts (the caller orders the rows) and no JIT: with sorts off, a plan that sorts
-- costs 10^10 and would be compiled, 60 ms each.
CREATE FUNCTION claim_positions(due_by bigint)
RETURNS TABLE (priority integer, scheduled_at bigint, id bigint, took_ms double precision) LANGUAGE sql
SET enable_sort = off SET jit = off SET search_path FROM CURRENT
AS $$
  SELECT p.priority, coalesce(first.scheduled_at, due_by), coalesce(first.id, 0),
    extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000
  FROM generate_series(9, 0, -1) AS p (priority)
  LEFT JOIN LATERAL (
    SELECT j.scheduled_at, j.id FROM jobs j
    WHERE j.status IN ('QUEUED', 'RETRYING') AND j.waiting_for = 0 AND j.priority = p.priority
      AND j.scheduled_at <= due_by
    ORDER BY j.scheduled_at, j.id
    LIMIT 1) AS first ON true
$$;

-- claim_jobs of 005, which leaves out paused commands and containers itself: a claim without limits is then one
-- round trip (the store read the small paused table before each claim to choose its way). Merging: keep the
-- conditions of claim_jobs, claim_jobs_from and the candidates statement in step.
CREATE OR REPLACE FUNCTION claim_jobs(due_by bigint, owner_id text, container_ids text[], left_out_commands text[],
                                      worker text, lease_ms bigint, max_jobs integer)
RETURNS SETOF jobs LANGUAGE sql
SET enable_sort = off SET jit = off SET search_path FROM CURRENT
AS $$
  UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = due_by, started_at = due_by,
    worker_id = worker, lease_expires_at = due_by + lease_ms
  WHERE id IN (
    SELECT j.id FROM jobs j
    WHERE j.status IN ('QUEUED', 'RETRYING') AND j.waiting_for = 0 AND j.scheduled_at <= due_by
      AND (j.owner IS NULL OR j.owner = owner_id)
      AND (container_ids IS NULL OR j.container_id IS NULL OR j.container_id = ANY (container_ids))
      AND j.command <> ALL (left_out_commands)
      AND NOT EXISTS (SELECT 1 FROM paused p WHERE p.kind = 'command' AND p.name = j.command)
      AND (j.container_id IS NULL
           OR NOT EXISTS (SELECT 1 FROM paused p WHERE p.kind = 'container' AND p.name = j.container_id))
    ORDER BY j.priority DESC, j.scheduled_at, j.id
    LIMIT max_jobs
    FOR UPDATE SKIP LOCKED)
  RETURNING *
$$;

-- claim_jobs (keep the conditions in step with the latest claim_jobs), reading each priority of jobs_due from a
-- position on (from_priorities in claim order, highest first, with the (scheduled_at, id) to start at), so that
-- the entries before it are not walked again. Jobs placed before a position since it was found wait for the next
-- positions (or a claim from the start).
CREATE FUNCTION claim_jobs_from(due_by bigint, owner_id text, container_ids text[], left_out_commands text[],
                                worker text, lease_ms bigint, max_jobs integer, from_priorities integer[],
                                from_scheduled bigint[], from_ids bigint[])
RETURNS SETOF jobs LANGUAGE plpgsql
SET enable_sort = off SET jit = off SET search_path FROM CURRENT
AS $$
DECLARE
  claimed integer := 0;
  taken integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(from_priorities, 1), 0) LOOP
    EXIT WHEN claimed >= max_jobs;
    RETURN QUERY
      UPDATE jobs SET status = 'RUNNING', executions = executions + 1, scheduled_at = due_by, started_at = due_by,
        worker_id = worker, lease_expires_at = due_by + lease_ms
      WHERE jobs.id IN (
        SELECT j.id FROM jobs j
        WHERE j.status IN ('QUEUED', 'RETRYING') AND j.waiting_for = 0 AND j.priority = from_priorities[i]
          AND (j.scheduled_at, j.id) >= (from_scheduled[i], from_ids[i]) AND j.scheduled_at <= due_by
          AND (j.owner IS NULL OR j.owner = owner_id)
          AND (container_ids IS NULL OR j.container_id IS NULL OR j.container_id = ANY (container_ids))
          AND j.command <> ALL (left_out_commands)
          AND NOT EXISTS (SELECT 1 FROM paused p WHERE p.kind = 'command' AND p.name = j.command)
          AND (j.container_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM paused p WHERE p.kind = 'container' AND p.name = j.container_id))
        ORDER BY j.scheduled_at, j.id
        LIMIT max_jobs - claimed
        FOR UPDATE SKIP LOCKED)
      RETURNING jobs.*;
    GET DIAGNOSTICS taken = ROW_COUNT;
    claimed := claimed + taken;
  END LOOP;
END
$$;

-- The candidates of a claim with limits (statements.ts: candidates), each priority read from a position on, as in
-- claim_jobs_from. Keep the conditions in step with the candidates statement.
CREATE FUNCTION claim_candidates_from(due_by bigint, owner_id text, container_ids text[], left_out_commands text[],
                                      max_jobs integer, left_out_containers text[], left_out_keys text[],
                                      from_priorities integer[], from_scheduled bigint[], from_ids bigint[])
RETURNS TABLE (id bigint, command text, container_id text, concurrency_key text) LANGUAGE plpgsql
SET enable_sort = off SET jit = off SET search_path FROM CURRENT
AS $$
#variable_conflict use_column
DECLARE
  found_jobs integer := 0;
  taken integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(from_priorities, 1), 0) LOOP
    EXIT WHEN found_jobs >= max_jobs;
    RETURN QUERY
      SELECT j.id, j.command, j.container_id, j.request_data ->> 'concurrencyKey' FROM jobs j
      WHERE j.status IN ('QUEUED', 'RETRYING') AND j.waiting_for = 0 AND j.priority = from_priorities[i]
        AND (j.scheduled_at, j.id) >= (from_scheduled[i], from_ids[i]) AND j.scheduled_at <= due_by
        AND (j.owner IS NULL OR j.owner = owner_id)
        AND (container_ids IS NULL OR j.container_id IS NULL OR j.container_id = ANY (container_ids))
        AND j.command <> ALL (left_out_commands)
        AND (j.container_id IS NULL OR j.container_id <> ALL (left_out_containers))
        AND (j.request_data ->> 'concurrencyKey' IS NULL OR j.request_data ->> 'concurrencyKey' <> ALL (left_out_keys))
      ORDER BY j.scheduled_at, j.id
      LIMIT max_jobs - found_jobs
      FOR UPDATE OF j SKIP LOCKED;
    GET DIAGNOSTICS taken = ROW_COUNT;
    found_jobs := found_jobs + taken;
  END LOOP;
END
$$;
