-- A claim (pending -> enqueued) and a started mark (enqueued -> started)
-- change `state`, which is indexed, so PostgreSQL cannot update the row in
-- place (HOT): the new row version is inserted into every index of `jobs`
-- whose predicate it meets. That was 8 index entries per transition, 34 per
-- job over its life, and inserting them was 29 % of all CPU of the queue
-- benchmark (BENCHMARKS.md, "where PostgreSQL's time goes").
--
-- The console's indexes by instance, name, trigger and creation time now
-- leave out claimed and running jobs: a transition into those states inserts
-- into the primary key and the two state indexes only. Running jobs are few
-- (at most the slots of the workers) and the state indexes find them; a
-- jobs list filtered on one of those columns reads them apart and merges
-- them in (store/jobs/search.rs). A pending or finished job is in every
-- index, as before.
--
-- `jobs_module_id` goes: no query can use it (the jobs list filters on
-- `module = $1 OR pinned_module = $1`, and `pinned_module` has no index),
-- and every insert and completion wrote to it. A job's life is now 8 index
-- entries at enqueue, 3 at its claim, 3 at its start, 8 at its end: 22.
DROP INDEX jobs_instance_id;
DROP INDEX jobs_name_id;
DROP INDEX jobs_module_id;
DROP INDEX jobs_trigger_id;
DROP INDEX jobs_created_at;
CREATE INDEX jobs_instance_id ON jobs (instance, id) WHERE state NOT IN ('enqueued', 'started');
CREATE INDEX jobs_name_id ON jobs (name, id) WHERE state NOT IN ('enqueued', 'started');
CREATE INDEX jobs_trigger_id ON jobs (triggered_by, id) WHERE state NOT IN ('enqueued', 'started');
CREATE INDEX jobs_created_at ON jobs (created_at) WHERE state NOT IN ('enqueued', 'started');
