//! What is left in the queue and when it becomes runnable: what a worker
//! run `--until-idle` reports when it stops with work left.

use super::super::{Store, now_ms};
use crate::error::Result;
use serde::Serialize;

/// Jobs claimed by one worker, and when its lease on them ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldBy {
    /// The worker's name.
    pub worker: String,
    /// How many jobs it holds (claimed or running).
    pub jobs: i64,
    /// When its earliest lease expires unless renewed, ms (a live worker
    /// renews it; a dead worker's jobs are rescued after it).
    pub lease_until: Option<i64>,
}

/// The queue's jobs that are not finished and not runnable now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outlook {
    /// Pending jobs (waiting for their eta, a retry, a snooze or a dependency).
    pub pending: i64,
    /// Pending jobs that may run now.
    pub runnable: i64,
    /// When the next pending job becomes due (its eta or its instance's
    /// snooze end, whichever is later), ms.
    pub next_due: Option<i64>,
    /// Jobs held by workers, per worker.
    pub held: Vec<HeldBy>,
}

impl Outlook {
    /// Whether nothing is left at all.
    pub fn is_empty(&self) -> bool {
        self.pending == 0 && self.held.is_empty()
    }
}

impl Store {
    /// What is left in the queue now (see [`Outlook`]).
    pub async fn outlook(&self) -> Result<Outlook> {
        let now = now_ms();
        let (pending, runnable, next_due): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN due <= $1 THEN 1 ELSE 0 END), 0), MIN(due) FROM \
             (SELECT CASE WHEN s.snoozed_until > COALESCE(j.eta, 0) THEN s.snoozed_until \
              ELSE COALESCE(j.eta, 0) END AS due \
              FROM jobs j LEFT JOIN snoozes s ON s.instance = j.instance WHERE j.state = 'pending') AS p",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        let held: Vec<(Option<String>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT worker, COUNT(*), MIN(lease_until) FROM jobs WHERE state IN ('enqueued', 'started') \
             GROUP BY worker ORDER BY worker",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(Outlook {
            pending,
            runnable,
            next_due,
            held: held
                .into_iter()
                .map(|(worker, jobs, lease_until)| HeldBy {
                    worker: worker.unwrap_or_else(|| "unknown".into()),
                    jobs,
                    lease_until,
                })
                .collect(),
        })
    }
}
