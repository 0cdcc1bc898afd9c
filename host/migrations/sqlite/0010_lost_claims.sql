-- How many times a job was put back because the worker that claimed it
-- stopped before its start was recorded. Such a claim costs no try, up to a
-- bound (a job that brings its worker down at once must not loop for ever).
ALTER TABLE jobs ADD COLUMN lost_claims BIGINT NOT NULL DEFAULT 0;
