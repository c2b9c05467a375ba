-- Flow control (issue 17): paused commands and containers, and recent starts for rate limits.
CREATE TABLE paused (
  kind      TEXT    NOT NULL CHECK (kind IN ('command', 'container')),
  name      TEXT    NOT NULL,
  paused_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
);
-- Rate limits count the starts of the last period.
CREATE INDEX jobs_started ON jobs (started_at) WHERE started_at IS NOT NULL;
