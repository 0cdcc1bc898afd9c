-- The durable queue: leases with fencing tokens, retry patterns, pinned
-- modules, dependencies, merged jobs, and snoozed backend instances.

-- A claim gives a job a lease: the worker that holds it renews `lease_until`
-- while it runs; `lease_token` fences every write of the outcome, so a worker
-- whose lease was rescued can no longer complete, fail or report progress.
ALTER TABLE jobs ADD COLUMN lease_token BIGINT;
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE jobs ADD COLUMN worker TEXT;
-- JSON object: from try N on, wait that many seconds, e.g. {"1": 10, "5": 60}.
ALTER TABLE jobs ADD COLUMN retry_pattern TEXT;
-- The module (and its content hash) that answered the job when it was enqueued,
-- and what to do when another version answers it at run time: keep | migrate | fail.
ALTER TABLE jobs ADD COLUMN pinned_module TEXT;
ALTER TABLE jobs ADD COLUMN pinned_hash TEXT;
ALTER TABLE jobs ADD COLUMN pin_policy TEXT NOT NULL DEFAULT 'keep';
-- Jobs can wait for jobs or for every job of a group.
ALTER TABLE jobs ADD COLUMN group_name TEXT;
ALTER TABLE jobs ADD COLUMN has_deps BIGINT NOT NULL DEFAULT 0;

DROP INDEX jobs_identity;
CREATE UNIQUE INDEX jobs_identity ON jobs (instance, identity_key)
    WHERE identity_key IS NOT NULL AND state IN ('pending', 'enqueued');
CREATE INDEX jobs_group ON jobs (group_name) WHERE group_name IS NOT NULL;

CREATE TABLE job_dependencies (
    job_id            BIGINT NOT NULL,
    depends_on        BIGINT,         -- a job that must be done first
    depends_on_group  TEXT            -- or every job of this group
);
CREATE INDEX job_dependencies_job ON job_dependencies (job_id);

-- A backend instance whose remote asked to wait (HTTP 429/503 with
-- Retry-After): none of its jobs is claimed before `snoozed_until`.
CREATE TABLE snoozes (
    instance       TEXT PRIMARY KEY,
    snoozed_until  BIGINT NOT NULL,
    reason         TEXT NOT NULL
);

-- Every version of every module ever installed, so that a job pinned to a
-- version can still run on it after an upgrade.
CREATE TABLE module_versions (
    content_hash  TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    description   TEXT NOT NULL,
    wasm_path     TEXT NOT NULL,
    installed_at  BIGINT NOT NULL
);
INSERT INTO module_versions (content_hash, name, version, manifest, description, wasm_path, installed_at)
    SELECT content_hash, name, version, manifest, description, wasm_path, installed_at FROM modules;

-- Jobs that merge: a new job with the merge key of a pending one folds its
-- payload into it (e.g. pending exports of one record: union of changed fields,
-- latest values win). Only pending jobs merge; a running one is left alone.
ALTER TABLE jobs ADD COLUMN merge_key TEXT;
CREATE UNIQUE INDEX jobs_merge ON jobs (instance, merge_key)
    WHERE merge_key IS NOT NULL AND state = 'pending';

-- Locks of `lock-or-retry`, shared by every worker of the database. A lock
-- is free again when its run ends, when the claim of the job that took it is
-- lost (the worker died: the job was rescued), or when it expires.
CREATE TABLE run_locks (
    lock_key     TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,      -- the run: process tag and run number
    job_id       BIGINT,
    lease_token  BIGINT,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX run_locks_holder ON run_locks (holder);
