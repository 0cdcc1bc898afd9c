-- Jobs made of steps (contract 0.2): one row per step of a job, kept across
-- its tries, so that a new try skips the completed steps and resumes an item
-- step from the position its last committed chunk stored; and the items a
-- step did not write (invalid, or refused by the writer), bounded per step.
CREATE TABLE job_steps (
    job_id            BIGINT NOT NULL,
    step              TEXT NOT NULL,
    ordinal           BIGINT NOT NULL,       -- 0 for the first step of the job
    kind              TEXT NOT NULL,         -- tasklet | items
    status            TEXT NOT NULL,         -- started | completed | failed | stopped | paused
    started_at        BIGINT,
    ended_at          BIGINT,
    chunks            BIGINT NOT NULL DEFAULT 0,   -- chunks committed
    position          TEXT,                  -- the reader's position after the last committed chunk, JSON
    read_count        BIGINT NOT NULL DEFAULT 0,
    written_count     BIGINT NOT NULL DEFAULT 0,
    filtered_count    BIGINT NOT NULL DEFAULT 0,
    skipped_count     BIGINT NOT NULL DEFAULT 0,
    warnings_dropped  BIGINT NOT NULL DEFAULT 0,   -- warnings past the bound: counted, not kept
    result            TEXT,                  -- a tasklet's result, JSON
    error             TEXT,
    PRIMARY KEY (job_id, step)
);

CREATE TABLE step_warnings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      BIGINT NOT NULL,
    step        TEXT NOT NULL,
    chunk       BIGINT NOT NULL,
    item        TEXT NOT NULL,               -- the item (or its id), JSON
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX step_warnings_job ON step_warnings (job_id, step, id);

-- An operator asked a running job made of steps to pause at its next chunk
-- boundary (it then waits in state `paused`, which no worker claims).
ALTER TABLE jobs ADD COLUMN pause_requested BIGINT NOT NULL DEFAULT 0;
