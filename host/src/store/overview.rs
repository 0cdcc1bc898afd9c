//! The queries behind the operators' overview (`GET /api/overview`, the
//! console's first page): jobs by state per instance and channel, jobs
//! finished per minute, and the jobs that are failing.

use super::jobs::{JOB_COLUMNS, job};
use super::{JobRow, JobState, Store};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// How many jobs of one instance and channel are in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    /// Backend instance.
    pub instance: String,
    /// Channel.
    pub channel: String,
    /// State.
    pub state: JobState,
    /// How many jobs.
    pub count: i64,
}

/// How many jobs finished in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteCount {
    /// Start of the minute, ms since the epoch.
    pub minute: i64,
    /// Jobs done in it.
    pub done: i64,
    /// Jobs failed (for good) in it.
    pub failed: i64,
}

impl Store {
    /// How many jobs there are per instance, channel and state: every
    /// queued or running one, and those that finished (done, failed,
    /// cancelled) at or after `finished_since` (ms). Both counts read only
    /// indexes (`jobs_state_instance`, `jobs_finished_at`): at a million jobs,
    /// counting every finished one ever would read them all.
    pub async fn state_counts(&self, finished_since: i64) -> Result<Vec<StateCount>> {
        let rows = sqlx::query(
            "SELECT instance, channel, state, COUNT(*) AS n FROM jobs \
             WHERE state IN ('pending', 'enqueued', 'started', 'paused') \
             GROUP BY instance, channel, state \
             UNION ALL SELECT instance, channel, state, COUNT(*) AS n FROM jobs \
             WHERE finished_at >= $1 AND state IN ('done', 'failed', 'cancelled') \
             GROUP BY instance, channel, state ORDER BY 1, 2, 3",
        )
        .bind(finished_since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StateCount {
                    instance: r.try_get("instance")?,
                    channel: r.try_get("channel")?,
                    state: JobState::parse(&r.try_get::<String, _>("state")?)?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Jobs done and failed per minute from `from` (ms) to `to`, one entry
    /// per minute, minutes without any included (a chart's x axis).
    pub async fn finished_per_minute(&self, from: i64, to: i64) -> Result<Vec<MinuteCount>> {
        let first = from - from.rem_euclid(60_000);
        let rows = sqlx::query(
            "SELECT (finished_at - $1) / 60000 AS slot, state, COUNT(*) AS n FROM jobs \
             WHERE finished_at >= $1 AND finished_at < $2 AND state IN ('done', 'failed') \
             GROUP BY slot, state",
        )
        .bind(first)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        let slots = usize::try_from((to - first).max(0) / 60_000 + 1).unwrap_or(0);
        let mut minutes: Vec<MinuteCount> = (0..slots)
            .map(|i| MinuteCount {
                minute: first + i as i64 * 60_000,
                done: 0,
                failed: 0,
            })
            .collect();
        for r in &rows {
            let slot: i64 = r.try_get("slot")?;
            let state: String = r.try_get("state")?;
            let n: i64 = r.try_get("n")?;
            if let Some(m) = usize::try_from(slot).ok().and_then(|s| minutes.get_mut(s)) {
                if state == "done" {
                    m.done += n;
                } else {
                    m.failed += n;
                }
            }
        }
        Ok(minutes)
    }

    /// Jobs that are failing, newest first: failed for good since `since`
    /// (ms), and pending ones waiting to retry after an error.
    pub async fn failing_jobs(&self, since: i64, limit: u32) -> Result<Vec<JobRow>> {
        // Each part walks its state's index newest first and stops at the
        // limit: at a million jobs, neither reads more than it returns.
        let rows = sqlx::query(&format!(
            "SELECT * FROM (SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'failed' AND finished_at >= $1 \
             ORDER BY id DESC LIMIT $2) AS f UNION ALL SELECT * FROM (SELECT {JOB_COLUMNS} FROM jobs \
             WHERE state = 'pending' AND error IS NOT NULL ORDER BY id DESC LIMIT $2) AS p \
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job).collect()
    }
}
