//! What operators do with jobs: look, stop, cancel, requeue, set done; and
//! the logs of runs.

use super::super::{Store, now_ms};
use super::{Dependency, JOB_COLUMNS, JobRow, JobState, LogLine, job};
use crate::error::{Error, Result};
use sqlx::Row;

impl Store {
    /// Whether an operator asked a job to stop.
    pub async fn job_stop_requested(&self, id: i64) -> Result<bool> {
        let flag: Option<i64> = sqlx::query_scalar("SELECT stop_requested FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(flag.unwrap_or(0) != 0)
    }

    /// Ask a job to stop: a pending or enqueued job is cancelled, a started
    /// one is told (the guest sees it through `stop-requested` and ends cleanly).
    pub async fn stop_job(&self, id: i64) -> Result<JobState> {
        let job = self.job(id).await?;
        match job.state {
            JobState::Pending | JobState::Enqueued | JobState::Paused => {
                self.cancel_job(id).await?;
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

    /// Cancel a pending or enqueued job (a running one is asked to stop
    /// instead: [`Store::stop_job`]). Jobs waiting for it fail, saying why.
    /// A worker that had claimed it can no longer record an outcome for it.
    pub async fn cancel_job(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $1, lease_token = NULL, lease_until = NULL, \
             worker = NULL WHERE id = $2 AND state IN ('pending', 'enqueued', 'paused')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            self.fail_dependents(&mut tx, id, "cancelled").await?;
            // A paused step of it is stopped for good (a requeue resumes it).
            sqlx::query(
                "UPDATE job_steps SET status = 'stopped' WHERE job_id = $1 AND status = 'paused'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if done.rows_affected() == 0 {
            let job = self.job(id).await?;
            return Err(Error::Conflict(format!(
                "job {id} is {}: only pending or enqueued jobs can be cancelled, and paused ones (ask a running one to stop with `ferry jobs stop {id}`)",
                job.state
            )));
        }
        Ok(())
    }

    /// Put a done, failed or cancelled job back in the queue, with its tries
    /// reset; or make a pending job that waits (for its retry, its delay) due
    /// now, its tries kept. Refused while another job with the same identity
    /// or merge key waits to run. Returns the job as it was before.
    pub async fn requeue_job(&self, id: i64) -> Result<JobRow> {
        let job = self.job(id).await?;
        for (column, key, states) in [
            ("identity_key", &job.identity_key, "'pending', 'enqueued'"),
            ("merge_key", &job.merge_key, "'pending'"),
        ] {
            let Some(key) = key else { continue };
            // The job itself, when pending, is no twin of its own.
            let twin: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT id FROM jobs WHERE instance = $1 AND {column} = $2 AND state IN ({states}) \
                 AND id <> $3"
            ))
            .bind(&job.instance)
            .bind(key)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
            if let Some(twin) = twin {
                return Err(Error::Conflict(format!(
                    "job {twin} with the same {} `{key}` is already waiting to run: nothing to requeue",
                    column.replace('_', " ")
                )));
            }
        }
        if job.state.is_running() {
            return Err(Error::Conflict(format!(
                "job {id} is {}: it is running already (ask it to stop with `ferry jobs stop {id}`)",
                job.state
            )));
        }
        let query = if job.state == JobState::Pending {
            sqlx::query("UPDATE jobs SET eta = $3 WHERE id = $1 AND state = $2")
                .bind(id)
                .bind(job.state.as_str())
                .bind(now_ms())
        } else {
            sqlx::query(
                "UPDATE jobs SET state = 'pending', attempts = 0, eta = NULL, stop_requested = 0, \
                 pause_requested = 0, finished_at = NULL, lease_token = NULL, lease_until = NULL, worker = NULL \
                 WHERE id = $1 AND state = $2",
            )
            .bind(id)
            .bind(job.state.as_str())
        };
        let mut tx = self.begin_write().await?;
        let done = query.execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            // A worker claimed it (or an operator acted) in between.
            drop(tx);
            let current = self.job(id).await?;
            return Err(Error::Conflict(format!(
                "job {id} is {} now: try again",
                current.state
            )));
        }
        if job.state == JobState::Done {
            // Run again from the first step; a failed, cancelled (stopped) or
            // paused job resumes from where its steps are.
            for table in ["job_steps", "step_warnings"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE job_id = $1"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.announce_jobs(&mut tx).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(job)
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

    /// Mark a job done by hand (an operator did its work another way). A running
    /// job is asked to stop as well; its outcome, when it ends, is ignored.
    pub async fn set_job_done(&self, id: i64, result: Option<&str>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', result = $1, error = NULL, error_kind = NULL, finished_at = $2, \
             stop_requested = 1 WHERE id = $3 AND state IN ('pending', 'enqueued', 'started', 'failed')",
        )
        .bind(result.unwrap_or("null"))
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            let job = self.job(id).await?;
            return Err(Error::Conflict(format!(
                "job {id} is {}: only pending, enqueued, started or failed jobs can be set done",
                job.state
            )));
        }
        Ok(())
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

    /// Earliest time a pending job may run, if any: its eta, or the end of
    /// its instance's snooze.
    pub async fn next_eta(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(CASE WHEN s.snoozed_until > COALESCE(j.eta, 0) THEN s.snoozed_until \
             ELSE COALESCE(j.eta, 0) END) FROM jobs j LEFT JOIN snoozes s ON s.instance = j.instance \
             WHERE j.state = 'pending'",
        )
        .fetch_one(self.pool())
        .await?)
    }

    /// Store the log lines of a run.
    pub async fn append_job_logs(&self, job_id: i64, lines: &[LogLine]) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
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

    /// What a job waits for before it may run: jobs (with their state now)
    /// and groups (with how many of their jobs are not done yet).
    pub async fn job_dependencies(&self, job_id: i64) -> Result<Vec<Dependency>> {
        let rows = sqlx::query(
            "SELECT d.depends_on, d.depends_on_group, p.state, \
             (SELECT COUNT(*) FROM jobs g WHERE d.depends_on_group IS NOT NULL \
              AND g.group_name = d.depends_on_group AND g.state <> 'done') AS open \
             FROM job_dependencies d LEFT JOIN jobs p ON p.id = d.depends_on \
             WHERE d.job_id = $1 ORDER BY d.depends_on, d.depends_on_group",
        )
        .bind(job_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: Option<String> = r.try_get("state")?;
                Ok(Dependency {
                    job: r.try_get("depends_on")?,
                    job_state: state.as_deref().map(JobState::parse).transpose()?,
                    group: r.try_get("depends_on_group")?,
                    group_open: r.try_get("open")?,
                })
            })
            .collect()
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
