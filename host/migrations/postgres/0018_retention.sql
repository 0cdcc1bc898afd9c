-- Retention: what the pruner forgets is found by age through an index, so
-- that pruning a large table reads only what it deletes.
CREATE INDEX transmissions_at ON transmissions (at);
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
