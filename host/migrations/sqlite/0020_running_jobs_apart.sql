-- `jobs_module_id` goes: no query can use it (the jobs list filters on
-- `module = $1 OR pinned_module = $1`, and `pinned_module` has no index),
-- and every enqueue and completion (which sets `module`) wrote to it.
--
-- SQLite needs nothing else of PostgreSQL's migration 0020: an UPDATE here
-- only touches the indexes holding a column it changes, so a claim or a
-- started mark never wrote to the console's indexes.
DROP INDEX jobs_module_id;
