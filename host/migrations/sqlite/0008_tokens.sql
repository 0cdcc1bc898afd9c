-- API tokens of the admin API. Only the SHA-256 of a token is kept: a token is
-- 32 random bytes, so a fast hash is enough (no dictionary to guess from), and
-- a stolen database does not let anyone call the API.
CREATE TABLE api_tokens (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
