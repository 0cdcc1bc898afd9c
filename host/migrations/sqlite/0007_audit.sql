-- The audit log: who did what to which secret, and when. Values never appear
-- here: a row names the secret (subject), never its value.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT NOT NULL,      -- when, ms since the epoch
    actor       TEXT NOT NULL,        -- `cli`, `api:TOKEN`, `job:ID`, `run:USER`
    action      TEXT NOT NULL,        -- `secret.reveal`, `secret.reveal-denied`, `secret.set`…
    instance    TEXT NOT NULL,        -- backend instance
    subject     TEXT NOT NULL,        -- what was acted on (a secret's name)
    job_id      BIGINT,               -- job of the run, when one did it
    detail      TEXT                  -- e.g. the module, or why it was refused
);
CREATE INDEX audit_log_instance ON audit_log (instance, id);
CREATE INDEX audit_log_at ON audit_log (at);
