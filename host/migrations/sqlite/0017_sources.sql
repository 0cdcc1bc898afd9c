-- Sources: a listener a connector declares (`[[listener]]`), bound for one
-- backend instance to a broker by type (`ferry source add`). Each message
-- becomes a job; the message id is remembered with the job in one
-- transaction, so a redelivery stores nothing twice.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance     TEXT NOT NULL,
    listener     TEXT NOT NULL,
    kind         TEXT NOT NULL,       -- rabbitmq | nats | mqtt | redis | postgres
    config       TEXT NOT NULL,       -- JSON settings of the kind; secrets only by name
    max_pending  BIGINT NOT NULL,     -- back-pressure: pending jobs of the instance past which it stops taking messages
    paused       BIGINT NOT NULL DEFAULT 0,  -- 1 while an operator paused it
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    UNIQUE (instance, listener)
);

-- Messages taken from a source, by the broker's id (or a hash of the body
-- where the broker has none).
CREATE TABLE source_messages (
    source_id    BIGINT NOT NULL,
    message_id   TEXT NOT NULL,
    job_id       BIGINT,              -- none when the message went to dead letters
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (source_id, message_id)
);
CREATE INDEX source_messages_received ON source_messages (received_at);

-- Messages that did not become a job, with why; `ferry source dead-letters`
-- lists them and can replay them.
CREATE TABLE dead_letters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     BIGINT NOT NULL,
    message_id    TEXT NOT NULL,
    content_type  TEXT,
    headers       TEXT NOT NULL,      -- JSON object: the message's metadata
    body          BLOB NOT NULL,      -- the body, cut at the source's dead-letter limit
    body_size     BIGINT NOT NULL,    -- the size it had
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    replayed_at   BIGINT,
    replay_job_id BIGINT
);
CREATE INDEX dead_letters_source ON dead_letters (source_id, id);

-- What each node's consumer of a source reports: connected, lag, errors.
CREATE TABLE source_status (
    source_id       BIGINT NOT NULL,
    node            TEXT NOT NULL,
    state           TEXT NOT NULL,    -- connecting | connected | paused | standby | failed | stopped
    detail          TEXT,             -- why it is paused, waiting or failed
    lag             BIGINT,           -- messages waiting in the broker, when it tells
    last_message_at BIGINT,
    received        BIGINT NOT NULL DEFAULT 0,
    dead            BIGINT NOT NULL DEFAULT 0,
    errors          BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_error_at   BIGINT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (source_id, node)
);

-- Where an instance's outgoing topics go, by type: `publish` (the broker the
-- outbox relay sends to), `meta` (key-value), `blobs` (object data).
CREATE TABLE topics (
    instance    TEXT NOT NULL,
    topic       TEXT NOT NULL,        -- publish | meta | blobs
    kind        TEXT NOT NULL,        -- nats | rabbitmq | mqtt | redis | local | disk | s3
    config      TEXT NOT NULL,        -- JSON settings of the kind; secrets only by name
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, topic)
);

-- Messages guests published, written with the job's outcome (or the step's
-- chunk) and sent by the relay after the commit, in id order per key.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    msg_key     TEXT NOT NULL,
    payload     BLOB NOT NULL,
    headers     TEXT NOT NULL,        -- JSON object
    job_id      BIGINT,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_unsent ON outbox (instance, id) WHERE sent_at IS NULL;

-- The `meta` topic of type `local`: key-value entries of an instance.
CREATE TABLE meta_entries (
    instance    TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BLOB NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, key)
);
