-- The transmission log: every outbound HTTP request a guest made or tried,
-- with what the sandbox decided. URLs are stored with query values redacted.
CREATE TABLE transmissions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              BIGINT NOT NULL,      -- when the request was made, ms
    instance        TEXT NOT NULL,        -- backend instance
    job_id          BIGINT,               -- job of the run (none for direct calls)
    module          TEXT NOT NULL,        -- module that sent it
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,        -- query values redacted
    status          BIGINT,               -- HTTP status, when an answer came
    refused         TEXT,                 -- why the sandbox refused it
    error           TEXT,                 -- what went wrong in transport
    bytes_sent      BIGINT NOT NULL,
    bytes_received  BIGINT NOT NULL,
    duration_ms     BIGINT NOT NULL
);
CREATE INDEX transmissions_instance ON transmissions (instance, id);
CREATE INDEX transmissions_job ON transmissions (job_id);
