-- Conflicts: a record changed on both sides since its last sync, reported by a
-- connector for a person to resolve (`ferry conflicts`), and the policy that
-- says, per backend instance and model, how the connector decides them.
CREATE TABLE conflicts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance     TEXT NOT NULL,
    model        TEXT NOT NULL,
    local_id     BIGINT NOT NULL,
    external_id  TEXT NOT NULL,
    local        TEXT NOT NULL,       -- the local values, JSON object
    remote       TEXT NOT NULL,       -- the external values mapped to local fields, JSON object
    diff         TEXT NOT NULL,       -- {field: {local, remote}} for the fields that differ
    take_local   TEXT NOT NULL,       -- job applying the local version, JSON {name, payload}
    take_remote  TEXT NOT NULL,       -- job applying the external version, JSON {name, payload}
    state        TEXT NOT NULL,       -- open | resolved
    created_at   BIGINT NOT NULL,
    job_id       BIGINT,              -- the run that reported it
    resolved_at  BIGINT,
    resolved_by  TEXT,                -- actor: `cli`, `api:TOKEN`, or `job:ID` for a newer report
    resolution   TEXT                 -- local | remote | merge | superseded
);
CREATE INDEX conflicts_state ON conflicts (instance, state);
-- One open conflict per record: a newer report supersedes the older one.
CREATE UNIQUE INDEX conflicts_open ON conflicts (instance, model, local_id) WHERE state = 'open';

CREATE TABLE conflict_policies (
    instance  TEXT NOT NULL,
    model     TEXT NOT NULL,
    policy    TEXT NOT NULL,          -- remote-wins | local-wins | newest-wins | manual
    PRIMARY KEY (instance, model)
);
