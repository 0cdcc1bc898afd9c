-- What started each job, for operators' filters (the console, `ferry jobs
-- --trigger`, `ferry logs --trigger`): cron | webhook | button | event | api |
-- cli | job (enqueued by another job's guest). Jobs from before this column
-- existed are `cli`, except those cron enqueued (their user is `cron`).
ALTER TABLE jobs ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'cli';
UPDATE jobs SET triggered_by = 'cron' WHERE user_name = 'cron';

-- Listing newest first with one filter stays an index walk at millions of
-- jobs: each filter the console offers has an index ending in the id.
CREATE INDEX jobs_state_id ON jobs (state, id);
CREATE INDEX jobs_instance_id ON jobs (instance, id);
CREATE INDEX jobs_name_id ON jobs (name, id);
CREATE INDEX jobs_module_id ON jobs (module, id);
CREATE INDEX jobs_trigger_id ON jobs (triggered_by, id);
CREATE INDEX jobs_created_at ON jobs (created_at);
-- The overview (console, `GET /api/overview`) counts without reading a
-- row: jobs finished per minute and per state, instance and channel over the
-- last day from this one; queued and running jobs from the next.
CREATE INDEX jobs_finished_at ON jobs (finished_at, state, instance, channel) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_state_instance ON jobs (state, instance, channel);
CREATE INDEX job_logs_level ON job_logs (level, id);
