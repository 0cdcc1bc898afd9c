//! Jobs: stored durably before anything runs them; their logs.

use super::{Store, now_ms};
use crate::error::{Error, Result};
use serde::Serialize;
use sqlx::Row;
use std::fmt;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to run (now, or at its eta).
    Pending,
    /// Claimed by a worker, running.
    Started,
    /// Finished with a result.
    Done,
    /// Failed for good (final error, or out of retries).
    Failed,
    /// Cancelled by an operator.
    Cancelled,
}

impl JobState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Started => "started",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => JobState::Pending,
            "started" => JobState::Started,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown job state `{other}` (pending, started, done, failed, cancelled)"
                )));
            }
        })
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to store.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Backend instance it runs for.
    pub instance: String,
    /// Job name, resolved along the instance's backend chain.
    pub name: String,
    /// Payload, JSON text.
    pub payload: String,
    /// Lower runs first.
    pub priority: i64,
    /// Not before this time, ms.
    pub eta: Option<i64>,
    /// Tries after the first failure.
    pub max_retries: i64,
    /// At most one pending job with this key per instance.
    pub identity_key: Option<String>,
    /// Channel.
    pub channel: String,
    /// For operators.
    pub description: String,
    /// Who it runs for.
    pub user: String,
}

impl NewJob {
    /// A job with the default options (priority 10, 5 retries, channel `root`).
    pub fn new(instance: &str, name: &str, payload: &serde_json::Value) -> Self {
        NewJob {
            instance: instance.into(),
            name: name.into(),
            payload: payload.to_string(),
            priority: 10,
            eta: None,
            max_retries: 5,
            identity_key: None,
            channel: "root".into(),
            description: String::new(),
            user: "ferry".into(),
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    /// Id.
    pub id: i64,
    /// Backend instance.
    pub instance: String,
    /// Job name.
    pub name: String,
    /// Payload, JSON text.
    pub payload: String,
    /// Priority (lower first).
    pub priority: i64,
    /// Not before, ms.
    pub eta: Option<i64>,
    /// Tries after the first failure.
    pub max_retries: i64,
    /// Tries so far.
    pub attempts: i64,
    /// Identity key.
    pub identity_key: Option<String>,
    /// Channel.
    pub channel: String,
    /// State.
    pub state: JobState,
    /// For operators.
    pub description: String,
    /// Who it runs for.
    pub user: String,
    /// Module that ran it.
    pub module: Option<String>,
    /// Content hash of that module.
    pub module_hash: Option<String>,
    /// Progress: total items.
    pub progress_total: Option<i64>,
    /// Progress: items done.
    pub progress_done: Option<i64>,
    /// Result JSON text, when done.
    pub result: Option<String>,
    /// Last error.
    pub error: Option<String>,
    /// Kind of the last error (retryable, final, …).
    pub error_kind: Option<String>,
    /// An operator asked it to stop.
    pub stop_requested: bool,
    /// Created, ms.
    pub created_at: i64,
    /// Last started, ms.
    pub started_at: Option<i64>,
    /// Finished, ms.
    pub finished_at: Option<i64>,
}

/// A log line of a job run.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Which try wrote it.
    pub attempt: i64,
    /// When, ms.
    pub at: i64,
    /// trace | debug | info | warn | error
    pub level: String,
    /// Module that wrote it (or `host`).
    pub module: String,
    /// The line.
    pub message: String,
}

const JOB_COLUMNS: &str = "id, instance, name, payload, priority, eta, max_retries, attempts, identity_key, channel, \
    state, description, user_name, module, module_hash, progress_total, progress_done, result, error, error_kind, \
    stop_requested, created_at, started_at, finished_at";

fn job(row: &sqlx::sqlite::SqliteRow) -> Result<JobRow> {
    let state: String = row.try_get("state")?;
    let stop: i64 = row.try_get("stop_requested")?;
    Ok(JobRow {
        id: row.try_get("id")?,
        instance: row.try_get("instance")?,
        name: row.try_get("name")?,
        payload: row.try_get("payload")?,
        priority: row.try_get("priority")?,
        eta: row.try_get("eta")?,
        max_retries: row.try_get("max_retries")?,
        attempts: row.try_get("attempts")?,
        identity_key: row.try_get("identity_key")?,
        channel: row.try_get("channel")?,
        state: JobState::parse(&state)?,
        description: row.try_get("description")?,
        user: row.try_get("user_name")?,
        module: row.try_get("module")?,
        module_hash: row.try_get("module_hash")?,
        progress_total: row.try_get("progress_total")?,
        progress_done: row.try_get("progress_done")?,
        result: row.try_get("result")?,
        error: row.try_get("error")?,
        error_kind: row.try_get("error_kind")?,
        stop_requested: stop != 0,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

impl Store {
    /// Store a job. With an identity key that a pending job of the same instance
    /// already has, nothing is stored and that job's id is returned.
    pub async fn enqueue(&self, new: &NewJob) -> Result<i64> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let id = Self::enqueue_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// [`Store::enqueue`] inside a transaction of the caller (so that a record
    /// write and the jobs its events cause commit together).
    pub(crate) async fn enqueue_in(tx: &mut sqlx::SqliteConnection, new: &NewJob) -> Result<i64> {
        if let Some(key) = &new.identity_key {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 AND state = 'pending'",
            )
            .bind(&new.instance)
            .bind(key)
                        .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = existing {
                return Ok(id);
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (instance, name, payload, priority, eta, max_retries, identity_key, channel, state, \
             description, user_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11) \
             RETURNING id",
        )
        .bind(&new.instance)
        .bind(&new.name)
        .bind(&new.payload)
        .bind(new.priority)
        .bind(new.eta)
        .bind(new.max_retries)
        .bind(&new.identity_key)
        .bind(&new.channel)
        .bind(&new.description)
        .bind(&new.user)
                .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        Ok(id)
    }

    /// Claim up to `max` ready jobs (pending, eta reached), best priority first,
    /// marking them started and counting the try.
    pub async fn claim_jobs(&self, max: u32) -> Result<Vec<JobRow>> {
        let now = now_ms();
        let rows = sqlx::query(&format!(
            "UPDATE jobs SET state = 'started', attempts = attempts + 1, started_at = $1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND (eta IS NULL OR eta <= $1) \
                          ORDER BY priority, id LIMIT $2) \
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(now)
        .bind(i64::from(max))
        .fetch_all(self.pool())
        .await?;
        let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.priority, j.id));
        Ok(jobs)
    }

    /// Record which module runs a started job.
    pub async fn set_job_module(&self, id: i64, module: &str, hash: &str) -> Result<()> {
        sqlx::query("UPDATE jobs SET module = $1, module_hash = $2 WHERE id = $3")
            .bind(module)
            .bind(hash)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Mark a started job done with its result.
    pub async fn complete_job(&self, id: i64, result: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'done', result = $1, error = NULL, error_kind = NULL, finished_at = $2 \
             WHERE id = $3 AND state = 'started'",
        )
        .bind(result)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Record a failed try: back to pending at `retry_at`, or failed for good.
    /// With `count_try` false the try is given back (the job only met a lock).
    /// A job to retry whose identity key meanwhile has a pending twin is
    /// cancelled in its favour: the twin does the same work, later.
    pub async fn fail_job(
        &self,
        id: i64,
        error: &str,
        kind: &str,
        retry_at: Option<i64>,
        count_try: bool,
    ) -> Result<JobState> {
        let mut tx = self.pool().begin_with("BEGIN IMMEDIATE").await?;
        let mut state = match retry_at {
            Some(_) => JobState::Pending,
            None => JobState::Failed,
        };
        let mut error = error.to_string();
        if state == JobState::Pending {
            let twin: Option<i64> = sqlx::query_scalar(
                "SELECT twin.id FROM jobs twin JOIN jobs me ON me.id = $1 \
                 WHERE twin.instance = me.instance AND twin.identity_key = me.identity_key \
                 AND twin.state = 'pending' AND twin.id != me.id",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(twin) = twin {
                state = JobState::Cancelled;
                error = format!(
                    "{error} (not retried: job {twin} with the same identity key is pending)"
                );
            }
        }
        let finished = (state != JobState::Pending).then(now_ms);
        sqlx::query(
            "UPDATE jobs SET state = $1, eta = COALESCE($2, eta), error = $3, error_kind = $4, finished_at = $5, \
             attempts = attempts - $6 WHERE id = $7 AND state = 'started'",
        )
        .bind(state.as_str())
        .bind(retry_at.filter(|_| state == JobState::Pending))
        .bind(&error)
        .bind(kind)
        .bind(finished)
        .bind(i64::from(!count_try))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(state)
    }

    /// Put back jobs left `started` since before `started_before` (their worker
    /// stopped mid-run): pending again, or failed if that was their last try.
    /// Returns how many were rescued.
    pub async fn rescue_stale_jobs(&self, started_before: i64) -> Result<u64> {
        let stale: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE state = 'started' AND started_at < $1")
                .bind(started_before)
                .fetch_all(self.pool())
                .await?;
        let message = "the worker running it stopped before it finished";
        for id in &stale {
            // Through `fail_job`, so that a pending twin (same identity key)
            // takes over instead of colliding with it.
            let job = self.job(*id).await?;
            let retry_at = (job.attempts <= job.max_retries).then(now_ms);
            self.fail_job(*id, message, "retryable", retry_at, true)
                .await?;
        }
        Ok(stale.len() as u64)
    }

    /// Write a running job's progress.
    pub async fn set_job_progress(&self, id: i64, total: i64, done: i64) -> Result<()> {
        sqlx::query("UPDATE jobs SET progress_total = $1, progress_done = $2 WHERE id = $3")
            .bind(total)
            .bind(done)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether an operator asked a job to stop.
    pub async fn job_stop_requested(&self, id: i64) -> Result<bool> {
        let flag: Option<i64> = sqlx::query_scalar("SELECT stop_requested FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(flag.unwrap_or(0) != 0)
    }

    /// Ask a job to stop: a pending job is cancelled, a started one is told
    /// (the guest sees it through `stop-requested` and ends cleanly).
    pub async fn stop_job(&self, id: i64) -> Result<JobState> {
        let job = self.job(id).await?;
        match job.state {
            JobState::Pending => {
                sqlx::query("UPDATE jobs SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state = 'pending'")
                    .bind(now_ms())
                    .bind(id)
                    .execute(self.pool())
                    .await?;
                Ok(JobState::Cancelled)
            }
            JobState::Started => {
                sqlx::query("UPDATE jobs SET stop_requested = 1 WHERE id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await?;
                Ok(JobState::Started)
            }
            other => Ok(other),
        }
    }

    /// Cancel a pending job (a running one is asked to stop instead: [`Store::stop_job`]).
    pub async fn cancel_job(&self, id: i64) -> Result<()> {
        let done = sqlx::query("UPDATE jobs SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state = 'pending'")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            let job = self.job(id).await?;
            return Err(Error::Invalid(format!(
                "job {id} is {}: only pending jobs can be cancelled (ask a running one to stop with `ferry jobs stop {id}`)",
                job.state
            )));
        }
        Ok(())
    }

    /// Put a done, failed or cancelled job back in the queue, with its tries reset.
    pub async fn requeue_job(&self, id: i64) -> Result<()> {
        let job = self.job(id).await?;
        if let Some(key) = &job.identity_key {
            let twin: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 AND state = 'pending'",
            )
            .bind(&job.instance)
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
            if let Some(twin) = twin {
                return Err(Error::Invalid(format!(
                    "job {twin} with the same identity key `{key}` is already pending: nothing to requeue"
                )));
            }
        }
        if !matches!(
            job.state,
            JobState::Failed | JobState::Cancelled | JobState::Done
        ) {
            return Err(Error::Invalid(format!(
                "job {id} is {}: only done, failed or cancelled jobs can be requeued",
                job.state
            )));
        }
        sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, eta = NULL, stop_requested = 0, finished_at = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One job.
    pub async fn job(&self, id: i64) -> Result<JobRow> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| Error::not_found("job", id.to_string()))?;
        job(&row)
    }

    /// Jobs, newest first, optionally of one state and one instance.
    pub async fn list_jobs(
        &self,
        state: Option<JobState>,
        instance: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR instance = $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(state.map(JobState::as_str))
        .bind(instance)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job).collect()
    }

    /// Count jobs per state.
    pub async fn count_jobs(&self, state: JobState) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = $1")
                .bind(state.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Earliest eta of a pending job, if any.
    pub async fn next_eta(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(COALESCE(eta, 0)) FROM jobs WHERE state = 'pending'")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Store the log lines of a run.
    pub async fn append_job_logs(&self, job_id: i64, lines: &[LogLine]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for l in lines {
            sqlx::query("INSERT INTO job_logs (job_id, attempt, at, level, module, message) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(job_id)
                .bind(l.attempt)
                .bind(l.at)
                .bind(&l.level)
                .bind(&l.module)
                .bind(&l.message)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The log of a job, oldest first.
    pub async fn job_logs(&self, job_id: i64) -> Result<Vec<LogLine>> {
        let rows = sqlx::query("SELECT attempt, at, level, module, message FROM job_logs WHERE job_id = $1 ORDER BY id")
            .bind(job_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(LogLine {
                    attempt: r.try_get("attempt")?,
                    at: r.try_get("at")?,
                    level: r.try_get("level")?,
                    module: r.try_get("module")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }
}
