//! Locks of `lock-or-retry`, in the database so that every worker process
//! sees them (two workers importing one record at once would both create it).

use super::{Store, now_ms};
use crate::error::Result;

impl Store {
    /// Take `key` for run `holder` (of job `job` = (id, claim token), if any)
    /// until `expires_at`; false if another live run holds it. A lock whose
    /// job lost its claim (its worker died and the job was rescued) or whose
    /// time ran out is taken over.
    pub async fn try_run_lock(
        &self,
        key: &str,
        holder: &str,
        job: Option<(i64, i64)>,
        expires_at: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO run_locks (lock_key, holder, job_id, lease_token, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder, job_id = excluded.job_id, \
             lease_token = excluded.lease_token, expires_at = excluded.expires_at \
             WHERE run_locks.holder = excluded.holder OR run_locks.expires_at < $6 \
             OR (run_locks.job_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = run_locks.job_id \
                 AND j.lease_token = run_locks.lease_token AND j.state IN ('enqueued', 'started'))) \
             RETURNING lock_key",
        )
        .bind(key)
        .bind(holder)
        .bind(job.map(|j| j.0))
        .bind(job.map(|j| j.1))
        .bind(expires_at)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.is_some())
    }

    /// Release every lock of run `holder`.
    pub async fn release_run_locks(&self, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM run_locks WHERE holder = $1")
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
