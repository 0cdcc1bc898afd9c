//! The operators' overview through [`Admin`] (`GET /api/overview`, the
//! console's first page): what the queue holds, what it finished in the last
//! hour, what runs, what waits and what fails.

use super::Admin;
use super::types::{Snooze, StepInfo};
use crate::Ferry;
use crate::error::Result;
use crate::store::{JobFilter, JobRow, JobState, MinuteCount, StateCount, now_ms};
use serde::{Deserialize, Serialize};

/// Most running jobs and failing jobs the overview lists.
pub const OVERVIEW_JOBS: u32 = 50;

/// How far back the overview looks for jobs that failed, ms (a day).
pub const FAILED_WINDOW_MS: i64 = 24 * 3_600_000;

/// The state of the installation at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// When it was taken, ms.
    pub at: i64,
    /// Jobs per instance, channel and state.
    pub states: Vec<StateCount>,
    /// Jobs done and failed per minute over the last hour, oldest first.
    pub per_minute: Vec<MinuteCount>,
    /// Running jobs, newest first, with their progress and steps.
    pub running: Vec<RunningJob>,
    /// Backend instances whose remote asked to wait.
    pub snoozed: Vec<Snooze>,
    /// Failing jobs, newest first: failed in the last day, and pending ones
    /// retrying after an error (their `error` says why).
    pub failing: Vec<JobRow>,
}

/// A running job with its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningJob {
    /// The job.
    pub job: JobRow,
    /// Items done, when the job reports progress.
    pub done: Option<i64>,
    /// Items in all, when known.
    pub total: Option<i64>,
    /// Its steps, in order (empty for a plain job).
    pub steps: Vec<StepInfo>,
}

impl Admin {
    /// The state of the installation at a glance.
    pub async fn overview(&self) -> Result<Overview> {
        match self {
            Admin::Local(ferry) => overview(ferry).await,
            Admin::Remote(r) => r.get(&["api", "overview"]).await,
        }
    }
}

async fn overview(ferry: &Ferry) -> Result<Overview> {
    let store = ferry.store();
    let now = now_ms();
    let started = JobFilter {
        state: Some(JobState::Started),
        limit: OVERVIEW_JOBS,
        ..JobFilter::default()
    };
    let mut running = Vec::new();
    for job in store.list_jobs(&started).await? {
        let steps = store.job_steps(job.id).await?;
        running.push(RunningJob {
            done: job.progress_done,
            total: job.progress_total,
            job,
            steps,
        });
    }
    let snoozed = store
        .snoozes()
        .await?
        .into_iter()
        .map(|(instance, until, reason)| Snooze {
            instance,
            until,
            reason,
        })
        .collect();
    Ok(Overview {
        at: now,
        states: store.state_counts().await?,
        per_minute: store.finished_per_minute(now - 3_600_000, now).await?,
        running,
        snoozed,
        failing: store
            .failing_jobs(now - FAILED_WINDOW_MS, OVERVIEW_JOBS)
            .await?,
    })
}
