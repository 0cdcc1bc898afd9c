-- Secrets of backend instances, sealed with the master key (XChaCha20-Poly1305):
-- `sealed` is base64 of nonce || ciphertext, bound to (instance, name) as
-- associated data so that a row copied to another instance does not open.
CREATE TABLE secrets (
    instance    TEXT NOT NULL,
    name        TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance, name)
);
