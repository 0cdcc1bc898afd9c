//! What operators do with a job made of steps: pause it (it waits in state
//! `paused`, which no worker claims), resume it, and how its driver sees a
//! stop or a pause at a chunk boundary.

use super::status::{StepStatus, holds_lease};
use crate::error::{Error, Result};
use crate::store::{JobState, Store, now_ms};

/// What an operator asked of a running job, as its step driver sees it at
/// a chunk boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Nothing: run the next chunk.
    Run,
    /// Stop: the step is `stopped`, the job ends cancelled.
    Stop,
    /// Pause: the step is `paused`, the job waits in `paused`.
    Pause,
}

impl Store {
    /// What an operator asked of running job `job_id`; none when the claim
    /// `token` no longer holds it (the driver stops without writing).
    pub async fn step_halt(&self, job_id: i64, token: i64) -> Result<Option<Halt>> {
        let flags: Option<(i64, i64)> = sqlx::query_as(
            "SELECT stop_requested, pause_requested FROM jobs WHERE id = $1 AND lease_token = $2 \
             AND state IN ('enqueued', 'started')",
        )
        .bind(job_id)
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        Ok(flags.map(|(stop, pause)| match (stop != 0, pause != 0) {
            (true, _) => Halt::Stop,
            (false, true) => Halt::Pause,
            _ => Halt::Run,
        }))
    }

    /// Stop or pause a running job at a chunk boundary of step `step`: the
    /// step becomes `stopped` (the job `cancelled`, with `message` as its
    /// error; jobs waiting for it fail) or `paused` (the job `paused`), and
    /// the claim ends. Returns false when the claim `token` was lost.
    pub async fn halt_job_at_step(
        &self,
        job_id: i64,
        token: i64,
        step: &str,
        halt: Halt,
        message: &str,
    ) -> Result<bool> {
        let (status, state) = match halt {
            Halt::Run => return Ok(true),
            Halt::Stop => (StepStatus::Stopped, JobState::Cancelled),
            Halt::Pause => (StepStatus::Paused, JobState::Paused),
        };
        let mut tx = self.begin_write().await?;
        if !holds_lease(self, &mut tx, job_id, token).await? {
            return Ok(false);
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE job_steps SET status = $1, ended_at = $2 WHERE job_id = $3 AND step = $4",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(job_id)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        let finished = (state == JobState::Cancelled).then_some(now);
        sqlx::query(
            "UPDATE jobs SET state = $1, error = $2, finished_at = $3, pause_requested = 0, \
             lease_token = NULL, lease_until = NULL, worker = NULL WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(message)
        .bind(finished)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        if state == JobState::Cancelled {
            self.fail_dependents(&mut tx, job_id, "was stopped").await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Pause a job: a pending one at once (no worker claims it until it is
    /// resumed), a running one at its next chunk boundary (jobs made of
    /// steps only: a plain job runs to its end). Returns its state now.
    pub async fn pause_job(&self, id: i64) -> Result<JobState> {
        let job = self.job(id).await?;
        if job.state == JobState::Started {
            // A job made of steps has its first step row from its start.
            let steps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_steps WHERE job_id = $1")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
            if steps == 0 {
                return Err(Error::Conflict(format!(
                    "job {id} is a plain job running now: only jobs made of steps pause (at a chunk \
                     boundary); ask it to stop with `ferry jobs stop {id}`"
                )));
            }
        }
        let sql = match job.state {
            JobState::Pending => {
                "UPDATE jobs SET state = 'paused' WHERE id = $1 AND state = 'pending'"
            }
            JobState::Enqueued | JobState::Started => {
                "UPDATE jobs SET pause_requested = 1 WHERE id = $1 AND state IN ('enqueued', 'started')"
            }
            JobState::Paused => return Ok(JobState::Paused),
            other => {
                return Err(Error::Conflict(format!(
                    "job {id} is {other}: only pending or running jobs can be paused"
                )));
            }
        };
        let done = sqlx::query(sql).bind(id).execute(self.pool()).await?;
        if done.rows_affected() == 0 {
            let now = self.job(id).await?;
            return Err(Error::Conflict(format!(
                "job {id} is {} now: try again",
                now.state
            )));
        }
        Ok(match job.state {
            JobState::Pending => JobState::Paused,
            other => other,
        })
    }

    /// Resume a paused job: back to pending, due now; its steps continue from
    /// where they paused. A running job asked to pause is no longer asked.
    pub async fn resume_job(&self, id: i64) -> Result<JobState> {
        let mut tx = self.begin_write().await?;
        let resumed = sqlx::query(
            "UPDATE jobs SET state = 'pending', eta = NULL, pause_requested = 0, finished_at = NULL \
             WHERE id = $1 AND state = 'paused'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if resumed.rows_affected() > 0 {
            self.announce_jobs(&mut tx).await?;
            tx.commit().await?;
            self.wake_workers();
            return Ok(JobState::Pending);
        }
        let asked = sqlx::query(
            "UPDATE jobs SET pause_requested = 0 WHERE id = $1 AND pause_requested = 1 \
             AND state IN ('enqueued', 'started')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let job = self.job(id).await?;
        if asked.rows_affected() > 0 {
            return Ok(job.state);
        }
        Err(Error::Conflict(format!(
            "job {id} is {}: only paused jobs can be resumed",
            job.state
        )))
    }
}
