-- Sessions of the operator console (`ferry serve` at `/`). A session is
-- opened by signing in with an API token; the browser holds a random session
-- id in an HttpOnly cookie and only its SHA-256 is kept here, so a copy of
-- the database opens no session. The token itself is never stored: each
-- request checks that the token named here still exists with this role and
-- is not newer than the session (a revoked or re-made token ends it).
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY,
    token_name    TEXT NOT NULL,
    role          TEXT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
CREATE INDEX console_sessions_token ON console_sessions (token_name);
