-- Job profiles: named, saved parameters of a job for one backend instance,
-- launched by name (`ferry profile run NAME`). `params` is the JSON object the
-- operator gave, checked against the job's declared parameters when saved and
-- again (with defaults and one-off overrides) each time it runs.
CREATE TABLE job_profiles (
    name         TEXT PRIMARY KEY,
    instance     TEXT NOT NULL,
    job          TEXT NOT NULL,
    params       TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX job_profiles_instance ON job_profiles (instance);

-- `ferry cron set … --profile NAME`: a schedule that runs a profile (its job,
-- with the profile's parameters instead of the manifest's payload).
ALTER TABLE cron_overrides ADD COLUMN profile TEXT;
