//! The operators' overview through [`Admin`] (`GET /api/overview`, the
//! console's first page): what the queue holds, what it finished in the last
//! hour, what runs, what waits and what fails.

use super::Admin;
use super::types::Snooze;
use super::views::{FAILED_WINDOW_MS, OVERVIEW_JOBS, Overview, RunningJob};
use crate::Ferry;
use crate::error::Result;
use crate::store::{JobFilter, JobState, now_ms};

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
        states: store.state_counts(now - FAILED_WINDOW_MS).await?,
        per_minute: store.finished_per_minute(now - 3_600_000, now).await?,
        running,
        snoozed,
        failing: store
            .failing_jobs(now - FAILED_WINDOW_MS, OVERVIEW_JOBS)
            .await?,
    })
}
