-- The components themselves, by content hash: the database is the one place
-- every node of an installation reads, so a data directory (which only caches
-- them, in modules/) can be moved, copied, or be another machine's.
CREATE TABLE module_blobs (
    content_hash  TEXT PRIMARY KEY,
    wasm          BLOB NOT NULL
);
