-- Console v2 (issue 16): what the charts, the breakdown and the job timeline read (as in the SQLite store).
-- Jobs finished (DONE, ERROR) per minute and jobs waiting (QUEUED + RETRYING), sampled by the executor's
-- statistics sampler: the charts read at most 1,440 rows, whatever the number of jobs. `minute` is the minute's
-- start, epoch ms; `waiting` is null for a minute nobody sampled.
CREATE TABLE job_stats (
  minute   bigint  PRIMARY KEY,
  done     integer NOT NULL DEFAULT 0,
  error    integer NOT NULL DEFAULT 0,
  waiting  integer
);

-- The breakdown's counts per command, container and status: read from this index alone, in its order (a full
-- scan of the table would take seconds at a million jobs on SQLite).
CREATE INDEX jobs_by_command_container ON jobs (command, container_id, status);

-- When each failed attempt started (its end is error_date): the job's timeline shows every attempt.
ALTER TABLE job_errors ADD COLUMN started_at bigint;
-- Failed attempts of the last hour, for the breakdown by command and container.
CREATE INDEX job_errors_by_date ON job_errors (error_date);

-- An operator's cancel and requeue of a job, for its timeline.
CREATE TABLE job_actions (
  id           bigserial PRIMARY KEY,
  job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  kind         text   NOT NULL CHECK (kind IN ('cancel', 'requeue')),
  at           bigint NOT NULL,
  from_status  text   NOT NULL
);
CREATE INDEX job_actions_by_job ON job_actions (job_id, id);
