//! Claims: how workers take jobs, keep them and give them back.
//!
//! A claim moves ready jobs to `enqueued` under a **lease**: a fencing token,
//! the worker's name and an expiry the worker renews while it runs them. Every
//! write of an outcome or progress names the token, so a worker whose lease
//! expired and was rescued can no longer complete, fail or report for the job:
//! its write matches no row. Outcomes of many jobs travel in one statement.

use super::super::{Dialect, Store, now_ms};
use super::driver::sqlite::INSERT_LOGS as INSERT_LOGS_SQLITE;
use super::{Candidate, ClaimLoad, Completion, FailedTry, JobRow, JobState, LogLine, Recorded};
use crate::error::Result;
use crate::queue::policy::AfterFailure;
use serde_json::{Value, json};
use std::time::Duration;

/// Log lines of many jobs, a JSON array bound as `$1`, on the store's pool.
const INSERT_LOGS_POSTGRES: &str = "INSERT INTO job_logs (job_id, attempt, at, level, module, message) \
     SELECT job_id, attempt, at, level, module, message FROM jsonb_to_recordset(($1)::jsonb) \
     AS v(job_id bigint, attempt bigint, at bigint, level text, module text, message text)";

impl Store {
    /// Claim up to `max` ready jobs (pending, eta reached, dependencies done,
    /// instance not snoozed), the first in run order (best priority first),
    /// for `worker` under a new lease of `lease`. Returns the jobs, each
    /// carrying the claim's token.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<JobRow>> {
        self.queue.claim(worker, max, lease, None).await
    }

    /// [`Store::claim_jobs`] where capacity counts: `pick` chooses among the
    /// ready jobs in run order, knowing what runs now per channel across all
    /// workers (claims that count take turns, so two workers cannot both
    /// fill the last slot).
    pub async fn claim_jobs_within(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
        pick: impl FnOnce(&ClaimLoad, &[Candidate]) -> Vec<i64> + Send,
    ) -> Result<Vec<JobRow>> {
        self.queue
            .claim(worker, max, lease, Some(Box::new(pick)))
            .await
    }

    /// Mark claimed jobs started: `(id, token, started at)`. Jobs whose lease
    /// was lost are left alone; returns the ids that were marked.
    pub async fn mark_started(&self, started: &[(i64, i64, i64)]) -> Result<Vec<i64>> {
        self.queue.mark_started(started).await
    }

    /// Record jobs that ended well, with the log lines of their runs and the
    /// cursors they set, in one transaction. Returns the ids whose lease was
    /// lost (nothing written for them but their log: no state, no cursor).
    pub async fn record_completions(
        &self,
        done: &[Completion],
        logs: &[(i64, LogLine)],
    ) -> Result<Vec<i64>> {
        self.queue.record_completions(&[], done, logs).await
    }

    /// [`Store::mark_started`] and [`Store::record_completions`] in one
    /// transaction: what a worker's recorder writes after each round, so
    /// that a round takes the database's write lock once.
    pub async fn record_started_and_completions(
        &self,
        started: &[(i64, i64, i64)],
        done: &[Completion],
        logs: &[(i64, LogLine)],
    ) -> Result<Vec<i64>> {
        self.queue.record_completions(started, done, logs).await
    }

    /// Store log lines of many jobs in the transaction `tx` on the store's
    /// pool (the drivers write the logs of completions their own way).
    pub(super) async fn insert_logs(
        dialect: Dialect,
        tx: &mut super::super::DbConn,
        logs: &[(i64, LogLine)],
    ) -> Result<()> {
        for chunk in logs.chunks(500) {
            let rows: Vec<Value> = chunk
                .iter()
                .map(|(job_id, l)| {
                    json!({ "job_id": job_id, "attempt": l.attempt, "at": l.at, "level": l.level,
                            "module": l.module, "message": l.message })
                })
                .collect();
            let sql = match dialect {
                Dialect::Sqlite => INSERT_LOGS_SQLITE,
                Dialect::Postgres => INSERT_LOGS_POSTGRES,
            };
            sqlx::query(sql)
                .bind(Value::Array(rows).to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    /// Record a failed try with its log: back to pending at `retry_at`, or
    /// failed for good. A job to retry whose identity key meanwhile has a
    /// waiting twin is cancelled in the twin's favour; one whose merge key has
    /// a pending twin gives the twin its payload first. Jobs waiting for a job
    /// that failed for good fail too. With `snooze_until`, the instance's jobs
    /// wait until then.
    pub async fn record_failure(&self, failed: &FailedTry, logs: &[LogLine]) -> Result<Recorded> {
        let mut tx = self.begin_write().await?;
        let tagged: Vec<(i64, LogLine)> = logs.iter().map(|l| (failed.id, l.clone())).collect();
        Self::insert_logs(self.dialect(), &mut tx, &tagged).await?;
        let me: Option<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT instance, identity_key, merge_key, payload FROM jobs WHERE id = $1 AND lease_token = $2 \
             AND state IN ('enqueued', 'started')",
        )
        .bind(failed.id)
        .bind(failed.token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((instance, identity_key, merge_key, payload)) = me else {
            tx.commit().await?;
            return Ok(Recorded::Fenced);
        };
        let retry = failed.retry_at.is_some();
        // The facts the policy weighs: twins are looked for only when the job
        // would be retried, the merge twin only when no identity twin waits.
        let identity_twin: Option<i64> = match &identity_key {
            Some(key) if retry => {
                sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE instance = $1 AND identity_key = $2 \
                     AND state IN ('pending', 'enqueued') AND id <> $3",
                )
                .bind(&instance)
                .bind(key)
                .bind(failed.id)
                .fetch_optional(&mut *tx)
                .await?
            }
            _ => None,
        };
        let merge_twin: Option<(i64, String)> = match &merge_key {
            Some(key) if retry && identity_twin.is_none() => {
                sqlx::query_as(
                    "SELECT id, payload FROM jobs WHERE instance = $1 AND merge_key = $2 AND state = 'pending'",
                )
                .bind(&instance)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
            }
            _ => None,
        };
        let after = AfterFailure::decide(
            retry,
            &payload,
            identity_twin,
            merge_twin.as_ref().map(|(id, p)| (*id, p.as_str())),
        )?;
        if let AfterFailure::MergeInto { twin, payload } = &after {
            sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2")
                .bind(payload.to_string())
                .bind(twin)
                .execute(&mut *tx)
                .await?;
        }
        let state = match after {
            AfterFailure::Retry => JobState::Pending,
            AfterFailure::Fail => JobState::Failed,
            AfterFailure::YieldToIdentityTwin(_) | AfterFailure::MergeInto { .. } => {
                JobState::Cancelled
            }
        };
        let error = after.error(&failed.error);
        let finished = (state != JobState::Pending).then(now_ms);
        sqlx::query(
            "UPDATE jobs SET state = $1, eta = COALESCE($2, eta), error = $3, error_kind = $4, finished_at = $5, \
             attempts = attempts - $6, lease_token = NULL, lease_until = NULL, worker = NULL, \
             module = COALESCE($7, module), module_hash = COALESCE($8, module_hash), \
             started_at = COALESCE($9, started_at) WHERE id = $10",
        )
        .bind(state.as_str())
        .bind(failed.retry_at.filter(|_| state == JobState::Pending))
        .bind(&error)
        .bind(failed.kind.as_str())
        .bind(finished)
        .bind(i64::from(!failed.count_try))
        .bind(failed.module.as_ref().map(|m| m.0.clone()))
        .bind(failed.module.as_ref().map(|m| m.1.clone()))
        .bind(failed.started_at)
        .bind(failed.id)
        .execute(&mut *tx)
        .await?;
        if state == JobState::Failed {
            self.fail_dependents(&mut tx, failed.id, "failed").await?;
        }
        if let Some(until) = failed.snooze_until {
            sqlx::query(
                "INSERT INTO snoozes (instance, snoozed_until, reason) VALUES ($1, $2, $3) \
                 ON CONFLICT (instance) DO UPDATE SET reason = excluded.reason, snoozed_until = \
                 CASE WHEN excluded.snoozed_until > snoozes.snoozed_until THEN excluded.snoozed_until \
                 ELSE snoozes.snoozed_until END",
            )
            .bind(&instance)
            .bind(until)
            .bind(format!("job {}: {}", failed.id, failed.error))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if state == JobState::Pending {
            self.wake_workers();
        }
        Ok(Recorded::Now(state))
    }

    /// Fail the pending jobs that wait for job `id` (directly or through its
    /// group), and those that wait for them, saying why.
    pub(in crate::store) async fn fail_dependents(
        &self,
        tx: &mut super::super::DbConn,
        id: i64,
        how: &str,
    ) -> Result<()> {
        let mut ended = vec![id];
        while let Some(id) = ended.pop() {
            let waiting: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT d.job_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id \
                 WHERE j.state = 'pending' AND (d.depends_on = $1 OR d.depends_on_group = \
                 (SELECT group_name FROM jobs WHERE id = $1))",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for dependent in waiting {
                sqlx::query(
                    "UPDATE jobs SET state = 'failed', error_kind = 'final', finished_at = $1, \
                     error = $2 WHERE id = $3 AND state = 'pending'",
                )
                .bind(now_ms())
                .bind(format!("job {id}, which it waits for, {how}"))
                .bind(dependent)
                .execute(&mut *tx)
                .await?;
                ended.push(dependent);
            }
        }
        Ok(())
    }

    /// Renew the leases of every job `worker` holds; returns how many.
    ///
    /// On PostgreSQL the jobs whose row is locked at that moment are left
    /// for the next renewal (a third of a lease later): the lock is a batch
    /// of outcomes or started marks being written, and waiting for it, each
    /// side holding rows the other wants, ended in PostgreSQL's deadlock
    /// detection (a second's stall, then one of the two rolled back).
    pub async fn renew_leases(&self, worker: &str, lease: Duration) -> Result<u64> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "UPDATE jobs SET lease_until = $1 WHERE worker = $2 AND state IN ('enqueued', 'started')"
            }
            Dialect::Postgres => {
                "UPDATE jobs SET lease_until = $1 WHERE id IN (SELECT id FROM jobs WHERE worker = $2 \
                 AND state IN ('enqueued', 'started') FOR UPDATE SKIP LOCKED)"
            }
        };
        let done = sqlx::query(sql)
            .bind(now_ms() + lease.as_millis() as i64)
            .bind(worker)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Give back the jobs `worker` claimed but did not start (at shutdown):
    /// pending again, their try not counted. Returns how many.
    pub async fn release_unstarted(&self, worker: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = attempts - 1, lease_token = NULL, lease_until = NULL, \
             worker = NULL WHERE worker = $1 AND state = 'enqueued'",
        )
        .bind(worker)
        .execute(self.pool())
        .await?;
        if done.rows_affected() > 0 {
            self.wake_workers();
        }
        Ok(done.rows_affected())
    }

    /// Give back claimed jobs that did not start: `(id, token)`. Pending
    /// again, their try not counted.
    pub async fn release_claimed(&self, jobs: &[(i64, i64)]) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let released = self.queue.release_claimed(jobs).await?;
        self.wake_workers();
        Ok(released)
    }

    /// Write a running job's progress, if the claim `token` still holds it.
    pub async fn set_job_progress(
        &self,
        id: i64,
        token: i64,
        total: i64,
        done: i64,
    ) -> Result<bool> {
        let written = sqlx::query(
            "UPDATE jobs SET progress_total = $1, progress_done = $2 WHERE id = $3 AND lease_token = $4",
        )
        .bind(total)
        .bind(done)
        .bind(id)
        .bind(token)
        .execute(self.pool())
        .await?;
        Ok(written.rows_affected() > 0)
    }

    /// Backend instances whose jobs wait because their remote asked to:
    /// `(instance, until ms, reason)`.
    pub async fn snoozes(&self) -> Result<Vec<(String, i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT instance, snoozed_until, reason FROM snoozes WHERE snoozed_until > $1 ORDER BY instance",
        )
        .bind(now_ms())
        .fetch_all(self.pool())
        .await?)
    }
}
