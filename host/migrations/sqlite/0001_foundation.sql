-- Ferry's store. Timestamps are milliseconds since the Unix epoch (UTC);
-- JSON is stored as text. The statements Ferry runs against these tables are
-- plain SQL that PostgreSQL runs too.

CREATE TABLE modules (
    name          TEXT PRIMARY KEY,
    version       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    manifest      TEXT NOT NULL,      -- connector.toml, as installed
    description   TEXT NOT NULL,      -- what `describe` reported, JSON
    wasm_path     TEXT NOT NULL,
    installed_at  BIGINT NOT NULL
);

CREATE TABLE backend_instances (
    name        TEXT PRIMARY KEY,
    backend     TEXT NOT NULL,        -- backend key, e.g. shop@2.0
    params      TEXT NOT NULL,        -- JSON object
    created_at  BIGINT NOT NULL
);

CREATE TABLE records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model       TEXT NOT NULL,
    data        TEXT NOT NULL,        -- JSON object of field values
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX records_model ON records (model, id);

CREATE TABLE links (
    instance     TEXT NOT NULL,
    model        TEXT NOT NULL,
    local_id     BIGINT NOT NULL,
    external_id  TEXT NOT NULL,
    sync_date    BIGINT,
    data         TEXT NOT NULL,
    PRIMARY KEY (instance, model, local_id)
);
CREATE UNIQUE INDEX links_external ON links (instance, model, external_id);

CREATE TABLE link_pairs (
    instance    TEXT NOT NULL,
    label       TEXT NOT NULL,
    left_id     TEXT NOT NULL,
    right_id    TEXT NOT NULL,
    data        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, label, left_id)
);
CREATE UNIQUE INDEX link_pairs_right ON link_pairs (instance, label, right_id);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    instance        TEXT NOT NULL,
    name            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    eta             BIGINT,
    max_retries     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    identity_key    TEXT,
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL,     -- pending | started | done | failed | cancelled
    description     TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    module          TEXT,              -- module that ran it (last try)
    module_hash     TEXT,              -- content hash of that module
    progress_total  BIGINT,
    progress_done   BIGINT,
    result          TEXT,
    error           TEXT,
    error_kind      TEXT,
    stop_requested  INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT
);
CREATE INDEX jobs_ready ON jobs (state, priority, id);
CREATE UNIQUE INDEX jobs_identity ON jobs (instance, identity_key)
    WHERE identity_key IS NOT NULL AND state = 'pending';

CREATE TABLE job_logs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id   BIGINT NOT NULL,
    attempt  INTEGER NOT NULL,
    at       BIGINT NOT NULL,
    level    TEXT NOT NULL,
    module   TEXT NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs (job_id);

CREATE TABLE subscriptions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    module    TEXT NOT NULL,
    event     TEXT NOT NULL,
    models    TEXT NOT NULL,          -- JSON list; empty = every model
    job       TEXT,                   -- none: the module's handle-event
    priority  INTEGER NOT NULL,
    source    TEXT NOT NULL           -- manifest | runtime
);
CREATE INDEX subscriptions_event ON subscriptions (event);

CREATE TABLE checkpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance    TEXT NOT NULL,
    model       TEXT NOT NULL,
    record_id   BIGINT NOT NULL,
    message     TEXT NOT NULL,
    job_id      BIGINT,
    created_at  BIGINT NOT NULL
);
