//! What every part of the steps' store shares: a step's status, the bound
//! on its warnings, and the lease check its writes make first.

use crate::error::{Error, Result};
use crate::store::Store;
use serde::Serialize;

/// Warnings kept per step; past it they are counted (`warnings_dropped`).
pub const MAX_STEP_WARNINGS: i64 = 10_000;

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Running (or its worker died: the next try resumes it).
    Started,
    /// Ran to its end.
    Completed,
    /// A call or a commit failed: the job's next try resumes it.
    Failed,
    /// Stopped by an operator at a chunk boundary.
    Stopped,
    /// Paused by an operator at a chunk boundary: resumed with the job.
    Paused,
}

impl StepStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Started => "started",
            StepStatus::Completed => "completed",
            StepStatus::Failed => "failed",
            StepStatus::Stopped => "stopped",
            StepStatus::Paused => "paused",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "started" => StepStatus::Started,
            "completed" => StepStatus::Completed,
            "failed" => StepStatus::Failed,
            "stopped" => StepStatus::Stopped,
            "paused" => StepStatus::Paused,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown step status `{other}` (started, completed, failed, stopped, paused)"
                )));
            }
        })
    }
}

/// The lease check every write of a running step makes first: the job is
/// still claimed under `token` (on PostgreSQL its row is locked until the
/// transaction ends, so a rescue waits for the commit instead of passing it).
pub(super) async fn holds_lease(
    store: &Store,
    tx: &mut crate::store::DbConn,
    job_id: i64,
    token: i64,
) -> Result<bool> {
    let lock = match store.dialect() {
        crate::store::Dialect::Postgres => " FOR UPDATE",
        crate::store::Dialect::Sqlite => "",
    };
    let held: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM jobs WHERE id = $1 AND lease_token = $2 AND state IN ('enqueued', 'started'){lock}"
    ))
    .bind(job_id)
    .bind(token)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(held.is_some())
}
