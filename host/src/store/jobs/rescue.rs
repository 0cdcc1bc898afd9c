//! Rescue: jobs whose worker stopped (its lease expired) go back to the queue,
//! with their try counted only if they had started.

use super::super::{Store, now_ms};
use super::{FailedTry, JobState, LogLine, Recorded};
use crate::error::Result;
use crate::queue::policy::Rescue;

/// A claim whose lease expired: id, token, state, attempts, max retries,
/// lost claims, worker.
type Expired = (i64, i64, String, i64, i64, i64, Option<String>);

impl Store {
    /// Put back jobs whose lease expired (their worker died or lost the
    /// database). A job that had started has lost its try: pending again,
    /// counted, or failed if it was its last. A job only claimed (`enqueued`)
    /// never ran: pending again with its try given back, up to
    /// [`MAX_FREE_LOST_CLAIMS`](crate::queue::policy::MAX_FREE_LOST_CLAIMS) times (a job that brings its worker down
    /// before its start is recorded must not loop for ever). Each says so in
    /// its log. Returns how many were rescued.
    pub async fn rescue_expired(&self) -> Result<u64> {
        let now = now_ms();
        let expired: Vec<Expired> = sqlx::query_as(
            "SELECT id, COALESCE(lease_token, 0), state, attempts, max_retries, lost_claims, worker FROM jobs \
             WHERE state IN ('enqueued', 'started') AND (lease_until IS NULL OR lease_until < $1)",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut rescued = 0;
        for (id, token, state, attempts, max_retries, lost_claims, worker) in expired {
            if token == 0 {
                // Claimed before leases existed: give it a token to fence on.
                sqlx::query(
                    "UPDATE jobs SET lease_token = -1 WHERE id = $1 AND lease_token IS NULL",
                )
                .bind(id)
                .execute(self.pool())
                .await?;
            }
            let token = if token == 0 { -1 } else { token };
            let worker = worker.as_deref().unwrap_or("unknown");
            let started = state == JobState::Started.as_str();
            let (error, retry) =
                match Rescue::decide(worker, started, attempts, max_retries, lost_claims) {
                    Rescue::PutBack => {
                        if self.put_back_unstarted(id, token, worker, attempts).await? {
                            rescued += 1;
                        }
                        continue;
                    }
                    Rescue::TryLost { error, retry } => (error, retry),
                };
            let log = LogLine {
                attempt: attempts,
                at: now,
                level: "warn".into(),
                module: "host".into(),
                message: error.clone(),
            };
            let failed = FailedTry {
                id,
                token,
                error,
                kind: crate::error::FailureKind::Retryable,
                retry_at: retry.then(now_ms),
                count_try: true,
                snooze_until: None,
                module: None,
                started_at: None,
            };
            if matches!(
                self.record_failure(&failed, &[log]).await?,
                Recorded::Now(_)
            ) {
                rescued += 1;
            }
        }
        self.metrics.rescued(rescued);
        Ok(rescued)
    }

    /// Put back a job claimed by a worker that stopped before starting it:
    /// pending, its try given back, saying so in its log. False when another
    /// process got to it first.
    async fn put_back_unstarted(
        &self,
        id: i64,
        token: i64,
        worker: &str,
        attempts: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = attempts - 1, lost_claims = lost_claims + 1, \
             lease_token = NULL, lease_until = NULL, worker = NULL \
             WHERE id = $1 AND lease_token = $2 AND state = 'enqueued'",
        )
        .bind(id)
        .bind(token)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.commit().await?;
            return Ok(false);
        }
        let log = LogLine {
            attempt: attempts,
            at: now_ms(),
            level: "warn".into(),
            module: "host".into(),
            message: Rescue::put_back_note(worker),
        };
        Self::insert_logs(self.dialect(), &mut tx, &[(id, log)]).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(true)
    }
}
