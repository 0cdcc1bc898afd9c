-- Two-way sync safety (issue 13).
-- A local record's revision grows by one with every write that changes a
-- value: a link remembers the revision it last synced, so an exporter can
-- tell that the local side changed since.
ALTER TABLE records ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
-- What a link knew at its last sync: the external record's version (as the
-- connector gave it) and the local record's revision. NULL: never given.
ALTER TABLE links ADD COLUMN remote_version TEXT;
ALTER TABLE links ADD COLUMN synced_revision BIGINT;

-- An intent to create the external twin of a local record, committed before
-- the create is sent: a try that crashed before its bind leaves it, and the
-- next try looks the remote record up by `key` before creating again.
CREATE TABLE create_intents (
    instance    TEXT NOT NULL,
    model       TEXT NOT NULL,
    local_id    BIGINT NOT NULL,
    key         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, model, local_id)
);

-- How far a job has read a stream of changes, per backend instance: written
-- with the completion of the job that moved it (`job_id`), or at once by an
-- operator or a run outside a job (`job_id` NULL).
CREATE TABLE cursors (
    instance    TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    job_id      BIGINT,
    PRIMARY KEY (instance, name)
);
