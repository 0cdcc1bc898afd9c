//! Checkpoints: records flagged for a person to review after an import.

use super::{Store, now_ms};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A record flagged for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Id.
    pub id: i64,
    /// Backend instance that flagged it.
    pub instance: String,
    /// Model of the record.
    pub model: String,
    /// The record.
    pub record_id: i64,
    /// Why it needs a look.
    pub message: String,
    /// Job that flagged it.
    pub job_id: Option<i64>,
    /// When, ms.
    pub created_at: i64,
}

impl Store {
    /// Flag a record for review.
    pub async fn add_checkpoint(
        &self,
        instance: &str,
        model: &str,
        record_id: i64,
        message: &str,
        job_id: Option<i64>,
    ) -> Result<i64> {
        let mut conn = self.pool().acquire().await?;
        Self::add_checkpoint_in(&mut conn, instance, model, record_id, message, job_id).await
    }

    /// [`Store::add_checkpoint`] on the caller's connection or transaction.
    pub(crate) async fn add_checkpoint_in(
        tx: &mut super::DbConn,
        instance: &str,
        model: &str,
        record_id: i64,
        message: &str,
        job_id: Option<i64>,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO checkpoints (instance, model, record_id, message, job_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(instance)
        .bind(model)
        .bind(record_id)
        .bind(message)
        .bind(job_id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?)
    }

    /// Open checkpoints, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let rows = sqlx::query(
            "SELECT id, instance, model, record_id, message, job_id, created_at FROM checkpoints ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Checkpoint {
                    id: r.try_get("id")?,
                    instance: r.try_get("instance")?,
                    model: r.try_get("model")?,
                    record_id: r.try_get("record_id")?,
                    message: r.try_get("message")?,
                    job_id: r.try_get("job_id")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Clear one checkpoint (or all with `None`); returns how many were cleared.
    pub async fn clear_checkpoints(&self, id: Option<i64>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM checkpoints WHERE ($1 IS NULL OR id = $1)")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
