//! Steps of jobs (contract 0.2): one row per step of a job, kept across the
//! job's tries, and the warnings of its item steps. A new try skips the
//! completed steps and resumes an item step from the position its last
//! committed chunk stored (see `commit.rs`: a chunk's writes, position,
//! counts and warnings commit together, fenced by the job's lease).

mod commit;
mod operators;
mod status;

pub use commit::{ChunkCommit, LocalWrite, RecordChange};
pub use operators::Halt;
use status::holds_lease;
pub use status::{MAX_STEP_WARNINGS, StepStatus};

use super::{CursorWrite, Store, now_ms};
use crate::error::Result;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

/// A step of a job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StepRow {
    /// The job.
    pub job_id: i64,
    /// The step's name.
    pub step: String,
    /// Its place in the job, from 0.
    pub ordinal: i64,
    /// `tasklet` or `items`.
    pub kind: String,
    /// Where it is.
    pub status: StepStatus,
    /// First started, ms.
    pub started_at: Option<i64>,
    /// Ended (completed, failed, stopped, paused), ms.
    pub ended_at: Option<i64>,
    /// Chunks committed.
    pub chunks: i64,
    /// The reader's position after the last committed chunk.
    pub position: Option<Value>,
    /// Items read.
    pub read: i64,
    /// Items written.
    pub written: i64,
    /// Items the processor filtered out (no warning).
    pub filtered: i64,
    /// Items skipped: invalid, or refused by the writer (each a warning).
    pub skipped: i64,
    /// Warnings past [`MAX_STEP_WARNINGS`]: counted, not kept.
    pub warnings_dropped: i64,
    /// A tasklet's result.
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// An item a step did not write, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StepWarning {
    /// Id.
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// The step.
    pub step: String,
    /// The chunk it was in, from 0.
    pub chunk: i64,
    /// The item (or its id).
    pub item: Value,
    /// Why it was not written.
    pub reason: String,
    /// When, ms.
    pub created_at: i64,
}

const STEP_COLUMNS: &str = "job_id, step, ordinal, kind, status, started_at, ended_at, chunks, position, \
     read_count, written_count, filtered_count, skipped_count, warnings_dropped, result, error";

fn json_column(text: Option<String>) -> Option<Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

fn step_row(row: &super::DbRow) -> Result<StepRow> {
    Ok(StepRow {
        job_id: row.try_get("job_id")?,
        step: row.try_get("step")?,
        ordinal: row.try_get("ordinal")?,
        kind: row.try_get("kind")?,
        status: StepStatus::parse(&row.try_get::<String, _>("status")?)?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        chunks: row.try_get("chunks")?,
        position: json_column(row.try_get("position")?),
        read: row.try_get("read_count")?,
        written: row.try_get("written_count")?,
        filtered: row.try_get("filtered_count")?,
        skipped: row.try_get("skipped_count")?,
        warnings_dropped: row.try_get("warnings_dropped")?,
        result: json_column(row.try_get("result")?),
        error: row.try_get("error")?,
    })
}

impl Store {
    /// The steps of a job run so far, in order.
    pub async fn job_steps(&self, job_id: i64) -> Result<Vec<StepRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {STEP_COLUMNS} FROM job_steps WHERE job_id = $1 ORDER BY ordinal"
        ))
        .bind(job_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(step_row).collect()
    }

    /// The warnings of a job's steps, oldest first, at most `limit`.
    pub async fn step_warnings(&self, job_id: i64, limit: u32) -> Result<Vec<StepWarning>> {
        let rows = sqlx::query(
            "SELECT id, job_id, step, chunk, item, reason, created_at FROM step_warnings \
             WHERE job_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(job_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StepWarning {
                    id: r.try_get("id")?,
                    job_id: r.try_get("job_id")?,
                    step: r.try_get("step")?,
                    chunk: r.try_get("chunk")?,
                    item: json_column(r.try_get("item")?).unwrap_or(Value::Null),
                    reason: r.try_get("reason")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// How many warnings a job's steps have: kept, and counted past the bound.
    pub async fn count_step_warnings(&self, job_id: i64) -> Result<(i64, i64)> {
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM step_warnings WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(self.pool())
            .await?;
        let dropped: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(warnings_dropped) AS BIGINT) FROM job_steps WHERE job_id = $1",
        )
        .bind(job_id)
        .fetch_one(self.pool())
        .await?;
        Ok((kept, dropped.unwrap_or(0)))
    }

    /// Start (or resume) step `step` of a running job under its claim
    /// `token`: a new row, or the stored one back to `started` unless it is
    /// completed. Returns the row (a completed one: the caller skips it), or
    /// none when the claim's lease was lost.
    pub async fn begin_step(
        &self,
        job_id: i64,
        token: i64,
        step: &str,
        ordinal: i64,
        kind: &str,
    ) -> Result<Option<StepRow>> {
        let mut tx = self.begin_write().await?;
        if !holds_lease(self, &mut tx, job_id, token).await? {
            return Ok(None);
        }
        let found = sqlx::query(&format!(
            "SELECT {STEP_COLUMNS} FROM job_steps WHERE job_id = $1 AND step = $2"
        ))
        .bind(job_id)
        .bind(step)
        .fetch_optional(&mut *tx)
        .await?;
        match found.as_ref().map(step_row).transpose()? {
            None => {
                sqlx::query(
                    "INSERT INTO job_steps (job_id, step, ordinal, kind, status, started_at) \
                     VALUES ($1, $2, $3, $4, 'started', $5)",
                )
                .bind(job_id)
                .bind(step)
                .bind(ordinal)
                .bind(kind)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            }
            Some(row) if row.status == StepStatus::Completed => {
                tx.commit().await?;
                return Ok(Some(row));
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE job_steps SET status = 'started', ended_at = NULL, error = NULL \
                     WHERE job_id = $1 AND step = $2",
                )
                .bind(job_id)
                .bind(step)
                .execute(&mut *tx)
                .await?;
            }
        }
        let row = sqlx::query(&format!(
            "SELECT {STEP_COLUMNS} FROM job_steps WHERE job_id = $1 AND step = $2"
        ))
        .bind(job_id)
        .bind(step)
        .fetch_one(&mut *tx)
        .await?;
        let row = step_row(&row)?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// End a step of a running job (completed with a tasklet's `result` and
    /// the cursors it set, or failed with `error`), if the claim `token`
    /// still holds the job.
    #[allow(clippy::too_many_arguments)] // one row's columns
    pub async fn end_step(
        &self,
        job_id: i64,
        token: i64,
        step: &str,
        status: StepStatus,
        result: Option<&str>,
        error: Option<&str>,
        cursors: &[CursorWrite],
        messages: &[crate::store::OutboxWrite],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if !holds_lease(self, &mut tx, job_id, token).await? {
            return Ok(false);
        }
        Store::set_cursors_in(&mut tx, cursors, job_id).await?;
        Store::add_outbox_in(&mut tx, messages, Some(job_id)).await?;
        sqlx::query(
            "UPDATE job_steps SET status = $1, ended_at = $2, result = COALESCE($3, result), error = $4 \
             WHERE job_id = $5 AND step = $6",
        )
        .bind(status.as_str())
        .bind(now_ms())
        .bind(result)
        .bind(error)
        .bind(job_id)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
