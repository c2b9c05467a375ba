-- Issue 13: jobs_by_command_container (migration 003) served only the console's breakdown, and every insert, claim
-- and outcome paid for it: status is one of its columns and a claim rewrites every index of the row anyway.
-- Measured on bulk scheduling (20 batches of 1,000, best of 4): 109-116k jobs/s with it, 129k without. The
-- breakdown now reads the table: at 1,000,000 jobs about 160-220 ms instead of about 70 ms on this machine, for a
-- console panel refreshed every few seconds. SQLite keeps the index (a full scan there takes seconds).
DROP INDEX IF EXISTS jobs_by_command_container;
