-- Triggers: conditions of record subscriptions, cron schedules per backend
-- instance (operators' overrides and the scheduler's bookkeeping), and leases
-- (one holder at a time across all nodes, e.g. the cron scheduler).

-- Watched fields, filter and timed condition, JSON ('{}' = none).
ALTER TABLE subscriptions ADD COLUMN conditions TEXT NOT NULL DEFAULT '{}';

-- `ferry cron set`: a schedule of a backend instance other than the manifest's.
CREATE TABLE cron_overrides (
    instance    TEXT NOT NULL,
    name        TEXT NOT NULL,
    schedule    TEXT,                -- NULL: switched off
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, name)
);

-- Where each schedule of each backend instance is.
CREATE TABLE cron_runs (
    instance    TEXT NOT NULL,
    name        TEXT NOT NULL,
    last_tick   BIGINT NOT NULL,     -- ticks up to this time are handled
    job_id      BIGINT,              -- the last job enqueued
    job_tick    BIGINT,              -- the tick it was enqueued for
    done_tick   BIGINT,              -- tick of the last run known to have finished done
    PRIMARY KEY (instance, name)
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
